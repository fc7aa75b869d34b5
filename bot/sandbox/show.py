"""A Slack message as the emulator stored it (text and Block Kit blocks), as plain lines a
person reads in a terminal.

Mentions become names (`<@U0CMO>` → `@Marc Lefevre (CMO)`), channel links `#names`, links
their labels; bold, italics and strikes lose their marks, `&amp;` `&lt;` `&gt;` are
unescaped and the hub's emoji codes become emoji. Blocks become short lines: a header, a
section's text and fields, a context line, and a row of buttons like `[ Commit ]`.
Pure: who and what the IDs are comes in as `Names`.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Names:
    users: Mapping[str, str] = field(default_factory=dict)  # user ID → how to call them
    channels: Mapping[str, str] = field(default_factory=dict)  # channel ID → name, without '#'

    def user(self, user_id: str) -> str:
        return self.users.get(user_id, user_id)

    def channel(self, channel_id: str) -> str:
        return "#" + self.channels.get(channel_id, channel_id).lstrip("#")


# The emoji the hub writes; any other code stays as written.
EMOJI = {
    "arrows_counterclockwise": "🔄",
    "calendar": "📅",
    "handshake": "🤝",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "large_green_circle": "🟢",
    "link": "🔗",
    "no_entry": "⛔",
    "paperclip": "📎",
    "red_circle": "🔴",
    "repeat": "🔁",
    "rocket": "🚀",
    "rotating_light": "🚨",
    "seedling": "🌱",
    "speech_balloon": "💬",
    "warning": "⚠️",
    "wastebasket": "🗑️",
    "wave": "👋",
    "white_check_mark": "✅",
    "x": "❌",
    "zzz": "💤",
}

_ENTITY = re.compile(r"<([^<>\n]+)>")
_HELD = re.compile(r"\x00(\d+)\x00")
_EMOJI_CODE = re.compile(r":([a-z0-9_+\-]+):")
_ESCAPES = re.compile(r"&(amp|lt|gt);")
# *bold*, _italic_, ~strike~: a mark that opens after a non-word character and closes
# before one, around text that neither starts nor ends with a space (Slack's own rule).
_MARKS = [re.compile(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]*?\S){m}(?![\w{m}])") for m in (r"\*", "_", "~")]
_QUOTE = re.compile(r"^>\s?", re.MULTILINE)


def _unescape(text: str) -> str:
    return _ESCAPES.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def _emoji(text: str) -> str:
    return _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _entity(inner: str, names: Names) -> str:
    target, _, label = inner.partition("|")
    label = _unescape(label)
    if target.startswith("@"):
        return "@" + (names.users.get(target[1:]) or label.lstrip("@") or target[1:])
    if target.startswith("#"):
        channel_id = target[1:]
        return names.channel(channel_id) if channel_id in names.channels or not label else "#" + label.lstrip("#")
    if target.startswith("!"):
        word = target[1:].split("^")[0]
        if word in ("here", "channel", "everyone"):
            return "@" + word
        return label or "@" + word  # a user group's @handle, a date's fallback text
    return label or _unescape(target).removeprefix("mailto:")


def plain(text: str, names: Names) -> str:
    """One mrkdwn text as plain text (several lines stay several lines)."""
    held: list[str] = []

    def hold(match: re.Match[str]) -> str:
        held.append(_entity(match.group(1), names))
        return f"\x00{len(held) - 1}\x00"

    # Entities are set aside first, so marks around them pair up and names stay as they are.
    out = _QUOTE.sub("> ", _ENTITY.sub(hold, text))  # a quote is a raw '>', never '&gt;'
    for mark in _MARKS:
        out = mark.sub(r"\1", out)
    out = _emoji(_unescape(out))
    return _HELD.sub(lambda m: held[int(m.group(1))], out)


def _text(obj: Any, names: Names) -> str:
    """A text object: mrkdwn is rendered, plain_text only has its emoji codes."""
    if not isinstance(obj, Mapping):
        return ""
    raw = str(obj.get("text", ""))
    return plain(raw, names) if obj.get("type") == "mrkdwn" else _emoji(raw)


def _field(obj: Any, names: Names) -> str:
    # A field is usually "*Label*\nvalue": shown as "Label: value".
    first, *rest = _text(obj, names).splitlines() or [""]
    return f"{first}: {' '.join(rest)}" if rest else first


def _element(element: Mapping[str, Any], names: Names) -> str:
    kind = element.get("type")
    if kind == "overflow":
        return "[ ⋯ ]"
    label = _text(element.get("text") or element.get("placeholder"), names) or element.get("initial_date") or kind
    return f"[ {label} ▾ ]" if str(kind).endswith("select") else f"[ {label} ]"


def block_lines(block: Mapping[str, Any], names: Names) -> list[tuple[str, bool]]:
    """One block's lines, each with whether it may be wrapped (rows of buttons may not)."""
    kind = block.get("type")
    if kind == "header":
        return [(_text(block.get("text"), names), True)]
    if kind == "section":
        lines = [(line, True) for line in _text(block.get("text"), names).splitlines()]
        lines += [(_field(f, names), True) for f in block.get("fields", [])]
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping) and accessory.get("type") != "image":
            lines.append((_element(accessory, names), False))
        return lines
    if kind == "context":
        parts = [_text(e, names) for e in block.get("elements", []) if e.get("type") != "image"]
        return [("  ".join(p for p in parts if p), True)]
    if kind == "actions":
        return [("  ".join(_element(e, names) for e in block.get("elements", [])), False)]
    if kind == "image":
        return [(f"[image: {block.get('alt_text', '')}]", True)]
    if "text" in block:
        return [(_text(block["text"], names), True)]
    return []  # a divider, rich text (the message's text says the same), nothing to read


def message_lines(
    text: str, blocks: Sequence[Mapping[str, Any]] | None, names: Names, *, indent: str = "  ", width: int | None = 100
) -> list[str]:
    """A message as indented lines: its blocks when it has any (its text is then only the
    notification's fallback), else its text."""
    lines: list[tuple[str, bool]] = [line for block in blocks or () for line in block_lines(block, names)]
    if not any(line.strip() for line, _ in lines):  # no blocks, or none a reader needs
        lines = [(line, True) for line in plain(text, names).splitlines()]
    out: list[str] = []
    for line, wrappable in lines:
        if not line.strip():
            continue
        if width and wrappable and len(indent + line) > width:
            out += textwrap.wrap(line, width, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False)
        else:
            out.append(indent + line)
    return out
