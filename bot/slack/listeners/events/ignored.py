"""Events the hub has no use for. Message events that are not replies: edits
(message_changed), deletions (message_deleted), bot messages, joins and the like. They change
nothing: an edit is not new activity and is not mirrored again, and a deletion does not remove
activity already recorded. And events of a type the manifest does not subscribe to (an app
whose subscriptions were changed by hand): acknowledged all the same, so that Slack neither
retries them nor counts them as failures, and said once per type in the log."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

_told: set[str] = set()  # event types said in the log already


def ignore_message(event: dict) -> None:
    """Bolt has already acknowledged the event; there is nothing to do."""


def ignore_event(event: dict) -> None:
    """Bolt has already acknowledged the event; say its type once, for whoever subscribed to it."""
    kind = str(event.get("type"))[:100]
    if kind not in _told and len(_told) < 100:
        _told.add(kind)
        log.warning("events of type %r have no use here: acknowledged and ignored (manifest.json does not subscribe to them)", kind)
