"""The obstacle ledger as people read it (pure builders): the line on the hub card and its menu
option, the form that changes an initiative's obstacles, and the ranked ledger of `/cdo
obstacles`, the digest's "What holds the journeys back" and the owners' Home tab."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.core.obstacles import ObstacleRow
from bot.slack import blocks as bk
from bot.slack.ids import CHANGE_OBSTACLES, Block, ObstacleMenu, ObstaclesMeta, View, dump
from bot.slack.wording import fit_lines, function_name

DIGEST_SHOWN = 5  # obstacles named in the weekly digest
REPORT = "`cdo-hub report obstacles`"


def name_of(settings: Settings, key: str) -> str:
    obstacle = settings.obstacles.get(key)
    return bk.user_text(obstacle.name if obstacle else key, 100)


def card_line(settings: Settings, keys: Sequence[str]) -> str | None:
    """The card's "Held back by" line: each obstacle and the function that can clear it."""
    if not keys:
        return None
    named = [f"{name_of(settings, key)} ({function_name(settings, settings.obstacles[key].owner)})" for key in keys]
    return ":construction: *Held back by* " + " · ".join(named)


def menu_option(initiative_id: int) -> dict[str, Any]:
    return bk.option("Change obstacles", dump(ObstacleMenu(initiative_id, CHANGE_OBSTACLES)))


def form(settings: Settings, initiative_id: int, title: str, linked: Sequence[str]) -> dict[str, Any]:
    """Pick the obstacles that hold the initiative back, among those configured."""
    options = {key: bk.option(obstacle.name, key) for key, obstacle in list(settings.obstacles.items())[:100]}
    element: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": "value",
        "placeholder": bk.plain("Choose obstacles", 150),
        "options": list(options.values()),
    }
    initial = [options[key] for key in linked if key in options]
    if initial:
        element["initial_options"] = initial
    return {
        "type": "modal",
        "callback_id": View.OBSTACLES.value,
        "title": bk.plain("Obstacles", bk.MODAL_TITLE_LIMIT),
        "submit": bk.plain("Save", 24),
        "close": bk.plain("Cancel", 24),
        "private_metadata": dump(ObstaclesMeta(initiative_id)),
        "blocks": [
            bk.section(f"Initiative *#{initiative_id} {bk.user_text(title, 300)}*"),
            {
                "type": "input",
                "block_id": Block.OBSTACLE_LINKS.value,
                "label": bk.plain("What holds it back", 2000),
                "element": element,
                "optional": True,
                "hint": bk.plain(
                    "Each obstacle is counted in the ledger (`/cdo obstacles`) until the initiative is done or dropped.", 2000
                ),
            },
        ],
    }


def _age(since: datetime | None, now: datetime | None) -> str:
    if since is None:
        return ""
    if now is None:
        return f", since {since:%Y-%m-%d}"
    days = max((now - since).days, 0)
    return f", since {since:%Y-%m-%d} ({days} day{'' if days == 1 else 's'})"


def line(row: ObstacleRow, settings: Settings, now: datetime | None) -> str:
    journeys = f" · {', '.join(row.journeys)} journey{'' if len(row.journeys) == 1 else 's'}" if row.journeys else ""
    blocks = f"{row.count} open initiative{'' if row.count == 1 else 's'}"
    return f"• *{name_of(settings, row.key)}* ({function_name(settings, row.owner)}): blocks {blocks}{journeys}{_age(row.since, now)}"


def ledger_blocks(rows: Sequence[ObstacleRow], settings: Settings, now: datetime, *, restricted: bool = False) -> list[dict[str, Any]]:
    """`/cdo obstacles`: the obstacles that block something, worst first, and those that do not."""
    if not settings.obstacles:
        return [bk.section("No obstacles are configured: add `[obstacles.<key>]` tables to the configuration.")]
    blocking = [row for row in rows if row.count]
    idle = [row for row in rows if not row.count]
    text = "*What holds the journeys back*, by open initiatives blocked\n"
    text += fit_lines([line(row, settings, now) for row in blocking], REPORT) if blocking else "Nothing: no open initiative is held back."
    result = [bk.section(text)]
    if idle:
        result.append(bk.context(bk.shorten("Blocking nothing now: " + ", ".join(name_of(settings, row.key) for row in idle), 1900)))
    if restricted:
        result.append(bk.context("The hub channel is private: only the initiatives you may see are counted."))
    result.append(bk.context(f"Every obstacle with its initiatives: {REPORT}."))
    return result


def digest_section(rows: Sequence[ObstacleRow], settings: Settings, now: datetime) -> dict[str, Any] | None:
    """The digest's "What holds the journeys back": the top obstacles; None when none is configured."""
    if not settings.obstacles:
        return None
    blocking = [row for row in rows if row.count]
    lines = [line(row, settings, now) for row in blocking[:DIGEST_SHOWN]]
    if len(blocking) > DIGEST_SHOWN:
        lines.append(f"…and {len(blocking) - DIGEST_SHOWN} more: {REPORT}.")
    body = fit_lines(lines, REPORT) if lines else "Nothing: no open initiative is held back by a known obstacle."
    return bk.section("*What holds the journeys back*\n" + body)


def home_blocks(rows: Sequence[ObstacleRow], settings: Settings, now: datetime | None) -> list[dict[str, Any]]:
    """The Home tab of a lead of a function that owns obstacles: theirs, worst first."""
    owners = ", ".join(dict.fromkeys(function_name(settings, row.owner) for row in rows))
    lines = [line(row, settings, now) for row in rows if row.count]
    body = fit_lines(lines, REPORT) if lines else "None of them holds an open initiative back now."
    return [bk.section(f"*Obstacles {owners} can clear* ({sum(1 for row in rows if row.count)} blocking)\n" + body)]
