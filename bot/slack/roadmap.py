"""A couple's joint roadmap as people read it in Slack (pure): the answer to `/cdo roadmap`
and its shortened form on a lead's App Home. User text (titles, what was promised) is escaped;
every list stays within Block Kit's limits and says where the rest is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.app.roadmap import HOME_ITEMS, Links, Shown
from bot.config import Settings
from bot.core.roadmap import OVERDUE, Month, Roadmap, RoadmapCommitment, RoadmapInitiative
from bot.slack import blocks as bk
from bot.slack.wording import fit_lines, function_name, pair_name

HOME_COUPLES = 6  # couples given a section on the App Home; the others are named


def command_for(settings: Settings, functions: tuple[str, str]) -> str:
    return f"`{settings.slack.command} roadmap {functions[0]} {functions[1]}`"


def month_title(key: str) -> str:
    if key == OVERDUE:
        return ":red_circle: *Overdue*"
    return f":calendar: *{date.fromisoformat(key + '-01'):%B %Y}*"


def _label(text: str, link: str | None, limit: int) -> str:
    return bk.link(link, bk.shorten(text, limit)) if link else bk.user_text(text, limit)


def initiative_line(item: RoadmapInitiative, links: Links, today: date) -> str:
    late = f", *{(today - item.target_date).days} days late*" if item.overdue else ""
    title = _label(f"#{item.id} {item.title}", links.get(("initiative", item.id)), 150)
    return f"• :dart: {title} — target {item.target_date.isoformat()}{late} · {item.status}"


def commitment_line(item: RoadmapCommitment, links: Links, settings: Settings, today: date) -> str:
    late = f", *{(today - item.due).days} days late*" if item.overdue else ""
    what = _label(item.what, links.get(("commitment", item.id)), 150)
    ends = f"{function_name(settings, item.from_function)} → {function_name(settings, item.to_function)}"
    return f"• :handshake: {ends}: {what} — due {item.due.isoformat()}{late} · {item.status} · _#{item.initiative_id}_"


def month_lines(month: Month, links: Links, settings: Settings, today: date) -> list[str]:
    """The month's items by date, initiatives and commitments interleaved."""
    dated: list[tuple[date, int, str]] = [(i.target_date, 0, initiative_line(i, links, today)) for i in month.initiatives]
    dated += [(c.due, 1, commitment_line(c, links, settings, today)) for c in month.commitments]
    return [line for _, _, line in sorted(dated, key=lambda item: (item[0], item[1]))]


def _rest(found: Roadmap) -> str | None:
    parts = []
    if found.later:
        parts.append(f"{found.later} dated later")
    if found.undated:
        parts.append(f"{found.undated} initiative{'s' if found.undated != 1 else ''} without a target date")
    return ", ".join(parts) if parts else None


def roadmap_message(shown: Shown, settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    found = shown.roadmap
    pair = pair_name(settings, found.functions)
    report = f"`cdo-hub report roadmap --pair {found.functions[0]},{found.functions[1]}`"
    blocks: list[dict[str, Any]] = [bk.header(bk.shorten(f"Roadmap: {pair}", 140))]
    note = f"Their open initiatives by target date and commitments by due date, as of {found.today.isoformat()}; overdue first."
    if shown.restricted:
        note += " The hub channel is private: only the initiatives you may see are shown."
    blocks.append(bk.context(note))
    empty = []
    for month in found.months:
        if month.empty:
            if month.key != OVERDUE:
                empty.append(f"{date.fromisoformat(month.key + '-01'):%B}")
            continue
        lines = month_lines(month, shown.links, settings, found.today)
        blocks.append(bk.section(month_title(month.key) + "\n" + fit_lines(lines, report)))
    if not found.items:
        blocks.append(
            bk.section(f"Nothing planned together in the next six months. Start something with `{settings.slack.command} propose`.")
        )
    elif empty:
        blocks.append(bk.context("Nothing planned in " + ", ".join(empty) + "."))
    rest = _rest(found)
    if rest:
        blocks.append(bk.context(f"Not shown: {rest} — {report}."))
    overdue = len(found.months[0].initiatives) + len(found.months[0].commitments)
    text = f"Roadmap of {pair}: {found.items} item{'s' if found.items != 1 else ''} in the next six months, {overdue} overdue"
    return text, bk.fit_message(blocks, f"More: {report}")


def home_blocks(couples: Sequence[Shown], settings: Settings) -> list[dict[str, Any]]:
    """A lead's couples: each one's first items (overdue first), and where the rest is."""
    planned = [shown for shown in couples if shown.roadmap.items]
    blocks: list[dict[str, Any]] = [bk.section("*Your couples' roadmaps* — what your function and each other one have planned together")]
    for shown in planned[:HOME_COUPLES]:
        found = shown.roadmap
        lines = []
        for month in found.months:
            lines += month_lines(month, shown.links, settings, found.today)
        head = f"*{pair_name(settings, found.functions)}* ({found.items})"
        kept = lines[:HOME_ITEMS]  # all that the Home reads of it
        if found.items > len(kept):  # the Home reads only the first items, and counts them all
            kept.append(f"_and {found.items - len(kept)} more — {command_for(settings, found.functions)}_")
        blocks.append(bk.section(head + "\n" + fit_lines(kept, command_for(settings, found.functions))))
    more = planned[HOME_COUPLES:]
    if more:
        names = ", ".join(pair_name(settings, shown.roadmap.functions) for shown in more)
        blocks.append(
            bk.context(bk.shorten(f"Also planned together: {names} — `{settings.slack.command} roadmap <function> <function>`", 1900))
        )
    idle = [shown for shown in couples if not shown.roadmap.items]
    if idle:
        names = ", ".join(pair_name(settings, shown.roadmap.functions) for shown in idle)
        blocks.append(bk.context(bk.shorten(f"Nothing planned together yet: {names}", 1900)))
    return blocks
