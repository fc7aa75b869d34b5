"""The copy of a function channel's thread reply that goes into the hub thread (pure).

"*Author Name* in #it: …" (the name, not a mention, so nobody is notified of their own
reply being copied): the reply is user text, escaped so that `<!channel>`, a mention or a
fake link it carries stays text, and shortened to Block Kit's section limit. A shortened
reply, or one that shares files (which are not copied), links to the original.

A reply that may not be copied (bot.core.audience) is replaced by a line that says only which
function replied in its own channel and why the words stay there.
"""

from __future__ import annotations

from typing import Any

from bot.core.audience import Barrier
from bot.slack import blocks as bk


def _head(author: str, channel_id: str) -> str:
    # A display name is user text too.
    return f"*{bk.user_text(author, 80)}* in {bk.channel_link(channel_id)}: "


def is_shortened(author: str, channel_id: str, text: str) -> bool:
    """Whether the reply does not fit in the mirror as it is (then it needs a permalink)."""
    return len(bk.escape(text)) > bk.SECTION_TEXT_LIMIT - len(_head(author, channel_id))


def needs_permalink(author: str, channel_id: str, text: str, files: int = 0) -> bool:
    return bool(files) or is_shortened(author, channel_id, text)


def mirror_message(
    author: str, channel_id: str, text: str, *, permalink: str | None = None, files: int = 0
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of the mirror of `author`'s reply in `channel_id`."""
    head = _head(author, channel_id)
    body = bk.user_text(text, bk.SECTION_TEXT_LIMIT - len(head)) if text.strip() else "_(no text)_"
    blocks: list[dict[str, Any]] = [bk.section(head + body)]
    notes = []
    if files:
        notes.append(f":paperclip: {files} file{'s' if files > 1 else ''} shared in the original")
    if permalink:
        label = "Read the whole reply" if is_shortened(author, channel_id, text) else "Open the original"
        # Slack reads `&`, `<` and `>` as entities inside links too (a permalink carries `&cid=`).
        notes.append(f"<{bk.escape(permalink)}|{label}>")
    if notes:
        blocks.append(bk.context(" · ".join(notes)))
    fallback = head + bk.user_text(text, bk.FALLBACK_TEXT_LIMIT - len(head))
    return fallback, blocks


# Why a reply is not copied (bot.core.audience.Barrier), in words for the hub thread.
BARRIER_WORDS = {
    Barrier.PRIVATE.value: "their channel is private",
    Barrier.SHARED_SOURCE.value: "their channel is shared with another organisation",
    Barrier.SHARED_TARGET.value: "this channel is shared with another organisation",
}


def reply_elsewhere(function_name: str, barrier: str) -> str:
    """The line said in place of a reply whose words may not be copied: no author, no words."""
    why = BARRIER_WORDS.get(barrier, "its channel is not one everyone here can read")
    return f":speech_balloon: *{bk.user_text(function_name, 80)}* replied in their channel; the reply is not copied here: {why}."
