"""Events the hub has no use for. Message events that are not replies: edits
(message_changed), deletions (message_deleted), bot messages, joins and the like. They change
nothing: an edit is not new activity and is not mirrored again, and a deletion does not remove
activity already recorded. And events of a type the manifest does not subscribe to (an app
whose subscriptions were changed by hand): acknowledged all the same, so that Slack neither
retries them nor counts them as failures, and said once per type in the log."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

NAMED_AT_MOST = 100  # event types named in the log; beyond them, one line says more came
_told: set[str] = set()  # event types said in the log already
_telling = threading.Lock()


def ignore_message(event: dict) -> None:
    """Bolt has already acknowledged the event; there is nothing to do."""


def ignore_event(event: dict) -> None:
    """Bolt has already acknowledged the event; say its type once, for whoever subscribed to it."""
    kind = str(event.get("type"))[:100]
    with _telling:
        if kind in _told or len(_told) > NAMED_AT_MOST:
            return
        _told.add(kind)
        named = len(_told) <= NAMED_AT_MOST
    if named:
        log.warning("events of type %r have no use here: acknowledged and ignored (manifest.json does not subscribe to them)", kind)
    else:
        log.warning("events of %d types or more have no use here: acknowledged and ignored, and no longer named", NAMED_AT_MOST + 1)
