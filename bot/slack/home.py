"""The App Home tab: a pure builder of the view from `core.home.HomeData` (published by
`bot.app.home`). The tab stays within Block Kit's 100 blocks and
3000 characters a section however much there is: every list shows its first items and says
how many more there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from bot.app.roadmap import Shown
from bot.config import Settings
from bot.core import health, rules
from bot.core.digest import NEVER_MET, PairRow
from bot.core.home import CommitmentItem, HomeData, InitiativeItem
from bot.core.listing import Listed
from bot.slack import blocks as bk
from bot.slack import roadmap as roadmap_words
from bot.slack.messages import STATUS_EMOJI
from bot.slack.obstacles import home_blocks as obstacle_blocks

MATRIX_PAIRS_SHOWN = 40
LINE_LIMIT = 600  # one item's line; a section packs lines up to Block Kit's 3000
# The matrix lists troubled pairs first: by state, worst first, then by overdue commitments.
STATE_ORDER = (health.ESCALATED, health.STALLED, NEVER_MET, health.SNOOZED, health.QUIET, health.ACTIVE)
TROUBLED = (health.ESCALATED, health.STALLED)
COMMITMENT_EMOJI = {"open": "", "slipped": " · :arrows_counterclockwise: slipped", "blocked": " · :no_entry: blocked"}


# --- the pure builder ------------------------------------------------------------------------


def _name(settings: Settings, key: str) -> str:
    function = settings.functions.get(key)
    return bk.user_text(function.name if function else key, 80)


def _names(settings: Settings, keys: Iterable[str]) -> str:
    return ", ".join(_name(settings, key) for key in keys)


def _sections(lines: list[str]) -> list[dict[str, Any]]:
    """Pack whole lines into as few sections as fit 3000 characters each."""
    sections: list[dict[str, Any]] = []
    current = ""
    for line in lines:
        line = bk.shorten(line, LINE_LIMIT)
        if current and len(current) + 1 + len(line) > bk.SECTION_TEXT_LIMIT:
            sections.append(bk.section(current))
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        sections.append(bk.section(current))
    return sections


def _more(listed: Listed, command: str, where: str) -> str | None:
    return f"_and {listed.more} more — `{command} {where}`_" if listed.more > 0 else None


def _initiative_line(item: InitiativeItem, settings: Settings) -> str:
    roles = [_name(settings, role) if role in settings.functions else role for role in item.roles]
    return (
        f"{STATUS_EMOJI.get(item.status, '')} *#{item.id}* {bk.user_text(item.title, 200)}\n"
        f"{_names(settings, item.functions)} · {item.status}" + (f" · you: {', '.join(roles)}" if roles else "")
    )


def _due(item: CommitmentItem, today: date) -> str:
    if item.status == "blocked":  # waiting on someone else: never "late"
        return f"due {item.due.isoformat()}"
    days = (item.due - today).days
    if days < 0:
        return f"due {item.due.isoformat()}, *{-days} day{'s' if days < -1 else ''} late*"
    if days == 0:
        return "due *today*"
    if days == 1:
        return "due tomorrow"
    if days < rules.DUE_SOON_DAYS:
        return f"due {item.due:%a} {item.due.isoformat()}"
    return f"due {item.due.isoformat()}"


def _commitment_line(item: CommitmentItem, settings: Settings, today: date, *, with_owner: bool = False) -> str:
    owner = f"{bk.person(item.owner, nobody=_name(settings, item.from_function))} · " if with_owner else ""
    return (
        f"• {owner}*#{item.id}* {_name(settings, item.from_function)} → {_name(settings, item.to_function)}: "
        f"{bk.user_text(item.what, 200)} — {_due(item, today)}{COMMITMENT_EMOJI.get(item.status, '')} "
        f"· _#{item.initiative_id} {bk.user_text(item.initiative_title, 80)}_"
    )


def _request_line(item: CommitmentItem, settings: Settings, today: date) -> str:
    wanted = f"wanted by {item.due.isoformat()}" + (" (passed)" if item.due < today else "")
    asker = bk.mention(item.requested_by) if item.requested_by else "someone"
    waiting = (
        f" · :calendar: {item.proposed_due.isoformat()} proposed instead, waiting for {asker}"
        if item.proposed_due
        else " · *waiting for your answer*"
    )
    return (
        f"• *#{item.id}* {_name(settings, item.to_function)} asks {_name(settings, item.from_function)}: "
        f"{bk.user_text(item.what, 200)} — {wanted} · asked by {asker}{waiting} "
        f"· _#{item.initiative_id} {bk.user_text(item.initiative_title, 80)}_"
    )


def _pair_line(row: PairRow, settings: Settings) -> str:
    a, b = row.functions
    parts = [] if row.state == health.ACTIVE else [row.state]  # `active` goes without saying
    parts.append(f"{row.initiatives} joint initiative{'s' if row.initiatives != 1 else ''}")
    if row.open_commitments:
        late = f" ({row.overdue_commitments} overdue)" if row.overdue_commitments else ""
        parts.append(f"{row.open_commitments} open commitment{'s' if row.open_commitments != 1 else ''}{late}")
    warning = ":warning: " if row.overdue_commitments or row.state in TROUBLED else ""
    return f"{warning}*{_name(settings, a)} × {_name(settings, b)}*: " + " · ".join(parts)


def _trouble(row: PairRow) -> tuple[int, int, int, int]:
    rank = STATE_ORDER.index(row.state) if row.state in STATE_ORDER else len(STATE_ORDER)
    return (rank, -row.overdue_commitments, -row.initiatives, -row.open_commitments)


def _matrix_blocks(rows: tuple[PairRow, ...], settings: Settings) -> list[dict[str, Any]]:
    working = sorted((row for row in rows if row.initiatives or row.open_commitments), key=_trouble)
    apart = [row for row in rows if not (row.initiatives or row.open_commitments)]
    blocks = [bk.section("*Collaboration matrix* — each pair of functions: its state, joint initiatives and open commitments")]
    lines = [_pair_line(row, settings) for row in working[:MATRIX_PAIRS_SHOWN]]
    if len(working) > MATRIX_PAIRS_SHOWN:
        lines.append(f"_and {len(working) - MATRIX_PAIRS_SHOWN} more pairs — `cdo-hub report pairs`_")
    if not working:
        lines.append("_No two functions share an initiative yet._")
    blocks += _sections(lines)
    if apart:
        names = ", ".join(f"{_name(settings, row.functions[0])} × {_name(settings, row.functions[1])}" for row in apart)
        blocks.append(bk.context(bk.shorten(f":link: No joint initiative yet: {names}", 1900)))
    return blocks


def home_view(data: HomeData, settings: Settings, roadmaps: Sequence[Shown] = ()) -> dict[str, Any]:
    """The Home tab of `data.user`, at most 100 blocks; `roadmaps`: the couples of the
    functions they lead."""
    command = settings.slack.command
    blocks: list[dict[str, Any]] = [bk.header("CDO Hub")]
    who = []
    if data.functions:
        who.append(f"Your functions: {_names(settings, data.functions)}")
    elif settings.is_staff(data.user):
        who.append("Hub staff: your replies count for no function")
    who += data.roles
    blocks.append(bk.context(" · ".join([f"Today is {data.today:%A} {data.today.isoformat()}", *who])))

    blocks.append(bk.divider())
    blocks.append(bk.section(f"*Your open initiatives* ({data.initiatives.total})"))
    if data.initiatives.items:
        blocks += [bk.section(_initiative_line(item, settings)) for item in data.initiatives.items]
        more = _more(data.initiatives, command, "list mine")
        if more:
            blocks.append(bk.context(more))
    else:
        blocks.append(bk.context(f"None yet. Propose one with `{command} propose`."))

    blocks.append(bk.divider())
    owed_total = data.overdue.total + data.due_soon.total + data.later.total + data.blocked.total
    blocks.append(bk.section(f"*Commitments you owe* ({owed_total})"))
    groups = (
        (":red_circle: *Overdue*", data.overdue),
        (f":hourglass_flowing_sand: *Due within {rules.DUE_SOON_DAYS} days*", data.due_soon),
        (":calendar: *Later*", data.later),
        (":no_entry: *Blocked — waiting on someone else*", data.blocked),
    )
    for title, listed in groups:
        if not listed.total:
            continue
        lines = [f"{title} ({listed.total})"] + [_commitment_line(item, settings, data.today) for item in listed.items]
        more = _more(listed, command, "list mine")
        blocks += _sections(lines + ([more] if more else []))
    if not owed_total:
        blocks.append(bk.context("Nothing: you owe no open commitment."))

    if data.functions:
        blocks.append(bk.divider())
        blocks.append(bk.section(f"*Asked of {_names(settings, data.functions)}* ({data.asked_of_me.total})"))
        if data.asked_of_me.items:
            lines = [_request_line(item, settings, data.today) for item in data.asked_of_me.items]
            if data.asked_of_me.more:
                lines.append(f"_and {data.asked_of_me.more} more — `cdo-hub report commitments` lists them all_")
            blocks += _sections(lines)
            blocks.append(bk.context("Accept, propose another date or decline on the request in its hub thread."))
        else:
            blocks.append(bk.context("No request waits for an answer from your functions."))

    if data.functions:
        blocks.append(bk.divider())
        blocks.append(bk.section(f"*Owed to {_names(settings, data.functions)}* ({data.owed_to_me.total})"))
        if data.owed_to_me.items:
            lines = [_commitment_line(item, settings, data.today, with_owner=True) for item in data.owed_to_me.items]
            more = _more(data.owed_to_me, command, "list " + data.functions[0])
            blocks += _sections(lines + ([more] if more else []))
        else:
            blocks.append(bk.context("No open commitment to your functions."))

    if data.obstacles is not None:
        blocks.append(bk.divider())
        blocks += obstacle_blocks(data.obstacles, settings, data.at)
    if roadmaps:
        blocks.append(bk.divider())
        blocks += roadmap_words.home_blocks(roadmaps, settings)

    if data.matrix is not None:
        blocks.append(bk.divider())
        blocks += _matrix_blocks(data.matrix, settings)
    return {"type": "home", "blocks": fit_view(blocks, command)}


def fit_view(blocks: list[dict[str, Any]], command: str = "/cdo") -> list[dict[str, Any]]:
    """Keep a view within 100 blocks, saying that something was left out."""
    if len(blocks) <= bk.VIEW_BLOCK_LIMIT:
        return blocks
    left = len(blocks) - bk.VIEW_BLOCK_LIMIT + 1
    return blocks[: bk.VIEW_BLOCK_LIMIT - 1] + [bk.context(f"_{left} more not shown — `{command} list mine`_")]
