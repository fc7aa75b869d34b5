"""Initiatives: validate a proposal, store it with its functions, pairs and routing
reasons, record where it was routed, and find initiatives again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import combinations
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.config import JOURNEYS, Settings
from bot.core import obstacles, pairs, routing, rules
from bot.core.text import clean
from bot.db import rowcount
from bot.models import Initiative, InitiativeFunction, Pair

TITLE_LIMIT = 150
PROBLEM_LIMIT = 3000
OBSTACLES_LIMIT = 1000
STATUSES = rules.INITIATIVE_STATUSES
OPEN_STATUSES = rules.OPEN_INITIATIVE_STATUSES  # the name the Slack edge uses
STALLED_STATES = ("stalled", "escalated")


@dataclass(frozen=True)
class Proposal:
    proposer: str
    title: str
    functions: tuple[str, ...]
    journey: str = "customer"
    problem: str = ""
    obstacles: str = ""
    sponsor: str | None = None
    target_date: date | None = None
    source_channel: str | None = None
    source_permalink: str | None = None

    @property
    def text(self) -> routing.ProposalText:
        return routing.ProposalText(self.title, self.problem, self.obstacles)


@dataclass(frozen=True)
class SponsorCheck:
    """What Slack says about the chosen sponsor (the core does not ask Slack itself)."""

    exists: bool = True
    is_bot: bool = False
    deleted: bool = False


@dataclass
class Refusal:
    """Problems keyed by field, phrased for the person filling the form."""

    problems: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.problems)


def sponsor_problem(sponsor: SponsorCheck | None) -> str | None:
    """Why this person cannot sponsor an initiative (None: they can, or nothing is known)."""
    if sponsor is None:
        return None
    if not sponsor.exists:
        return "This person was not found in the workspace."
    if sponsor.deleted:
        return "This person's account is deactivated: choose an active sponsor."
    if sponsor.is_bot:
        return "A bot cannot sponsor an initiative: choose a person."
    return None


def validate(proposal: Proposal, settings: Settings, today: date, sponsor: SponsorCheck | None = None) -> Refusal:
    refusal = Refusal()
    title = clean(proposal.title).strip()
    if not title:
        refusal.problems["title"] = "Give the initiative a title."
    elif len(title) > TITLE_LIMIT:
        refusal.problems["title"] = f"Keep the title under {TITLE_LIMIT} characters (it has {len(title)})."
    if len(clean(proposal.problem).strip()) > PROBLEM_LIMIT:
        refusal.problems["problem"] = f"Keep this under {PROBLEM_LIMIT} characters."
    if len(clean(proposal.obstacles).strip()) > OBSTACLES_LIMIT:
        refusal.problems["obstacles"] = f"Keep this under {OBSTACLES_LIMIT} characters."
    if proposal.journey not in JOURNEYS:
        refusal.problems["journey"] = "Choose the customer journey, the employee journey, or both."
    unknown = [key for key in proposal.functions if key not in settings.functions]
    if unknown:
        refusal.problems["functions"] = f"Unknown function: {', '.join(unknown)}."
    elif len(set(proposal.functions)) < 2:
        refusal.problems["functions"] = (
            "Choose at least two functions: the hub exists for cross-functional work. Work for one function belongs in its own channel."
        )
    if proposal.target_date is not None and proposal.target_date < today:
        refusal.problems["target_date"] = "The target date is in the past."
    elif proposal.target_date is not None and rules.too_far(proposal.target_date, today):
        refusal.problems["target_date"] = rules.TOO_FAR
    problem = sponsor_problem(sponsor) if proposal.sponsor else None
    if problem:
        refusal.problems["sponsor"] = problem
    return refusal


def create(session: Session, proposal: Proposal, settings: Settings, now: datetime) -> Initiative:
    """Store the initiative, why each function is involved, one pair per two functions, and the
    obstacles its words name."""
    reasons = routing.decide(settings, list(dict.fromkeys(proposal.functions)), proposal.text, proposal.journey)
    initiative = Initiative(
        title=clean(proposal.title).strip(),
        problem=clean(proposal.problem).strip(),
        journey=proposal.journey,
        obstacles=clean(proposal.obstacles).strip(),
        status="proposed",
        proposer=proposal.proposer,
        sponsor=proposal.sponsor,
        target_date=proposal.target_date,
        source_channel=proposal.source_channel,
        source_permalink=proposal.source_permalink,
        created_at=now,
        updated_at=now,
    )
    for key, reason in reasons.items():
        initiative.functions.append(InitiativeFunction(function_key=key, reason=reason, route_status="pending"))
    for a, b in combinations(sorted(reasons), 2):
        initiative.pairs.append(Pair(function_a=a, function_b=b, state="active", nudge_level=0, created_at=now, next_check_at=now))
    obstacles.link_new(initiative, settings, proposal.text, now)
    session.add(initiative)
    session.flush()
    return initiative


def set_source_link(session: Session, initiative_id: int, permalink: str | None) -> None:
    initiative = session.get(Initiative, initiative_id)
    if initiative is not None and permalink:
        initiative.source_permalink = permalink


def set_status(session: Session, initiative: Initiative, status: str, now: datetime) -> bool:
    """Change the status once: a repeated choice (a double click) changes nothing."""
    if status not in STATUSES:
        raise ValueError(status)
    changed = session.execute(
        update(Initiative)
        .where(Initiative.id == initiative.id, Initiative.status != status)
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(changed) != 1:
        return False
    # Closing stops the nudges and reopening restarts them: let the next sweep look now. The
    # pairs are locked the way every writer of pairs locks them, so none waits on another.
    pairs.locked(session, initiative.id)
    session.execute(
        update(Pair).where(Pair.initiative_id == initiative.id).values(next_check_at=now).execution_options(synchronize_session=False)
    )
    return True


def get(session: Session, initiative_id: int) -> Initiative | None:
    return session.scalar(_loaded(select(Initiative).where(Initiative.id == initiative_id)))


@dataclass(frozen=True)
class Outline:
    """An initiative as a form is checked against it before Slack is answered: read in one
    plain statement, so the answer waits as little as it can."""

    id: int
    status: str
    function_keys: list[str]


# What is read before Slack is answered is built once: building a statement costs about as much
# as running it.
_OUTLINE = (
    select(Initiative.status, InitiativeFunction.function_key)
    .outerjoin(InitiativeFunction, InitiativeFunction.initiative_id == Initiative.id)
    .where(Initiative.id == bindparam("initiative_id"))
    .order_by(InitiativeFunction.id)
)


def _hub_card(channel: Any, ts: Any) -> ColumnElement[bool]:
    """The initiative whose hub card is the message at (channel, ts)."""
    return and_(Initiative.hub_channel == channel, Initiative.hub_ts == ts)


def _routed_post(channel: Any, ts: Any) -> ColumnElement[bool]:
    """The route whose post is the message at (channel, ts)."""
    return and_(InitiativeFunction.route_channel == channel, InitiativeFunction.route_ts == ts)


def is_thread(channel: Any, ts: Any) -> ColumnElement[bool]:
    """Whether the message at (channel, ts) is an initiative's hub card or routed post: what
    `by_thread` finds, as one condition (asked before Slack is answered)."""
    card = select(Initiative.id).where(_hub_card(channel, ts)).exists()
    return or_(card, select(InitiativeFunction.id).where(_routed_post(channel, ts)).exists())


def outline(session: Session | Connection, initiative_id: int) -> Outline | None:
    rows = session.execute(_OUTLINE, {"initiative_id": initiative_id}).all()
    if not rows:
        return None
    return Outline(initiative_id, rows[0].status, [row.function_key for row in rows if row.function_key is not None])


def by_thread(session: Session, channel: str, ts: str) -> Initiative | None:
    """The initiative whose hub card or routed post is the message at (channel, ts)."""
    found = session.scalar(select(Initiative).where(_hub_card(channel, ts)))
    if found:
        return found
    route = session.scalar(select(InitiativeFunction).where(_routed_post(channel, ts)))
    return route.initiative if route else None


def listing(
    session: Session,
    *,
    mine: str | None = None,
    function: str | None = None,
    stalled: bool = False,
    open_only: bool = True,
    visible: ColumnElement[bool] | None = None,
    limit: int = 50,
) -> list[Initiative]:
    """`visible`: only those a person may see (`audience.Viewer.condition`). Each comes with its
    functions, which a list shows, and not with its pairs, commitments or obstacles (ten times
    as many rows, which a list does not show)."""
    query = select(Initiative)
    if visible is not None:
        query = query.where(visible)
    if stalled:
        query = query.where(Initiative.pairs.any(Pair.state.in_(STALLED_STATES)))
    if open_only:
        query = query.where(rules.open_initiative())
    if mine:
        query = query.where((Initiative.proposer == mine) | (Initiative.sponsor == mine))
    if function:
        query = query.where(Initiative.functions.any(InitiativeFunction.function_key == function))
    query = query.options(selectinload(Initiative.functions)).order_by(Initiative.id.desc()).limit(limit)
    return list(session.scalars(query))


def everything(session: Session) -> list[Initiative]:
    return list(session.scalars(_loaded(select(Initiative).order_by(Initiative.id))))


def _loaded(query: Select) -> Select:
    return query.options(
        selectinload(Initiative.functions),
        selectinload(Initiative.pairs),
        selectinload(Initiative.commitments),
        selectinload(Initiative.obstacle_links),
    )
