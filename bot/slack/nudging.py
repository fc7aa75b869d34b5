"""Nudges and the digest at the edge: who is where (time zones from users.info, cached), the
Block Kit of each message, and the sender that carries out what the sweep planned.

A sweep (`run_sweep`) runs in two steps, the same from `cdo-hub nudge` and from the scheduler:
1. plan and claim, a batch of due pairs per transaction (bot.core.nudges);
2. send what is claimed and due, one transaction per message: lock, check the pair again,
   check the recipients' working hours, post, mark. One DM per person per sweep: an executive's
   escalations are batched into one message, and a digest waits for the next sweep.
A Slack error for one target is recorded on its nudge and the sweep goes on; a broken install
(InstallBroken) stops the sweep and leaves the claims for a later one.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import digest as digests
from bot.core import nudges
from bot.core.calendar import WorkWeek
from bot.core.digest import Digest
from bot.core.nudges import Delivery, PairView
from bot.db import transaction
from bot.models import Nudge, SlackUser
from bot.runtime import Runtime
from bot.slack import blocks as bk
from bot.slack.gateway import ErrorKind, InstallBroken
from bot.slack.ids import Action, NudgeRef, dump

log = logging.getLogger(__name__)

USERS_FRESH = timedelta(days=1)
BUTTONED = 15  # pairs in one executive DM that get their own buttons; the rest are listed
SHOWN_OVERDUE = 5


# --- people ------------------------------------------------------------------------------------


class ZoneBook:
    """Time zones and reachability from users.info, cached in `slack_users` for a day.

    `warm` fetches and stores before a sweep's transactions begin, so that nothing inside
    them waits on Slack or on another write; a person met later is looked up in memory only.
    Without a bot token (a dry run on a fresh install) everyone is in the hub's time zone.
    """

    def __init__(self, hub: Runtime, now: datetime, *, store: bool = True) -> None:
        self.hub, self.now, self.store = hub, now, store
        self._known: dict[str, tuple[str | None, bool]] = {}

    def warm(self, users: Iterable[str]) -> None:
        missing = sorted({user for user in users if user and user not in self._known})
        if not missing:
            return
        with self.hub.sessions() as session:
            cached = {row.user_id: row for row in session.scalars(select(SlackUser).where(SlackUser.user_id.in_(missing)))}
        fetched = []
        for user in missing:
            row = cached.get(user)
            if row is not None and self.now - row.fetched_at < USERS_FRESH:
                self._known[user] = (row.tz, not (row.deleted or row.is_bot))
                continue
            info = self._fetch(user)
            if info is not None:
                fetched.append(info)
            elif row is not None:  # Slack did not answer: a stale answer beats none
                self._known[user] = (row.tz, not (row.deleted or row.is_bot))
        if fetched and self.store:
            with transaction(self.hub.sessions) as session:
                insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
                for values in fetched:
                    statement = insert(SlackUser).values(**values)
                    session.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_={k: v for k, v in values.items() if k != "user_id"}))

    def _fetch(self, user: str) -> dict[str, Any] | None:
        if not self.hub.settings.slack.bot_token:
            return None
        info = self.hub.directory.user(user)
        if info is None:
            return None
        self._known[user] = (info.tz, not (info.deleted or info.is_bot))
        return {"user_id": user, "tz": info.tz, "is_bot": info.is_bot, "deleted": info.deleted, "fetched_at": self.now}

    def _entry(self, user: str) -> tuple[str | None, bool]:
        if user not in self._known:
            self._fetch(user)
        return self._known.get(user, (None, True))

    def zone(self, user_id: str) -> ZoneInfo:
        name = self._entry(user_id)[0]
        try:
            return ZoneInfo(name) if name else self.hub.settings.tz
        except (ZoneInfoNotFoundError, ValueError):
            return self.hub.settings.tz

    def reachable(self, user_id: str) -> bool:
        return self._entry(user_id)[1]


# --- what a sweep did --------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One message sent, planned, deferred, cancelled or failed."""

    status: str
    delivery: Delivery
    at: datetime | None = None  # sent at, or deferred until
    ts: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        d = self.delivery
        return {
            "initiative_id": d.initiative_id,
            "functions": list(d.functions),
            "level": d.level,
            "recipients": list(d.recipients),
            "channel": d.channel,
            "kind": d.kind,
            "status": self.status,
            "at": self.at.isoformat() if self.at else None,
            "ts": self.ts,
            "error": self.error,
            "key": d.key,
        }


@dataclass
class SweepReport:
    at: datetime
    dry_run: bool = False
    checked: int = 0
    lines: list[Line] = field(default_factory=list)
    install_error: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)


@contextmanager
def _unit(hub: Runtime, dry_run: bool) -> Iterator[Session]:
    """A transaction, or for a dry run a session whose changes are all rolled back."""
    if not dry_run:
        with transaction(hub.sessions) as session:
            yield session
        return
    with hub.sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


def run_sweep(hub: Runtime, *, dry_run: bool = False, pair_ids: Sequence[int] | None = None) -> SweepReport:
    """One sweep as of `hub.clock.now()`; `pair_ids` limits it to those pairs (a button)."""
    now = hub.clock.now()
    report = SweepReport(now, dry_run)
    people = ZoneBook(hub, now, store=not dry_run)
    try:
        with hub.sessions() as session:
            people.warm(nudges.people_to_know(session, hub.settings, now))
        after = None
        while True:
            with _unit(hub, dry_run) as session:
                batch = nudges.plan_batch(session, hub.settings, now, people, after=after, pair_ids=pair_ids, lock=not dry_run)
                planned = batch.deliveries if dry_run else nudges.claim(session, batch.deliveries, now)
            report.checked += batch.checked
            for delivery in planned:
                if delivery.not_before > now:
                    report.lines.append(Line("deferred", delivery, delivery.not_before))
                elif dry_run:
                    report.lines.append(Line("planned", delivery))
            if batch.last is None:
                break
            after = batch.last
        if dry_run:
            with hub.sessions() as session:
                for item in nudges.pending(session, now, pair_ids=pair_ids):
                    report.lines.append(Line("planned", nudges.delivery_of(session.get(Nudge, item.id))))
        else:
            deliver(hub, now, people, report, pair_ids=pair_ids)
    except InstallBroken as error:
        report.install_error = str(error)
        log.error("the sweep stopped: Slack refused the bot token (%s); claimed nudges wait for a later sweep", error)
    return report


def deliver(hub: Runtime, now: datetime, people: ZoneBook, report: SweepReport, *, pair_ids: Sequence[int] | None = None, kinds: Sequence[str] | None = None) -> None:
    """Send what is claimed and due: a message per pair nudge, one DM per person."""
    with hub.sessions() as session:
        due = nudges.pending(session, now, pair_ids=pair_ids)
    messages = [(item.kind, [item.id]) for item in due if item.kind == nudges.PAIR]
    direct: dict[str, list[nudges.Pending]] = {}
    for item in due:
        if item.kind != nudges.PAIR:
            direct.setdefault(item.channel or "", []).append(item)
    for items in direct.values():
        escalations = [item.id for item in items if item.kind == nudges.EXECUTIVE]
        # One DM per person per sweep: escalations first, a digest waits for the next sweep.
        messages.append((nudges.EXECUTIVE, escalations) if escalations else (items[0].kind, [items[0].id]))
    for kind, ids in messages:
        if kinds is None or kind in kinds:
            _send(hub, ids, now, people, report)


def _send(hub: Runtime, ids: list[int], now: datetime, people: ZoneBook, report: SweepReport) -> None:
    settings = hub.settings
    with transaction(hub.sessions) as session:
        rows = nudges.lock(session, ids)
        ready: list[tuple[Nudge, PairView | None]] = []
        for row in rows:
            view = nudges.recheck(session, settings, row, now) if row.kind != nudges.DIGEST else None
            if row.kind != nudges.DIGEST and view is None:
                nudges.cancel(row, "the pair moved on before it was sent")
                report.lines.append(Line("cancelled", nudges.delivery_of(row)))
                continue
            ready.append((row, view))
        if not ready:
            return
        recipients = list(dict.fromkeys(user for row, _ in ready for user in row.recipients or ()))
        moment = WorkWeek.of(settings.nudges).next_common(now, [people.zone(user) for user in recipients])
        if moment > now:  # the sweep that planned it ran in working hours, this one does not
            for row, _ in ready:
                nudges.defer(row, moment)
                report.lines.append(Line("deferred", nudges.delivery_of(row), moment))
            return
        first = ready[0][0]
        channel, thread_ts, text, blocks = _message(hub, first, ready, people)
        posted = hub.gateway.post_message(channel, text, blocks, thread_ts=thread_ts)
        for row, _ in ready:
            if posted.ok:
                nudges.mark_sent(row, posted["ts"], now)
                report.lines.append(Line("sent", nudges.delivery_of(row), now, posted["ts"]))
            else:
                nudges.mark_failed(row, posted.error or "unknown", final=posted.kind is not ErrorKind.TRANSIENT)
                report.lines.append(Line("failed" if row.status == nudges.FAILED else "retry", nudges.delivery_of(row), error=posted.error))
        if not posted.ok:
            log.error("nudge %s to %s failed: %s", first.key, channel, posted.error)


def _message(hub: Runtime, first: Nudge, ready: list[tuple[Nudge, PairView | None]], people: ZoneBook) -> tuple[str, str | None, str, list[dict]]:
    settings = hub.settings
    if first.kind == nudges.DIGEST:
        payload = first.payload or {}
        return first.channel or "", None, payload.get("text", "Weekly digest"), payload.get("blocks", [])
    views = [view for _, view in ready if view is not None]
    if first.kind == nudges.PAIR:
        view = views[0]
        text, blocks = pair_nudge(view, settings, list(first.recipients or ()))
        return view.hub_channel or settings.hub.channel, view.hub_ts, text, blocks
    links = {view.initiative_id: _thread_link(hub, view) for view in views}
    text, blocks = executive_nudge(views, settings, people.zone(first.channel or ""), links)
    return first.channel or "", None, text, blocks


def _thread_link(hub: Runtime, view: PairView) -> str | None:
    return hub.gateway.permalink(view.hub_channel, view.hub_ts) if view.hub_channel and view.hub_ts else None


# --- the digest --------------------------------------------------------------------------------


def run_digest(hub: Runtime, *, dry_run: bool = False) -> SweepReport:
    """This week's digest for each executive and hub staff member, once a week each.

    Each DM waits for its recipient's working hours (a later sweep sends it then).
    """
    settings = hub.settings
    now = hub.clock.now()
    report = SweepReport(now, dry_run)
    recipients = list(dict.fromkeys([*settings.hub.executives, *settings.hub.staff]))
    people = ZoneBook(hub, now, store=not dry_run)
    try:
        people.warm(recipients)
        with hub.sessions() as session:
            digest = digests.build(session, settings, now)
        text, blocks = digest_message(digest, settings)
        week = WorkWeek.of(settings.nudges)
        planned = [
            Delivery(
                key=f"digest:{digest.week}:{user}",
                kind=nudges.DIGEST,
                level=0,
                channel=user,
                recipients=(user,),
                not_before=week.next_working(now, people.zone(user)),
                payload={"week": digest.week, "text": text, "blocks": blocks},
            )
            for user in recipients
            if people.reachable(user)
        ]
        if dry_run:
            report.lines += [Line("planned" if d.not_before <= now else "deferred", d, d.not_before) for d in planned]
            return report
        with transaction(hub.sessions) as session:
            claimed = nudges.claim(session, planned, now)
        report.lines += [Line("already", d) for d in planned if d not in claimed]
        report.lines += [Line("deferred", d, d.not_before) for d in claimed if d.not_before > now]
        deliver(hub, now, people, report, kinds=(nudges.DIGEST,))
    except InstallBroken as error:
        report.install_error = str(error)
        log.error("the digest stopped: Slack refused the bot token (%s)", error)
    return report


# --- Block Kit ---------------------------------------------------------------------------------


def _name(settings: Settings, key: str) -> str:
    return bk.user_text(settings.functions[key].name if key in settings.functions else key, 100)


def _in_order(settings: Settings, keys: Iterable[str]) -> list[str]:
    """Functions as the configuration lists them (pairs store theirs alphabetically)."""
    order = list(settings.functions)
    return sorted(keys, key=lambda key: order.index(key) if key in order else len(order))


def _pair_name(settings: Settings, functions: Iterable[str]) -> str:
    return " × ".join(_name(settings, key) for key in _in_order(settings, functions))


def _title(initiative_id: int, title: str, limit: int = 200) -> str:
    return f"#{initiative_id} {bk.user_text(title, limit)}"


def _days(count: int) -> str:
    return f"{count} working day{'' if count == 1 else 's'}"


def _day(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def _silence_lines(view: PairView, settings: Settings) -> list[str]:
    lines = []
    facts = dict(zip(view.functions, zip(view.health.silent_days, view.health.never_acted)))
    for key in _in_order(settings, view.functions):
        days, never = facts[key]
        if never:
            lines.append(f"• *{_name(settings, key)}* has not acted on it yet ({_days(days)})")
        elif days:
            lines.append(f"• *{_name(settings, key)}*: silent for {_days(days)}")
        else:
            lines.append(f"• *{_name(settings, key)}*: active today")
    overdue = view.health.overdue
    for item in overdue[:SHOWN_OVERDUE]:
        lines.append(
            f"• Overdue: {_name(settings, item.from_function)} → {_name(settings, item.to_function)}: "
            f"“{bk.user_text(item.what, 200)}”, due {item.due.isoformat()} ({item.days_late} day{'' if item.days_late == 1 else 's'} late), owner {bk.mention(item.owner)}"
        )
    if len(overdue) > SHOWN_OVERDUE:
        lines.append(f"• …and {len(overdue) - SHOWN_OVERDUE} more overdue")
    return lines


def _ref(view: PairView) -> str:
    return dump(NudgeRef(view.pair_id, view.round, view.nudge_id))


def pair_nudge(view: PairView, settings: Settings, leads: Sequence[str]) -> tuple[str, list[dict[str, Any]]]:
    """Level 1, in the initiative's hub thread, addressed to both functions' leads."""
    pair = _pair_name(settings, view.functions)
    who = " ".join(bk.mention(lead) for lead in leads)
    escalate = bk.mention(view.sponsor) if view.sponsor else "the executives"
    blocks = [
        bk.section(f":wave: {who} — *{pair}* have not worked together on *{_title(view.initiative_id, view.title)}* lately."),
        bk.section("\n".join(_silence_lines(view, settings))),
        bk.context(
            f"A reply in this thread or a commitment between you counts. If nothing joint happens in "
            f"{_days(settings.nudges.escalate_after_days)}, {escalate} will be asked to help."
        ),
        bk.actions(
            bk.button("We're on it", Action.NUDGE_ON_IT.value, _ref(view), style="primary"),
            bk.button("Snooze a week", Action.NUDGE_SNOOZE.value, _ref(view)),
            bk.button("Blocked", Action.NUDGE_BLOCKED.value, _ref(view), style="danger"),
            block_id=f"nudge.{view.nudge_id}",
        ),
    ]
    text = f"{pair}: no joint activity on #{view.initiative_id} for {_days(view.health.days_silent)}"
    return text, blocks


def _escalation_reason(view: PairView, settings: Settings, zone: ZoneInfo) -> str:
    if view.blocked_by:
        return f":no_entry: {bk.mention(view.blocked_by)} says the pair is blocked and needs you."
    nudged = f"their leads were nudged {_day(view.nudged_at, zone)}" if view.nudged_at else "their leads were nudged"
    return f"No joint activity for {_days(view.health.days_silent)}; {nudged} and nothing joint happened since."


def executive_nudge(views: Sequence[PairView], settings: Settings, zone: ZoneInfo, links: dict[int, str | None]) -> tuple[str, list[dict[str, Any]]]:
    """Level 2: one DM to an executive, naming every pair of theirs that needs a push."""
    count = len(views)
    blocks: list[dict[str, Any]] = [
        bk.section(f":rotating_light: {'A pair' if count == 1 else f'{count} pairs'} of functions on initiatives you sponsor or oversee {'is' if count == 1 else 'are'} stuck.")
    ]
    for view in views[:BUTTONED]:
        lines = [f"*{_title(view.initiative_id, view.title)}* — *{_pair_name(settings, view.functions)}*", _escalation_reason(view, settings, zone)]
        blocks.append(bk.section("\n".join(lines + _silence_lines(view, settings))))
        elements = [
            bk.button("Nudge them again", Action.NUDGE_AGAIN.value, _ref(view), style="primary"),
            bk.button("Snooze a week", Action.NUDGE_SNOOZE.value, _ref(view)),
        ]
        link = links.get(view.initiative_id)
        if link:
            elements.append(bk.button("Open thread", Action.OPEN_DISCUSSION.value, _ref(view), url=link))
        blocks.append(bk.actions(*elements, block_id=f"nudge.{view.nudge_id}"))
    rest = views[BUTTONED:]
    if rest:
        lines = [f"• *{_title(v.initiative_id, v.title, 100)}* — {_pair_name(settings, v.functions)}, {_days(v.health.days_silent)}" for v in rest]
        blocks.append(bk.section(_fit_lines(lines, "`/cdo list stalled` lists them all")))
    first = views[0]
    text = f"{_pair_name(settings, first.functions)} are stuck on #{first.initiative_id}" + (f" (and {count - 1} more pairs)" if count > 1 else "")
    return text, bk.fit_message(blocks)


def _fit_lines(lines: Sequence[str], more: str, limit: int = bk.SECTION_TEXT_LIMIT) -> str:
    """As many whole lines as fit in one section, then how many were left out."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit - 120:
            return "\n".join(kept + [f"…and {len(lines) - len(kept)} more: {more}."])
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def first_step_line(step: digests.FirstStep, settings: Settings) -> str:
    pair = _pair_name(settings, step.functions)
    people = " and ".join(bk.mention(lead) for lead in step.leads if lead) or "their leads"
    topic = f" on the {step.journey} journey" if step.journey else ""
    words = [bk.user_text(word, 60) for word in step.keywords if word]
    where = f", where _{words[0]}_ meets _{words[1]}_" if len(words) == 2 else ""
    return f"• *{pair}*: {people} meet for 30 minutes{topic}{where}, and one of them proposes what comes out with `{settings.slack.command} propose`."


def pairs_blocks(rows: Sequence[digests.PairRow], never_met: Sequence[digests.FirstStep], settings: Settings) -> list[dict[str, Any]]:
    """The function × function matrix and the pairs that never meet (digest and /cdo pairs)."""
    matrix = [
        f"• *{_pair_name(settings, row.functions)}* — {row.initiatives} joint initiative{'' if row.initiatives == 1 else 's'}, "
        f"commitments {row.open_commitments} open / {row.overdue_commitments} overdue / {row.done_commitments} done, "
        f"last met {_day(row.last_joint_activity_at, settings.tz) if row.last_joint_activity_at else 'never'} · {row.state}"
        for row in rows
    ]
    blocks = [bk.section("*Function × function*\n" + _fit_lines(matrix, "`cdo-hub report pairs`"))]
    if never_met:
        lines = [first_step_line(step, settings) for step in never_met]
        blocks.append(
            bk.section(f"*Never met in {settings.digest.never_met_days} days*, and a first step\n" + _fit_lines(lines, "`cdo-hub report pairs`"))
        )
    return blocks


def digest_message(digest: Digest, settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    """The weekly digest: summarised to fit one message however much there is."""
    status = " · ".join(f"{count} {name}" for name, count in digest.by_status.items())
    blocks: list[dict[str, Any]] = [
        bk.header(f"CDO Hub — weekly digest {digest.week}"),
        bk.section(f"*Initiatives*: {status}"),
    ]
    stalled = [
        f"• *{_title(s.initiative_id, s.title, 100)}* — {_pair_name(settings, s.functions)}: {s.state}, silent {_days(s.days_silent)}"
        + (f", {s.overdue} overdue" if s.overdue else "")
        for s in digest.stalled.items
    ]
    if digest.stalled.more:
        stalled.append(f"…and {digest.stalled.more} more: `{settings.slack.command} list stalled`.")
    snoozed = f" ({digest.snoozed} snoozed)" if digest.snoozed else ""
    blocks.append(bk.section(f"*Stalled pairs: {digest.stalled.total}*{snoozed}\n" + (_fit_lines(stalled, f"`{settings.slack.command} list stalled`") or "None: every pair is moving.")))
    blocks.append(bk.section(_commitment_lines(digest, settings)))
    blocks += pairs_blocks(digest.matrix, digest.never_met, settings)
    blocks.append(bk.context("Everything, unabridged: `cdo-hub report initiatives`, `cdo-hub report pairs`, `cdo-hub report commitments`."))
    text = f"Weekly digest {digest.week}: {digest.stalled.total} stalled pairs, {digest.overdue.total} overdue commitments"
    return text, bk.fit_message(blocks)


def _commitment_lines(digest: Digest, settings: Settings) -> str:
    lines = [f"*Commitments*: {digest.overdue.total} overdue, {digest.due_soon.total} due within a week"]
    for heading, listed in (("Overdue", digest.overdue), ("Due soon", digest.due_soon)):
        for c in listed.items:
            lines.append(
                f"• {heading}: {_name(settings, c.from_function)} → {_name(settings, c.to_function)} on #{c.initiative_id}: "
                f"“{bk.user_text(c.what, 150)}” due {c.due.isoformat()}, {bk.mention(c.owner)}"
            )
        if listed.more:
            lines.append(f"• …{listed.more} more {heading.lower()}: `cdo-hub report commitments`")
    return _fit_lines(lines, "`cdo-hub report commitments`")


# --- answers to the buttons --------------------------------------------------------------------

ANNOUNCED = {
    Action.NUDGE_ON_IT: ":white_check_mark: {user} is on it.",
    Action.NUDGE_SNOOZE: ":zzz: Snoozed until {until} by {user}.",
    Action.NUDGE_BLOCKED: ":no_entry: {user} says the pair is blocked: an executive is asked to help.",
    Action.NUDGE_AGAIN: ":repeat: {user} asked for the pair to be nudged again.",
}
# Whether the buttons stay after the answer: "We're on it" is for each function to give.
KEEPS_BUTTONS = {Action.NUDGE_ON_IT}


def answer_click(hub: Runtime, body: dict, respond: Any, action: Action, answer: nudges.Answer, followed: SweepReport | None = None) -> None:
    """Tell the person what their click did; show a change on the message for everyone."""
    user = body["user"]["id"]
    settings = hub.settings
    zone = _zone_of(hub, user)
    pair = _pair_name(settings, answer.functions) if answer.functions else "the pair"
    until = _day(answer.until, zone) if answer.until else "later"
    Outcome = nudges.Outcome
    if answer.outcome is Outcome.DONE:
        _announce(hub, body, ANNOUNCED[action].format(user=bk.mention(user), until=until), keep_buttons=action in KEEPS_BUTTONS)
        text = {
            Action.NUDGE_ON_IT: f"Thanks: recorded as activity of your function on {pair}.",
            Action.NUDGE_SNOOZE: f"No nudges for {pair} until {until}.",
            Action.NUDGE_BLOCKED: f"Noted: {pair} is blocked. " + _followed(followed, zone, "The sponsor (or the executives) is told"),
            Action.NUDGE_AGAIN: f"{pair}: " + _followed(followed, zone, "Their leads are nudged again"),
        }[action]
    elif answer.outcome is Outcome.REFUSED:
        text = f"Sorry, only the leads of {pair}, the initiative's sponsor, hub staff or admins can answer this nudge. Nothing changed."
    elif answer.outcome is Outcome.NO_FUNCTION:
        text = f"Only the people of {pair} can say they are on it: nothing was recorded. A reply in the thread from them counts."
    elif answer.outcome is Outcome.STALE:
        text = f"This nudge belongs to an earlier round: {pair} moved on since. Nothing changed."
    elif answer.outcome is Outcome.ALREADY:
        text = {
            Action.NUDGE_ON_IT: "Already recorded: thanks.",
            Action.NUDGE_SNOOZE: f"{pair} is snoozed already, until {until}.",
            Action.NUDGE_BLOCKED: f"Already done: an executive was asked to help {pair}.",
            Action.NUDGE_AGAIN: f"Already done: {pair} is being nudged again.",
        }[action]
    else:
        text = "This nudge no longer exists."
    respond(text=text, response_type="ephemeral", replace_original=False)


def _zone_of(hub: Runtime, user: str) -> ZoneInfo:
    info = hub.directory.user(user)
    try:
        return ZoneInfo(info.tz) if info and info.tz else hub.settings.tz
    except (ZoneInfoNotFoundError, ValueError):
        return hub.settings.tz


def _followed(report: SweepReport | None, zone: ZoneInfo, done: str) -> str:
    """What the sweep run right after the click did with the pair."""
    lines = report.lines if report else []
    if any(line.status == "sent" for line in lines):
        return f"{done} now."
    deferred = [line.at for line in lines if line.status == "deferred" and line.at]
    if deferred:
        return f"{done} on {_day(min(deferred), zone)}, in working hours."
    if report and report.install_error:
        return "Slack refused the bot's token, so nothing could be sent: the hub staff must reinstall the app."
    return f"{done} at the next sweep (at most one nudge per pair and week)."


def _announce(hub: Runtime, body: dict, line: str, *, keep_buttons: bool) -> None:
    """Add what happened under the clicked block, dropping its buttons unless they stay useful."""
    message = body.get("message") or {}
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or message.get("ts")
    clicked = body["actions"][0].get("block_id")
    if not (message.get("blocks") and channel and ts):
        return
    updated = []
    for block in message["blocks"]:
        if block.get("block_id") == clicked:
            if keep_buttons:
                updated.append(block)
            updated.append(bk.context(line))
        else:
            updated.append(block)
    hub.gateway.update_message(channel, ts, message.get("text") or "Nudge", bk.fit_message(updated))
