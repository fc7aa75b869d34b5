"""A message event that may be a person's reply in a thread, and the reply read from it. Replies
are kept and handed to `bot.app.discuss` before Bolt's listeners (bot/slack/inbox.py; see
`discuss` for what counts as activity and what is mirrored).

Bot messages never count and are never mirrored: subtype `bot_message`, any `bot_id`, or the
hub's own bot user. Replies are taken before Bolt's middleware runs (its ignoring_self_events
would drop the hub's own messages): the check here is what keeps a mirror from being mirrored.
"""

from __future__ import annotations

from typing import Any

from bot.app import discuss

# Subtypes a person's reply may carry.
REPLY_SUBTYPES = (None, "thread_broadcast", "file_share")


def is_person_reply(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A reply in a thread, written by a person (not a bot, not the hub itself)."""
    user = event.get("user")
    thread_ts = event.get("thread_ts")
    return (
        event.get("type") == "message"
        and event.get("subtype") in REPLY_SUBTYPES
        and not event.get("bot_id")
        and not event.get("bot_profile")
        and bool(user)
        and user != bot_user_id
        and bool(thread_ts)
        and thread_ts != event.get("ts")  # the thread's parent message itself
    )


def read_reply(event: dict[str, Any], event_id: str | None) -> discuss.Reply:
    return discuss.Reply(
        event_id=event_id or f"{event['channel']}:{event['ts']}",
        channel=event["channel"],
        thread_ts=event["thread_ts"],
        ts=event["ts"],
        user=event["user"],
        text=event.get("text") or "",
        files=len(event.get("files") or []),
    )
