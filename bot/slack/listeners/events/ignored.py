"""Message events that are not replies: edits (message_changed), deletions (message_deleted),
bot messages, joins and the like. They change nothing: an edit is not new activity and is not
mirrored again, and a deletion does not remove activity already recorded."""

from __future__ import annotations


def ignore_message(event: dict) -> None:
    """Bolt has already acknowledged the event; there is nothing to do."""
