"""Nudges as people read them (pure): level 1 in the initiative's hub thread to the leads of
every pair of it that stalled (one message), level 2 as one DM to an executive naming every
pair of theirs that needs a push."""

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
BUTTONED_PAIRS = 20  # pairs in one thread message with their own buttons: 2 blocks each, within 50
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
    unanswered = view.health.unanswered
    for request in unanswered[:SHOWN_OVERDUE]:
        asked = function_name(settings, request.from_function)
        lines.append(
            f"• Unanswered: {function_name(settings, request.to_function)} asked {asked} for "
            f"“{bk.user_text(request.what, 200)}” by {request.due.isoformat()} (request #{request.id}, from "
            f"{bk.mention(request.asked_by)}): {asked} has not answered in {working_days(request.days_waiting)}"
        )
    if len(unanswered) > SHOWN_OVERDUE:
        lines.append(f"• …and {len(unanswered) - SHOWN_OVERDUE} more unanswered requests")
    return lines


def _ref(view: PairView) -> str:
    return dump(NudgeRef(view.pair_id, view.round, view.nudge_id))


def pair_nudge(views: Sequence[PairView], settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    """Level 1, in the initiative's hub thread: every pair of it due now in one message, each
    named with its leads (those of `view.recipients`: only leads in their working hours)."""
    if len(views) == 1:
        return _one_pair(views[0], settings)
    first = views[0]
    label = initiative_label(first.initiative_id, first.title)
    blocks = [bk.section(f":wave: *{len(views)} pairs of functions* have not worked together on *{label}* lately.")]
    for view in views[:BUTTONED_PAIRS]:
        lines = [f"*{pair_name(settings, view.functions)}* — {_who(view)}", *_silence_lines(view, settings)]
        blocks.append(bk.section(fit_lines(lines, "`/cdo status` shows the rest")))
        blocks.append(_pair_buttons(view))
    rest = views[BUTTONED_PAIRS:]
    if rest:
        lines = [f"• *{pair_name(settings, v.functions)}* — {_who(v)}, {working_days(v.health.days_silent)}" for v in rest]
        blocks.append(bk.section(fit_lines(lines, f"`/cdo status {first.initiative_id}` lists them all")))
    blocks.append(bk.context(_what_counts(next((v for v in views if v.health.unanswered), first), settings)))
    text = f"{len(views)} pairs of functions: no joint activity on #{first.initiative_id} lately"
    return text, bk.fit_message(blocks)


def _one_pair(view: PairView, settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    pair = pair_name(settings, view.functions)
    blocks = [
        bk.section(
            f":wave: {_who(view)} — *{pair}* have not worked together on *{initiative_label(view.initiative_id, view.title)}* lately."
        ),
        bk.section("\n".join(_silence_lines(view, settings))),
        bk.context(_what_counts(view, settings)),
        _pair_buttons(view),
    ]
    text = f"{pair}: no joint activity on #{view.initiative_id} for {working_days(view.health.days_silent)}"
    return text, blocks


def _who(view: PairView) -> str:
    return " ".join(bk.mention(lead) for lead in view.recipients)


def _what_counts(view: PairView, settings: Settings) -> str:
    escalate = bk.mention(view.sponsor) if view.sponsor else "the executives"
    answer = " Answering the request on its message in this thread counts too." if view.health.unanswered else ""
    return (
        f"A reply in this thread or a commitment between you counts. If nothing joint happens in "
        f"{working_days(settings.nudges.escalate_after_days)}, {escalate} will be asked to help.{answer}"
    )


def _pair_buttons(view: PairView) -> dict[str, Any]:
    return bk.actions(
        bk.button("We're on it", Action.NUDGE_ON_IT.value, _ref(view), style="primary"),
        bk.button("Snooze a week", Action.NUDGE_SNOOZE.value, _ref(view)),
        bk.button("Blocked", Action.NUDGE_BLOCKED.value, _ref(view), style="danger"),
        block_id=f"nudge.{view.nudge_id}",
    )


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
