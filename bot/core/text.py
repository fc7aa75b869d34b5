"""Text people typed, made safe to store: every path that keeps user text calls `clean` first.

Postgres refuses a NUL character in text, and neither database can store half of a UTF-16
surrogate pair (JSON can carry one, `"\\ud800"`); both would fail the whole transaction after
the form had closed. Other control characters are invisible in Slack and only confuse the
people who read the text later, so they go too. Newlines and tabs stay; every kind of line
break becomes "\\n".
"""

from __future__ import annotations

import re

# \r\n first, so that it becomes one newline and not two.
_LINE_BREAKS = re.compile("\r\n|[\r\x85\u2028\u2029]")
# C0 controls but tab and newline, DEL, C1 controls, and lone surrogates.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str) -> str:
    return _UNWANTED.sub("", _LINE_BREAKS.sub("\n", text))
