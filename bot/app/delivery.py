"""Sending what sweeps claimed: one message per place, paced per channel, and no database
lock held while Slack is called.

A pass (`deliver`) takes the claimed nudges whose moment has come and groups them by place:
- every pair nudge of one initiative: one message in its hub thread, naming each pair and
  mentioning its leads (only leads in their working hours: the others' nudges wait for theirs);
- an executive's escalations: one DM; a digest: a DM of its own, which waits for the next pass
  when the person gets escalations in this one (one nudge DM per person per pass).

Places are served in turns per channel (the port's `turns`: Slack takes about a message a
second in a channel): the hub channel's threads one after another, each DM in a channel of its
own, interleaved so that a busy channel holds up no other. A pass lasts at most SEND_SECONDS;
what gets no turn in it stays claimed and due for the next pass (each sweep ends with one, and
`serve` runs one every few seconds, bot/app/upkeep.py). A 429 gives the place back to its
queue, and its channel alone waits out Retry-After.

How one message is checked, leased, posted and recorded: bot/app/nudge_message.py.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.app.hub import Hub
from bot.app.nudge_message import send
from bot.app.people import ZoneBook
from bot.app.port import InstallBroken
from bot.app.sweep_report import Line, SweepReport
from bot.core import nudge_claims as claims
from bot.core import nudges

__all__ = ["SEND_SECONDS", "Line", "Place", "SweepReport", "deliver", "places", "send_due"]

log = logging.getLogger(__name__)

SEND_SECONDS = 10.0  # one pass; serve's next one comes 15 s later (bot.scheduler)


@dataclass(frozen=True)
class Place:
    """Where one message goes: an initiative's hub thread, or a person's DM."""

    channel: str  # the channel whose turn it takes: the hub channel, or the person of a DM
    kind: str
    initiative_id: int | None = None  # a thread's initiative
    ids: tuple[int, ...] = ()  # a digest's nudge


def places(due: Sequence[claims.Pending]) -> list[Place]:
    """The messages these due nudges make, oldest first: one per thread, one DM per person."""
    found: dict[tuple[str, Any], Place] = {}
    escalated = {item.channel for item in due if item.kind == claims.EXECUTIVE}
    for item in due:
        channel = item.channel or ""
        if item.kind == claims.PAIR and item.initiative_id is None:  # no thread to share: alone
            found.setdefault(("nudge", item.id), Place(channel, claims.PAIR, ids=(item.id,)))
        elif item.kind == claims.PAIR:
            found.setdefault(("thread", item.initiative_id), Place(channel, claims.PAIR, initiative_id=item.initiative_id))
        elif item.kind == claims.EXECUTIVE:
            found.setdefault(("dm", channel), Place(channel, claims.EXECUTIVE))
        elif item.channel not in escalated:  # a digest waits for a pass without escalations
            found.setdefault(("dm", channel), Place(channel, item.kind, ids=(item.id,)))
    return list(found.values())


def deliver(
    hub: Hub,
    now: datetime,
    people: ZoneBook,
    report: SweepReport,
    *,
    pair_ids: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
    seconds: float = SEND_SECONDS,
) -> None:
    """Send what is claimed and due (of these kinds, these pairs' threads), a pass of at most
    `seconds`, in turns per channel. Raises InstallBroken; any other failure is one message's."""
    with hub.sessions() as session:
        due = claims.pending(session, now, pair_ids=pair_ids)
    queues: dict[str, deque[Place]] = {}
    for place in places(due):
        if kinds is None or place.kind in kinds:
            queues.setdefault(place.channel, deque()).append(place)
    turns = hub.gateway.turns(seconds)
    order = list(queues)  # the channels with something to send, served round-robin
    while order:
        channel = turns.next(order)
        if channel is None:
            break  # no turn left in this pass: the rest stays due for the next
        queue = queues[channel]
        place = queue.popleft()
        if send(hub, place, now, people, report, turns):
            queue.appendleft(place)  # a 429: its channel waits, the others go on
        order.remove(channel)
        if queue:
            order.append(channel)
    report.waiting += sum(len(queue) for queue in queues.values())
    if report.waiting:
        log.info("%d messages wait for their channel's turn; the next pass sends them", report.waiting)


def send_due(hub: Hub, *, seconds: float = SEND_SECONDS) -> SweepReport:
    """One pass over what earlier sweeps claimed and is due now, without sweeping (serve's
    upkeep): a backlog bigger than a pass goes out pass after pass, at the channels' pace."""
    now = hub.clock.now()
    report = SweepReport(now)
    people = ZoneBook(hub, now)
    try:
        with hub.sessions() as session:
            people.warm(nudges.people_to_know(session, hub.settings, now))
        deliver(hub, now, people, report, seconds=seconds)
    except InstallBroken as error:
        report.install_error = str(error)
    return report
