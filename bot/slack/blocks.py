"""Pure Block Kit builders. Nothing here calls Slack.

User text is untrusted: it is escaped (`&`, `<`, `>`) so that `<!channel>`, `<@U…>` or a
`<https://…|fake>` link typed by someone renders as text, and it goes into `verbatim` mrkdwn
so Slack does not turn bare names or URLs into mentions or links. The hub never sets
`link_names`. Text is shortened to Block Kit's limits instead of being rejected by Slack.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.config import CHANNEL_ID
from bot.core.people import ERASED

SECTION_TEXT_LIMIT = 3000
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
MODAL_TITLE_LIMIT = 24
BUTTON_TEXT_LIMIT = 75
OPTION_TEXT_LIMIT = 75
CONTEXT_ELEMENT_LIMIT = 10
FALLBACK_TEXT_LIMIT = 3000

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user_text(text: str, limit: int = SECTION_TEXT_LIMIT) -> str:
    """Escape first, then shorten, so the limit holds for what Slack counts."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    # Never leave half an entity such as "&am" at the cut.
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def person(user_id: str | None, *, nobody: str = "_a former colleague_") -> str:
    """A mention; `nobody` for someone whose data the hub erased (`cdo-hub privacy forget`)."""
    return mention(user_id) if user_id and user_id != ERASED else nobody


def channel_link(channel_id: str) -> str:
    return f"<#{channel_id}>"


def channel_ref(name_or_id: str) -> str:
    """A channel as the configuration names it: a link for an ID, else its name as text."""
    if CHANNEL_ID.match(name_or_id):
        return channel_link(name_or_id)
    return user_text(name_or_id, 80)


def link(url: str, label: str) -> str:
    """A link whose label may be user text: escaped so it cannot break out of the link."""
    return f"<{url}|{user_text(label, 500).replace('|', '¦')}>"


# --- elements ------------------------------------------------------------------------------


def mrkdwn(text: str, *, verbatim: bool = True) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": shorten(text, SECTION_TEXT_LIMIT), "verbatim": verbatim}


def plain(text: str, limit: int = SECTION_TEXT_LIMIT) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, limit) or " ", "emoji": True}


def section(text: str, *, accessory: dict | None = None, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": mrkdwn(text)}
    if accessory:
        block["accessory"] = accessory
    if block_id:
        block["block_id"] = block_id
    return block


def fields_section(pairs: Iterable[str]) -> dict[str, Any]:
    """A section of up to ten short fields (Block Kit's limit), each shortened to 2000."""
    return {"type": "section", "fields": [mrkdwn(shorten(text, 2000)) for text in list(pairs)[:10]]}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text, 150)}


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(shorten(t, 2000)) for t in texts[:CONTEXT_ELEMENT_LIMIT]]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str | None = None, *, url: str | None = None, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text, BUTTON_TEXT_LIMIT), "action_id": action_id}
    if value is not None:
        element["value"] = shorten(value, 2000)
    if url:
        element["url"] = url
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, OPTION_TEXT_LIMIT), "value": value}


def fit_message(blocks: list[dict[str, Any]], more: str = "More in the hub") -> list[dict[str, Any]]:
    """Keep a message within 50 blocks, saying that something was left out."""
    if len(blocks) <= MESSAGE_BLOCK_LIMIT:
        return blocks
    return blocks[: MESSAGE_BLOCK_LIMIT - 1] + [context(f"_{more}: {len(blocks) - MESSAGE_BLOCK_LIMIT + 1} more not shown._")]


# --- help ----------------------------------------------------------------------------------


def help_blocks(
    command: str, usages: Iterable[tuple[str, str]], *, unknown: str | None = None, functions: Iterable[str] = ()
) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if unknown:
        blocks.append(section(f":warning: `{user_text(unknown, 100)}` is not something I know. Here is what I can do:"))
    blocks.append(
        section(
            "*CDO Hub* brings Marketing, IT, HR and the business units together on digital "
            "transformation: propose an initiative, and I route it to every function that must "
            "collaborate, keep one shared discussion, track who promised what to whom, and nudge "
            "the pairs of functions that stall."
        )
    )
    lines = "\n".join(f"`{command} {usage}` — {what}" for usage, what in usages)
    blocks.append(section(lines))
    names = ", ".join(functions)
    if names:
        blocks.append(context(f"Functions in this workspace: {user_text(names, 1500)}"))
    return blocks


def help_text(command: str) -> str:
    return f"CDO Hub: try `{command} propose`, `{command} list` or `{command} help`."
