"""The weekly digest and the function × function matrix as people read them (pure); the
matrix blocks also answer `/cdo pairs`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.config import Settings
from bot.core import digest as digests
from bot.core.digest import Digest
from bot.core.introductions import Week
from bot.slack import blocks as bk
from bot.slack.obstacles import digest_section
from bot.slack.wording import fit_lines, function_name, initiative_label, pair_name, short_day, working_days


def first_step_line(step: digests.FirstStep, settings: Settings) -> str:
    pair = pair_name(settings, step.functions)
    people = " and ".join(bk.mention(lead) for lead in step.leads if lead) or "their leads"
    topic = f" on the {step.journey} journey" if step.journey else ""
    words = [bk.user_text(word, 60) for word in step.keywords if word]
    where = f", where _{words[0]}_ meets _{words[1]}_" if len(words) == 2 else ""
    return (
        f"• *{pair}*: {people} meet for 30 minutes{topic}{where}, "
        f"and one of them proposes what comes out with `{settings.slack.command} propose`."
    )


def _requests(row: digests.PairRow) -> str:
    """What became of the requests between the pair, when there were any."""
    if not (row.requests_waiting or row.requests_accepted or row.requests_declined):
        return ""
    return f"requests {row.requests_accepted} accepted / {row.requests_declined} declined / {row.requests_waiting} waiting, "


def pairs_blocks(rows: Sequence[digests.PairRow], never_met: Sequence[digests.FirstStep], settings: Settings) -> list[dict[str, Any]]:
    """The function × function matrix and the pairs that never meet (digest and /cdo pairs)."""
    matrix = [
        f"• *{pair_name(settings, row.functions)}* — {row.initiatives} joint initiative{'' if row.initiatives == 1 else 's'}, "
        f"commitments {row.open_commitments} open / {row.overdue_commitments} overdue / {row.done_commitments} done, "
        + _requests(row)
        + f"last met {short_day(row.last_joint_activity_at, settings.tz) if row.last_joint_activity_at else 'never'} · {row.state}"
        for row in rows
    ]
    blocks = [bk.section("*Function × function*\n" + fit_lines(matrix, "`cdo-hub report pairs`"))]
    if never_met:
        lines = [first_step_line(step, settings) for step in never_met]
        blocks.append(
            bk.section(
                f"*Never met in {settings.digest.never_met_days} days*, and a first step\n" + fit_lines(lines, "`cdo-hub report pairs`")
            )
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
        f"• *{initiative_label(s.initiative_id, s.title, 100)}* — {pair_name(settings, s.functions)}: "
        f"{s.state}, silent {working_days(s.days_silent)}" + (f", {s.overdue} overdue" if s.overdue else "")
        for s in digest.stalled.items
    ]
    if digest.stalled.more:
        stalled.append(f"…and {digest.stalled.more} more: `{settings.slack.command} list stalled`.")
    snoozed = f" ({digest.snoozed} snoozed)" if digest.snoozed else ""
    blocks.append(
        bk.section(
            f"*Stalled pairs: {digest.stalled.total}*{snoozed}\n"
            + (fit_lines(stalled, f"`{settings.slack.command} list stalled`") or "None: every pair is moving.")
        )
    )
    blocks.append(bk.section(_commitment_lines(digest, settings)))
    held_back = digest_section(digest.obstacles, settings, digest.at)
    if held_back:
        blocks.append(held_back)
    blocks += pairs_blocks(digest.matrix, digest.never_met, settings)
    if digest.introductions is not None:
        blocks += introductions_blocks(digest.introductions, settings)
    blocks.append(
        bk.context(
            "Everything, unabridged: `cdo-hub report initiatives`, `cdo-hub report pairs`, `cdo-hub report commitments`"
            + (", `cdo-hub report obstacles`." if settings.obstacles else ".")
        )
    )
    text = f"Weekly digest {digest.week}: {digest.stalled.total} stalled pairs, {digest.overdue.total} overdue commitments"
    return text, bk.fit_message(blocks)


def introductions_blocks(week: Week, settings: Settings) -> list[dict[str, Any]]:
    """Which pairs the hub introduced this week, which answered "Not now", which proposed."""
    lines = [f"• Introduced: {pair_name(settings, functions)}" for functions in week.introduced]
    lines += [f"• Not now: {pair_name(settings, functions)}" for functions in week.not_now]
    lines += [f"• Became initiative #{number}: {pair_name(settings, functions)}" for functions, number in week.proposed]
    if not lines:
        return []
    return [bk.section("*Introductions this week*\n" + fit_lines(lines, "`cdo-hub report pairs`"))]


def _commitment_lines(digest: Digest, settings: Settings) -> str:
    lines = [f"*Commitments*: {digest.overdue.total} overdue, {digest.due_soon.total} due within a week"]
    for heading, listed in (("Overdue", digest.overdue), ("Due soon", digest.due_soon)):
        for c in listed.items:
            owner = bk.person(c.owner, nobody=function_name(settings, c.from_function))
            lines.append(
                f"• {heading}: {function_name(settings, c.from_function)} → {function_name(settings, c.to_function)} "
                f"on #{c.initiative_id}: "
                f"“{bk.user_text(c.what, 150)}” due {c.due.isoformat()}, {owner}"
            )
        if listed.more:
            lines.append(f"• …{listed.more} more {heading.lower()}: `cdo-hub report commitments`")
    return fit_lines(lines, "`cdo-hub report commitments`")
