"""The organisation the benchmark measures: eight functions with their channels, leads and
members (as the hub's configuration and as the emulator's workspace), and `populate`, which
fills a database with initiatives through the core, as if they had been proposed, routed,
discussed and swept over the past year.

Every initiative is already delivered (hub card, routed posts and commitment messages carry
their ts, and the same messages exist in the emulator), so the outbox owes nothing and every
request the benchmark sends finds what it would find in a running workspace.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.core import activity, commitments, health, initiatives
from bot.core.commitments import Draft
from bot.core.initiatives import Proposal
from bot.core.nudge_claims import PAIR, SENT, pair_key
from bot.core.nudges import RECHECK
from bot.models import Activity, Commitment, Initiative, Nudge, Pair, SlackUser
from bot.sandbox.workspace import BOT_ID, BOT_USER_ID, Message, User, Workspace

HUB_CHANNEL = "C0HUB"
EXECUTIVE, STAFF = "U0CEO", "U0CDO"


@dataclass(frozen=True)
class Function:
    key: str
    name: str
    channel: str  # its ID in the emulator; the configuration names it #key
    lead: str
    member: str
    keywords: tuple[str, ...]


FUNCTIONS = (
    Function("marketing", "Marketing", "C0MKT", "U0CMO", "U0MKT1", ("campaign", "brand", "CRM", "website")),
    Function("it", "IT", "C0IT", "U0CIO", "U0IT1", ("ERP", "API", "DAM", "workflow", "integration", "security")),
    Function("hr", "HR", "C0HR", "U0CHRO", "U0HR1", ("onboarding", "employee", "recruiting", "training")),
    Function("finance", "Finance", "C0FIN", "U0CFO", "U0FIN1", ("budget", "invoice", "billing")),
    Function("sales", "Sales", "C0SAL", "U0CSO", "U0SAL1", ("pipeline", "quote", "pricing")),
    Function("legal", "Legal", "C0LEG", "U0CLO", "U0LEG1", ("contract", "GDPR", "compliance")),
    Function("operations", "Operations", "C0OPS", "U0COO", "U0OPS1", ("supply", "logistics", "warehouse")),
    Function("data", "Data", "C0DAT", "U0CDAO", "U0DAT1", ("analytics", "dashboard", "reporting")),
)
BY_KEY = {function.key: function for function in FUNCTIONS}


def config_text() -> str:
    """The hub's TOML configuration for this organisation (tokens and database come from the environment)."""
    lines = [
        '[slack]\ncommand = "/cdo"\n',
        f'[hub]\nchannel = "#cdo-hub"\nstaff = ["{STAFF}"]\nexecutives = ["{EXECUTIVE}"]\nadmins = ["{STAFF}"]\n'
        'timezone = "Europe/Paris"\n',
    ]
    for f in FUNCTIONS:
        keywords = ", ".join(f'"{word}"' for word in f.keywords)
        lines.append(
            f'[functions.{f.key}]\nname = "{f.name}"\nchannel = "#{f.key}"\nleads = ["{f.lead}"]\n'
            f'members = ["{f.member}"]\nkeywords = [{keywords}]\n'
        )
    lines.append('[digest]\nday = "mon"\ntime = "09:00"\nnever_met_days = 90\n')
    return "\n".join(lines)


def workspace() -> Workspace:
    """The emulator's workspace: the people and channels the configuration names."""
    ws = Workspace()
    ws.add_user(EXECUTIVE, "claire.ceo", "Claire Moreau")
    ws.add_user(STAFF, "camille.cdo", "Camille CDO")
    for f in FUNCTIONS:
        ws.add_user(f.lead, f"{f.key}.lead", f"{f.name} Lead")
        ws.add_user(f.member, f"{f.key}.member", f"{f.name} Member", tz="America/New_York" if f.key in ("it", "sales") else "Europe/Paris")
    ws.add_channel("cdo-hub", id=HUB_CHANNEL, members=[STAFF, EXECUTIVE, *(f.lead for f in FUNCTIONS)])
    for f in FUNCTIONS:
        ws.add_channel(f.key, id=f.channel, members=[STAFF, f.lead, f.member])
    return ws


@dataclass
class Population:
    initiatives: int = 0
    pairs: int = 0
    commitments: int = 0
    activities: int = 0
    due_pairs: int = 0
    messages: list[Message] = field(default_factory=list)  # what the emulator must already hold

    def summary(self) -> str:
        return (
            f"{self.initiatives} initiatives, {self.pairs} pairs ({self.due_pairs} due for a sweep), "
            f"{self.commitments} commitments, {self.activities} activities"
        )


# How many functions an initiative involves (3 to 6), how it is doing, and how its commitments end.
FUNCTION_COUNTS = ((3, 0.55), (4, 0.25), (5, 0.12), (6, 0.08))
STATUSES = (("active", 0.80), ("proposed", 0.04), ("blocked", 0.05), ("done", 0.08), ("dropped", 0.03))
LIFE = (("lively", 0.85), ("half-silent", 0.09), ("silent", 0.06))
ENDINGS = (("pending", 0.50), ("overdue", 0.10), ("done", 0.25), ("slip", 0.05), ("blocked", 0.05), ("cancel", 0.05))
BATCH = 250  # initiatives per transaction
SUBJECTS = ("customer view", "onboarding journey", "invoice flow", "pricing tool", "supplier portal", "data platform", "brand site")


def _pick(rng: random.Random, weighted: tuple[tuple, ...]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def populate(sessions: sessionmaker[Session], settings: Settings, size: int, now: datetime, *, seed: int = 7) -> Population:
    """`size` initiatives over the past year, through the core as the use cases create them."""
    rng = random.Random(seed)
    stamps = count(1)
    population = Population()
    done = 0
    while done < size:
        with sessions() as session, session.begin():
            for number in range(done + 1, min(done + BATCH, size) + 1):
                _one(session, settings, rng, number, now, stamps, population)
            done = min(done + BATCH, size)
    with sessions() as session, session.begin():
        session.execute(insert(SlackUser), [_person(user, now) for user in workspace().users.values()])
        population.initiatives = session.scalar(select(func.count()).select_from(Initiative)) or 0
        population.pairs = session.scalar(select(func.count()).select_from(Pair)) or 0
        population.commitments = session.scalar(select(func.count()).select_from(Commitment)) or 0
        population.activities = session.scalar(select(func.count()).select_from(Activity)) or 0
        population.due_pairs = session.scalar(select(func.count()).select_from(Pair).where(Pair.next_check_at <= now)) or 0
    return population


def _person(user: User, now: datetime) -> dict[str, Any]:
    # What `serve` copies from users.list once a day.
    return {"user_id": user.id, "tz": user.tz, "is_bot": user.is_bot, "deleted": user.deleted, "fetched_at": now}


def _ts(moment: datetime, stamps: Iterator[int]) -> str:
    return f"{int(moment.timestamp())}.{next(stamps) % 1_000_000:06d}"


def _one(
    session: Session, settings: Settings, rng: random.Random, number: int, now: datetime, stamps: Iterator[int], population: Population
) -> None:
    keys = [f.key for f in rng.sample(FUNCTIONS, _pick(rng, FUNCTION_COUNTS))]
    created = now - timedelta(days=rng.uniform(14, 365))
    subject = rng.choice(SUBJECTS)
    proposal = Proposal(
        proposer=BY_KEY[keys[0]].lead,
        title=f"#{number}: a better {subject} for {BY_KEY[keys[1]].name}",
        functions=tuple(keys),
        problem=f"Today the {subject} is split between {', '.join(keys)}; each keeps its own copy and nobody owns the whole. " * 2,
        journey=rng.choice(("customer", "employee", "both")),
        obstacles=rng.choice(("", "Three ERP instances", "No DAM", "No workflow tool")),
        sponsor=EXECUTIVE if rng.random() < 0.85 else None,
        target_date=(now + timedelta(days=rng.randint(30, 400))).date() if rng.random() < 0.6 else None,
    )
    initiative = initiatives.create(session, proposal, settings, created)
    initiative.status = _pick(rng, STATUSES)
    initiative.hub_channel, initiative.hub_ts = HUB_CHANNEL, _ts(created, stamps)
    population.messages.append(_bot_message(HUB_CHANNEL, initiative.hub_ts, initiative.title))
    for involved in initiative.functions:
        involved.route_status = "posted"
        involved.route_channel, involved.route_ts = BY_KEY[involved.function_key].channel, _ts(created, stamps)
        population.messages.append(_bot_message(involved.route_channel, involved.route_ts, initiative.title))

    # Discussion: a lively initiative had every function speak in the last days; a half-silent
    # one has a function quiet for weeks; a silent one has not been touched since its first week.
    life = _pick(rng, LIFE)
    silent_from = set(rng.sample(keys, rng.randint(1, len(keys) - 1))) if life == "half-silent" else set()
    for key in keys:
        moments = [created + timedelta(days=rng.uniform(0, 7))]
        if life == "lively" or (life == "half-silent" and key not in silent_from):
            moments.append(now - timedelta(hours=rng.uniform(1, 72)))
        elif life == "half-silent":
            moments.append(now - timedelta(days=rng.uniform(12, 40)))
        for moment in moments:
            function = BY_KEY[key]
            activity.record(session, initiative, rng.choice((function.lead, function.member)), [key], "reply", moment)

    for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
        giver, taker = rng.sample(keys, 2)
        owner = BY_KEY[giver].lead
        ending = _pick(rng, ENDINGS)
        made = created + timedelta(days=rng.uniform(1, 10))
        due = (now - timedelta(days=rng.randint(1, 30))) if ending == "overdue" else (now + timedelta(days=rng.randint(3, 90)))
        draft = Draft(
            owner=owner, from_function=giver, to_function=taker, what=f"Deliver the {subject} part owned by {giver}", due=due.date()
        )
        commitment = commitments.create(session, draft, initiative, [giver], made)
        commitment.hub_channel, commitment.hub_ts = HUB_CHANNEL, _ts(made, stamps)
        population.messages.append(_bot_message(HUB_CHANNEL, commitment.hub_ts, draft.what, thread_ts=initiative.hub_ts))
        if ending in commitments.TRANSITIONS:
            new_due = due.date() + timedelta(days=14) if ending == "slip" else None
            commitments.change(
                session, commitment, initiative, ending, owner, [giver], made + timedelta(days=1), new_due=new_due, reason="later"
            )
    session.flush()
    _as_swept(session, settings, initiative, now, rng)


def _as_swept(session: Session, settings: Settings, initiative: Initiative, now: datetime, rng: random.Random) -> None:
    """Pairs as the last sweep left them: most checked again later, the stalled ones due now
    (some already nudged once, so the next sweep escalates), closed initiatives rechecked weekly."""
    for pair in initiative.pairs:
        if initiative.status in ("done", "dropped"):
            pair.state, pair.next_check_at = "active", now + RECHECK
            continue
        assessed = health.assess(pair, initiative.commitments, now, settings)
        pair.state = assessed.state
        pair.next_check_at = assessed.changes_at or now + RECHECK
        if not assessed.stalled:
            continue
        pair.next_check_at = now - timedelta(minutes=rng.randint(1, 15))
        if rng.random() < 0.3:  # nudged a week ago and nothing happened since
            nudged = now - timedelta(days=8)
            pair.nudge_round, pair.nudge_level, pair.last_nudged_at = 1, 1, nudged
            leads = [BY_KEY[key].lead for key in pair.functions]
            session.add(
                Nudge(
                    key=pair_key(pair.id, 1, 1),
                    kind=PAIR,
                    level=1,
                    initiative_id=initiative.id,
                    pair_id=pair.id,
                    recipients=leads,
                    channel=HUB_CHANNEL,
                    payload={"functions": list(pair.functions)},
                    status=SENT,
                    attempts=1,
                    claimed_at=nudged,
                    not_before=nudged,
                    sent_at=nudged,
                )
            )


def _bot_message(channel: str, ts: str, text: str, *, thread_ts: str | None = None) -> Message:
    return Message(channel, ts, BOT_USER_ID, text, thread_ts=thread_ts, bot_id=BOT_ID)


def seed(ws: Workspace, messages: list[Message]) -> None:
    """Put the hub's earlier messages into the emulator's workspace, oldest first."""
    for message in sorted(messages, key=lambda m: float(m.ts)):
        ws.messages[message.channel].append(message)
