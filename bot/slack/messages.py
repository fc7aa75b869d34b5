"""Messages about initiatives (pure builders): the hub card, routed posts, confirmations,
route failures, and the answers of /cdo list and /cdo status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.core import obstacles, rules
from bot.core.commitments import recorded_by
from bot.models import Commitment, CommitmentChange, Initiative, InitiativeFunction
from bot.slack import blocks as bk
from bot.slack import obstacles as obstacle_words
from bot.slack.ids import Action, CommitmentRef, StatusChoice, dump

STATUS_EMOJI = {
    "proposed": ":seedling:",
    "active": ":large_green_circle:",
    "blocked": ":no_entry:",
    "done": ":white_check_mark:",
    "dropped": ":wastebasket:",
}
ROUTE_EMOJI = {"posted": ":white_check_mark:", "failed": ":x:", "pending": ":hourglass:"}


@dataclass(frozen=True)
class InitiativeRef:
    """Button value naming an initiative."""

    initiative: int


def _names(settings: Settings, keys: Iterable[str]) -> str:
    return ", ".join(settings.functions[key].name if key in settings.functions else key for key in keys)


def label(initiative: Initiative) -> str:
    return f"#{initiative.id} {initiative.title}"


def _summary_fields(initiative: Initiative, settings: Settings) -> dict[str, Any]:
    fields = [
        f"*Functions*\n{bk.user_text(_names(settings, initiative.function_keys), 1900)}",
        f"*Journey*\n{initiative.journey}",
        f"*Proposer*\n{bk.person(initiative.proposer)}",
        f"*Sponsor*\n{bk.mention(initiative.sponsor) if initiative.sponsor else '_none yet_'}",
        f"*Target date*\n{initiative.target_date.isoformat() if initiative.target_date else '_not set_'}",
        f"*Status*\n{STATUS_EMOJI.get(initiative.status, '')} {initiative.status}",
    ]
    return bk.fields_section(fields)


def card(initiative: Initiative, settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    """The hub card; its thread is the cross-function discussion."""
    blocks: list[dict[str, Any]] = [bk.header(f"#{initiative.id} · {bk.user_text(initiative.title, 140)}")]
    if initiative.problem:
        blocks.append(bk.section(bk.user_text(initiative.problem)))
    blocks.append(_summary_fields(initiative, settings))
    if initiative.obstacles:
        blocks.append(bk.section(f"*Known obstacles*\n{bk.user_text(initiative.obstacles, 2900)}"))
    held_back = obstacle_words.card_line(settings, obstacles.linked(initiative, settings))
    if held_back:
        blocks.append(bk.section(held_back))
    if initiative.source_permalink:
        blocks.append(bk.context(f"Proposed from {bk.link(initiative.source_permalink, 'a message')}"))
    blocks.append(bk.context(":speech_balloon: Reply in this thread: it is the discussion of every function involved."))
    blocks.append(
        bk.actions(
            bk.button("Commit", Action.COMMIT.value, dump(InitiativeRef(initiative.id)), style="primary"),
            status_menu(initiative, settings),
        )
    )
    text = f"New initiative #{initiative.id}: {bk.user_text(initiative.title, 500)}"
    return text, blocks


STATUS_CHOICES = {"active": "Mark active", "blocked": "Mark blocked", "done": "Mark done", "dropped": "Drop it"}


def status_menu(initiative: Initiative, settings: Settings) -> dict[str, Any]:
    options = [
        bk.option(label, dump(StatusChoice(initiative.id, status)))
        for status, label in STATUS_CHOICES.items()
        if status != initiative.status
    ]
    if settings.obstacles:
        options.append(obstacle_words.menu_option(initiative.id))
    return {"type": "overflow", "action_id": Action.INITIATIVE_STATUS.value, "options": options}


def routed_post(
    initiative: Initiative, involved: InitiativeFunction, settings: Settings, thread_link: str | None
) -> tuple[str, list[dict[str, Any]]]:
    function = settings.functions[involved.function_key]
    others = [key for key in initiative.function_keys if key != involved.function_key]
    title = bk.user_text(initiative.title, 500)
    lines = [
        f"*{bk.user_text(function.name, 100)}* is needed on initiative *#{initiative.id} {title}*, "
        f"with {bk.user_text(_names(settings, others), 500)}.",
        f"Why {bk.user_text(function.name, 100)}: {bk.user_text(involved.reason, 300)}.",
    ]
    if initiative.problem:
        lines.append(f">{bk.user_text(bk.shorten(initiative.problem, 600), 1200)}")
    elements = [bk.button("Commit", Action.COMMIT.value, dump(InitiativeRef(initiative.id)), style="primary")]
    if thread_link:
        elements.append(bk.button("Open discussion", Action.OPEN_DISCUSSION.value, dump(InitiativeRef(initiative.id)), url=thread_link))
    blocks = [
        bk.section("\n".join(lines)),
        bk.context("Replies in this thread are shared with the hub discussion."),
        bk.actions(*elements),
    ]
    return f"{bk.user_text(function.name, 100)} is needed on initiative #{initiative.id}: {title}", blocks


def fix_hint(route: InitiativeFunction, settings: Settings) -> str:
    function = settings.functions.get(route.function_key)
    channel = function.channel if function else "its channel"
    key = f"functions.{route.function_key}.channel"
    error = route.route_error or "unknown error"
    if error in ("not_in_channel", "method_not_supported_for_channel_type"):
        return (
            f"the bot is not in the private channel {channel}: invite it there (`/invite @CDO Hub`), or change `{key}` in the configuration"
        )
    if error == "is_archived":
        return f"{channel} is archived: unarchive it, or point `{key}` at a live channel"
    if error == "channel_not_found":
        return f"{channel} was not found (or it is private and the bot is not in it): check `{key}` in the configuration, or invite the bot"
    return f"posting in {channel} failed ({error}); it can be retried later"


def route_failures(
    initiative: Initiative, failed: list[InitiativeFunction], settings: Settings, thread_link: str | None
) -> tuple[str, list[dict[str, Any]]]:
    title = bk.user_text(initiative.title, 500)
    lines = [f":warning: Initiative *#{initiative.id} {title}* is saved, but {len(failed)} route(s) did not go out:"]
    for route in failed:
        name = (
            bk.user_text(settings.functions[route.function_key].name, 100)
            if route.function_key in settings.functions
            else route.function_key
        )
        lines.append(f"• *{name}*: {fix_hint(route, settings)}.")
    if thread_link:
        lines.append(f"The hub discussion: {thread_link}")
    text = f"Initiative #{initiative.id} is saved, but {len(failed)} route(s) failed"
    return text, [bk.section("\n".join(lines))]


def confirmation(
    initiative: Initiative,
    settings: Settings,
    thread_link: str | None,
    route_links: dict[str, str],
    *,
    sponsor_problem: str | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    title = bk.user_text(initiative.title, 500)
    head = f":rocket: Your initiative *#{initiative.id} {title}* is in the hub"
    head += f": <{thread_link}|open the discussion>." if thread_link else ", but the hub card could not be posted (see below)."
    lines = [head]
    for route in initiative.functions:
        name = (
            bk.user_text(settings.functions[route.function_key].name, 100)
            if route.function_key in settings.functions
            else route.function_key
        )
        link = route_links.get(route.function_key)
        where = f"<{link}|routed post>" if link else (route.route_error or route.route_status)
        lines.append(f"{ROUTE_EMOJI.get(route.route_status, '')} {name} — {where}")
    if sponsor_problem:
        lines.append(
            f":warning: The sponsor you chose was not kept: {bk.user_text(sponsor_problem, 300)} "
            "Until someone sponsors it, the executives hear of its stalled pairs."
        )
    return f"Initiative #{initiative.id} is in the hub", [bk.section("\n".join(lines))]


def listing(
    initiatives: list[Initiative], settings: Settings, heading: str, *, restricted: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """`restricted`: the hub channel is private and the person sees only some initiatives."""
    private = bk.context(
        f"The hub channel {bk.channel_ref(settings.hub.channel)} is private: you see the initiatives of your functions "
        "and those you proposed or sponsor. Its members, executives and hub staff see them all."
    )
    if not initiatives:
        nothing = [bk.section(f"*{heading}*: none yet. Start one with `{settings.slack.command} propose`.")]
        return f"{heading}: none", nothing + ([private] if restricted else [])
    blocks = [bk.section(f"*{heading}*")]
    for initiative in initiatives[:40]:
        blocks.append(
            bk.section(
                f"{STATUS_EMOJI.get(initiative.status, '')} *#{initiative.id}* {bk.user_text(initiative.title, 300)}\n"
                f"{bk.user_text(_names(settings, initiative.function_keys), 500)} · {initiative.status}"
            )
        )
    if len(initiatives) > 40:
        blocks.append(bk.context(f"{len(initiatives) - 40} more: `cdo-hub report initiatives` lists them all."))
    if restricted:
        blocks.append(private)
    return f"{heading}: {len(initiatives)}", blocks


def status(initiative: Initiative, settings: Settings, thread_link: str | None) -> tuple[str, list[dict[str, Any]]]:
    text, blocks = card(initiative, settings)
    blocks = [block for block in blocks if block["type"] != "actions"]
    route_lines = []
    for route in initiative.functions:
        name = (
            bk.user_text(settings.functions[route.function_key].name, 100)
            if route.function_key in settings.functions
            else route.function_key
        )
        state = route.route_status
        detail = (
            f" — {fix_hint(route, settings)}" if state == "failed" else (f" in <#{route.route_channel}>" if route.route_channel else "")
        )
        route_lines.append(f"{ROUTE_EMOJI.get(state, '')} *{name}* ({bk.user_text(route.reason, 200)}): {state}{detail}")
    blocks.append(bk.section("*Routes*\n" + "\n".join(route_lines)))
    pair_lines = [
        f"• {bk.user_text(_names(settings, pair.functions), 200)}: {pair.state}"
        + (f", last met {pair.last_joint_activity_at:%Y-%m-%d}" if pair.last_joint_activity_at else "")
        for pair in initiative.pairs
    ]
    if pair_lines:
        blocks.append(bk.section("*Pairs*\n" + "\n".join(pair_lines)))
    commitments = [
        f"• #{c.id} {bk.user_text(_names(settings, [c.from_function]), 100)} → {bk.user_text(_names(settings, [c.to_function]), 100)}: "
        f"{bk.user_text(c.what, 200)} (due {c.due.isoformat()}, {c.status})"
        for c in initiative.commitments
    ]
    if commitments:
        blocks.append(bk.section("*Commitments*\n" + "\n".join(commitments[:30])))
    if thread_link:
        blocks.append(bk.context(f"<{thread_link}|Open the hub discussion>"))
    return text, bk.fit_message(blocks)


COMMITMENT_EMOJI = {
    "open": ":handshake:",
    "done": ":white_check_mark:",
    "slipped": ":hourglass_flowing_sand:",
    "blocked": ":no_entry:",
    "cancelled": ":wastebasket:",
}


# How the history shows each change: the action, and whether its new date follows it.
CHANGE_WORDS = {
    "slip": ("slip", True),
    "accepted": ("accepted", False),
    "other_date": ("proposed", True),
    "date_accepted": ("accepted", True),
}
FIRST_ACTIONS = ("created", "requested")  # the message itself says these


def history_lines(commitment: Commitment) -> list[str]:
    lines = []
    for change in commitment.history[-5:]:
        if change.action in FIRST_ACTIONS:
            continue
        words, dated = CHANGE_WORDS.get(change.action, (change.action, False))
        lines.append(
            f"{change.at:%Y-%m-%d} {bk.person(change.actor)} {words}"
            + (f" {'to ' if change.action == 'slip' else ''}{change.new_due.isoformat()}" if dated and change.new_due else "")
            + (f": {bk.user_text(change.reason, 300)}" if change.reason else "")
        )
    return lines


def commitment(commitment: Commitment, settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    """The commitment in the hub thread, updated in place as its status changes."""
    giver = bk.user_text(_names(settings, [commitment.from_function]), 100)
    taker = bk.user_text(_names(settings, [commitment.to_function]), 100)
    owner = bk.person(commitment.owner, nobody="_nobody yet_" if commitment.status in (rules.REQUESTED, rules.DECLINED) else f"*{giver}*")
    lines = [
        f"{COMMITMENT_EMOJI.get(commitment.status, '')} *Commitment #{commitment.id}* — *{giver}* → *{taker}*",
        f"{bk.user_text(commitment.what, 1500)}",
        f"Owner {owner} · due *{commitment.due.isoformat()}* · {commitment.status}",
    ]
    recorder = recorded_by(commitment)
    if commitment.requested_by:
        lines.append(f"Asked for by {bk.person(commitment.requested_by)}")
    elif recorder:
        lines.append(f"Recorded by {bk.person(recorder)} on {giver}'s behalf")
    blocks: list[dict[str, Any]] = [bk.section("\n".join(lines))]
    history = history_lines(commitment)
    if history:
        blocks.append(bk.context(bk.shorten("\n".join(history), 2000)))
    if commitment.status in ("open", "slipped", "blocked"):
        ref = dump(CommitmentRef(commitment.id))
        blocks.append(
            bk.actions(
                bk.button("Done", Action.COMMITMENT_DONE.value, ref, style="primary"),
                bk.button("Slip", Action.COMMITMENT_SLIP.value, ref),
                bk.button("Blocked", Action.COMMITMENT_BLOCKED.value, ref, style="danger"),
            )
        )
    text = f"Commitment #{commitment.id}: {giver} → {taker}, due {commitment.due.isoformat()} ({commitment.status})"
    return text, blocks


ANNOUNCEMENTS = {
    "done": ":white_check_mark: {actor} marked commitment #{id} done.",
    "slip": ":hourglass_flowing_sand: {actor} moved commitment #{id} to {due}: {reason}",
    "blocked": ":no_entry: {actor} marked commitment #{id} blocked: {reason}",
    "cancel": ":wastebasket: {actor} cancelled commitment #{id}.",
}


def announcement(change: CommitmentChange) -> str:
    return ANNOUNCEMENTS[change.action].format(
        actor=bk.person(change.actor, nobody="Someone"),
        id=change.commitment_id,
        due=change.new_due.isoformat() if change.new_due else "",
        reason=bk.user_text(change.reason or "", 1000),
    )
