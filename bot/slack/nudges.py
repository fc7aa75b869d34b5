"""Nudges as people read them (pure): level 1 in the initiative's hub thread to both leads,
level 2 as one DM to an executive naming every pair of theirs that needs a push."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.core.nudge_claims import PairView
from bot.slack import blocks as bk
from bot.slack.ids import Action, NudgeRef, dump
from bot.slack.wording import fit_lines, function_name, in_order, initiative_label, pair_name, short_day, working_days

BUTTONED = 15  # pairs in one executive DM that get their own buttons; the rest are listed
SHOWN_OVERDUE = 5


def _silence_lines(view: PairView, settings: Settings) -> list[str]:
    lines = []
    facts = dict(zip(view.functions, zip(view.health.silent_days, view.health.never_acted, strict=True), strict=True))
    for key in in_order(settings, view.functions):
        days, never = facts[key]
        if never:
            lines.append(f"• *{function_name(settings, key)}* has not acted on it yet ({working_days(days)})")
        elif days:
            lines.append(f"• *{function_name(settings, key)}*: silent for {working_days(days)}")
        else:
            lines.append(f"• *{function_name(settings, key)}*: active today")
    overdue = view.health.overdue
    for item in overdue[:SHOWN_OVERDUE]:
        owner = bk.person(item.owner, nobody=function_name(settings, item.from_function))
        lines.append(
            f"• Overdue: {function_name(settings, item.from_function)} → {function_name(settings, item.to_function)}: "
            f"“{bk.user_text(item.what, 200)}”, due {item.due.isoformat()} "
            f"({item.days_late} day{'' if item.days_late == 1 else 's'} late), owner {owner}"
        )
    if len(overdue) > SHOWN_OVERDUE:
        lines.append(f"• …and {len(overdue) - SHOWN_OVERDUE} more overdue")
    return lines


def _ref(view: PairView) -> str:
    return dump(NudgeRef(view.pair_id, view.round, view.nudge_id))


def pair_nudge(view: PairView, settings: Settings, leads: Sequence[str]) -> tuple[str, list[dict[str, Any]]]:
    """Level 1, in the initiative's hub thread, addressed to both functions' leads."""
    pair = pair_name(settings, view.functions)
    who = " ".join(bk.mention(lead) for lead in leads)
    escalate = bk.mention(view.sponsor) if view.sponsor else "the executives"
    blocks = [
        bk.section(f":wave: {who} — *{pair}* have not worked together on *{initiative_label(view.initiative_id, view.title)}* lately."),
        bk.section("\n".join(_silence_lines(view, settings))),
        bk.context(
            f"A reply in this thread or a commitment between you counts. If nothing joint happens in "
            f"{working_days(settings.nudges.escalate_after_days)}, {escalate} will be asked to help."
        ),
        bk.actions(
            bk.button("We're on it", Action.NUDGE_ON_IT.value, _ref(view), style="primary"),
            bk.button("Snooze a week", Action.NUDGE_SNOOZE.value, _ref(view)),
            bk.button("Blocked", Action.NUDGE_BLOCKED.value, _ref(view), style="danger"),
            block_id=f"nudge.{view.nudge_id}",
        ),
    ]
    text = f"{pair}: no joint activity on #{view.initiative_id} for {working_days(view.health.days_silent)}"
    return text, blocks


def _escalation_reason(view: PairView, settings: Settings, zone: ZoneInfo) -> str:
    if view.blocked_by:
        return f":no_entry: {bk.mention(view.blocked_by)} says the pair is blocked and needs you."
    nudged = f"their leads were nudged {short_day(view.nudged_at, zone)}" if view.nudged_at else "their leads were nudged"
    return f"No joint activity for {working_days(view.health.days_silent)}; {nudged} and nothing joint happened since."


def executive_nudge(
    views: Sequence[PairView], settings: Settings, zone: ZoneInfo, links: dict[int, str | None]
) -> tuple[str, list[dict[str, Any]]]:
    """Level 2: one DM to an executive, naming every pair of theirs that needs a push."""
    count = len(views)
    blocks: list[dict[str, Any]] = [
        bk.section(
            f":rotating_light: {'A pair' if count == 1 else f'{count} pairs'} of functions on initiatives you sponsor or oversee "
            f"{'is' if count == 1 else 'are'} stuck."
        )
    ]
    for view in views[:BUTTONED]:
        lines = [
            f"*{initiative_label(view.initiative_id, view.title)}* — *{pair_name(settings, view.functions)}*",
            _escalation_reason(view, settings, zone),
        ]
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
        lines = [
            f"• *{initiative_label(v.initiative_id, v.title, 100)}* — {pair_name(settings, v.functions)}, "
            f"{working_days(v.health.days_silent)}"
            for v in rest
        ]
        blocks.append(bk.section(fit_lines(lines, "`/cdo list stalled` lists them all")))
    first = views[0]
    text = f"{pair_name(settings, first.functions)} are stuck on #{first.initiative_id}" + (
        f" (and {count - 1} more pairs)" if count > 1 else ""
    )
    return text, bk.fit_message(blocks)
