"""The weekly digest and `cdo-hub report pairs`: the function × function matrix, the pairs
that never meet, once a week per person in their working hours, within Block Kit limits."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from bot.core import initiatives
from bot.db import transaction
from bot.models import Commitment, Initiative
from bot.reports import REPORTS, render
from bot.sandbox.emulator import block_problems
from tests.nudge_world import World, paris, sqlite_only


def add_commitment(world: World, initiative_id: int, *, status: str, due: date, ends=("it", "marketing"), what="API spec") -> None:
    at = world.clock.now()
    with transaction(world.hub.sessions) as session:
        session.add(
            Commitment(
                initiative_id=initiative_id,
                from_function=ends[0],
                to_function=ends[1],
                owner="U0CIO",
                what=what,
                due=due,
                status=status,
                created_at=at,
                updated_at=at,
            )
        )


def pairs_report(world: World, at: datetime) -> dict[frozenset, dict]:
    with world.hub.sessions() as session:
        rows = REPORTS["pairs"](session, world.hub.settings, at)
    return {frozenset(row["functions"]): row for row in rows}


def test_the_pairs_report_has_every_pair_of_functions_with_its_figures(world):
    first = world.propose(paris(2, 10))
    world.propose(paris(2, 10), title="Second")
    world.commit(first, paris(3, 15), due=date(2026, 3, 5))  # joint activity on the 3rd
    add_commitment(world, first, status="done", due=date(2026, 3, 4), ends=("marketing", "it"))
    add_commitment(world, first, status="open", due=date(2026, 4, 1))
    report = pairs_report(world, paris(9, 10))

    assert set(report) == {frozenset({"marketing", "it"}), frozenset({"marketing", "hr"}), frozenset({"it", "hr"})}
    row = report[frozenset({"marketing", "it"})]
    assert row == {
        "functions": ["marketing", "it"],
        "initiatives": 2,
        "open_commitments": 2,
        "overdue_commitments": 1,
        "done_commitments": 1,
        "last_joint_activity_at": "2026-03-03T14:00:00+00:00",  # aware UTC
        "state": "stalled",  # an overdue commitment, and the second initiative is silent
        "requests_waiting": 0,
        "requests_accepted": 0,
        "requests_declined": 0,
        "introduced_at": None,  # never introduced: they work together
        "introduction": None,
    }
    assert report[frozenset({"marketing", "hr"})]["state"] == "never-met"
    assert report[frozenset({"it", "hr"})]["initiatives"] == 0
    # The JSON of `cdo-hub report pairs --format json` is those rows.
    with world.hub.sessions() as session:
        rendered = json.loads(render(REPORTS["pairs"](session, world.hub.settings, paris(9, 10)), "json"))
    assert len(rendered) == 3 and all(set(r) == set(row) for r in rendered)


@sqlite_only
def test_never_met_looks_back_never_met_days(world):
    old = world.propose(paris(2, 10) - timedelta(days=100), functions=("hr", "it"), title="Long ago")
    assert pairs_report(world, paris(9, 10))[frozenset({"hr", "it"})]["state"] == "never-met"
    world.act(old, "U0CHRO", paris(5, 10))
    world.act(old, "U0CIO", paris(5, 11))  # they met last week on the old initiative
    assert pairs_report(world, paris(9, 10))[frozenset({"hr", "it"})]["state"] == "active"
    with transaction(world.hub.sessions) as session:
        session.get(Initiative, old).status = "done"
    assert pairs_report(world, paris(9, 10))[frozenset({"hr", "it"})]["state"] == "quiet"  # met, nothing open
    assert pairs_report(world, paris(9, 10) + timedelta(days=95))[frozenset({"hr", "it"})]["state"] == "never-met"


def test_the_digest_goes_to_executives_and_staff_once_a_week(world):
    world.propose(paris(2, 10))
    first = world.digest(paris(16, 9))
    assert sorted(line.delivery.channel for line in first.lines if line.status == "sent") == ["U0CDO", "U0CEO"]
    again = world.digest(paris(16, 14))
    assert [line.status for line in again.lines] == ["already", "already"]
    assert len(world.digests("U0CEO")) == 1 and len(world.digests("U0CDO")) == 1
    world.digest(paris(23, 9))
    assert len(world.digests("U0CEO")) == 2


@sqlite_only
def test_the_digest_waits_for_each_recipients_working_hours(world):
    world.emulator.workspace.users["U0CEO"].tz = "America/New_York"
    report = world.digest(paris(16, 9))
    status = {line.delivery.channel: (line.status, line.at) for line in report.lines}
    assert status["U0CDO"][0] == "sent"
    assert status["U0CEO"] == ("deferred", paris(16, 14))  # 09:00 in New York
    assert world.digests("U0CEO") == []
    world.sweep(paris(16, 13, 55))
    assert world.digests("U0CEO") == []
    world.sweep(paris(16, 14, 5))  # the nudge sweep delivers what waited
    assert len(world.digests("U0CEO")) == 1


@sqlite_only
def test_the_digest_says_what_matters(world):
    stalled = world.propose(paris(2, 10), title="Customer 360 <!channel> <https://evil.example|click>")
    world.propose(paris(2, 10), functions=("hr", "marketing"), title="Employer brand", sponsor=None)
    with transaction(world.hub.sessions) as session:
        session.get(Initiative, stalled - 0).status = "active"
    add_commitment(world, stalled, status="open", due=date(2026, 3, 10), what="Share the ERP export")
    add_commitment(world, stalled, status="open", due=date(2026, 3, 19), what="Review the DAM shortlist")
    world.digest(paris(16, 9))
    [message] = world.digests("U0CEO")
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "2 active" in text
    assert "*Stalled pairs: 2*" in text
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt;" in text and "<!channel>" not in text
    assert "1 overdue, 1 due within a week" in text
    assert "Overdue: IT → Marketing on #1: “Share the ERP export” due 2026-03-10" in text
    assert "Due soon: IT → Marketing on #1: “Review the DAM shortlist” due 2026-03-19" in text
    assert "*Marketing × IT* — 1 joint initiative, commitments 2 open / 1 overdue / 0 done" in text
    assert "*Never met in 90 days*" in text and "*IT × HR*: <@U0CIO> and <@U0CHRO> meet for 30 minutes" in text
    assert "*Marketing × HR*" in text.split("*Never met")[0]  # they have a joint initiative


def test_the_digest_counts_requests_answered_and_declined_per_pair(world):
    initiative = world.propose(paris(2, 10), functions=("marketing", "it", "hr"))
    world.ask(initiative, paris(2, 11), due=date(2026, 4, 1), what="Waiting")
    world.ask(initiative, paris(2, 11), due=date(2026, 4, 1), what="Answered later", ends=("marketing", "it"), asker="U0CIO")
    declined = world.ask(initiative, paris(2, 11), due=date(2026, 4, 1), what="Declined", ends=("hr", "it"), asker="U0CIO")
    accepted = world.ask(initiative, paris(2, 11), due=date(2026, 4, 1), what="Accepted")
    with transaction(world.hub.sessions) as session:
        session.get(Commitment, declined).status = "declined"
        taken = session.get(Commitment, accepted)
        taken.status, taken.owner = "open", "U0IT1"
    report = pairs_report(world, paris(9, 10))
    it_marketing = report[frozenset({"marketing", "it"})]
    assert (it_marketing["requests_waiting"], it_marketing["requests_accepted"], it_marketing["requests_declined"]) == (2, 1, 0)
    assert it_marketing["open_commitments"] == 1  # the accepted one; a request is owed by nobody yet
    it_hr = report[frozenset({"hr", "it"})]
    assert (it_hr["requests_waiting"], it_hr["requests_accepted"], it_hr["requests_declined"]) == (0, 0, 1)

    world.digest(paris(16, 9))
    [message] = world.digests("U0CEO")
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert (
        "*Marketing × IT* — 1 joint initiative, commitments 1 open / 0 overdue / 0 done, requests 1 accepted / 0 declined / 2 waiting"
        in text
    )
    assert "*IT × HR* — 1 joint initiative, commitments 0 open / 0 overdue / 0 done, requests 0 accepted / 1 declined / 0 waiting" in text
    assert "*Marketing × HR* — 1 joint initiative, commitments 0 open / 0 overdue / 0 done, last met" in text  # no requests: not said


@sqlite_only
def test_a_digest_over_500_initiatives_stays_within_block_kit_limits(world):
    settings = world.hub.settings
    hostile = "<!here> " + "ERP & DAM <b> " * 30
    with transaction(world.hub.sessions) as session:
        for n in range(500):
            proposal = initiatives.Proposal(
                proposer="U0CMO", title=f"{n} {hostile}"[:150], functions=("marketing", "it", "hr"), sponsor="U0CEO"
            )
            initiative = initiatives.create(session, proposal, settings, paris(2, 10))
            initiative.status = "active"
            session.add(
                Commitment(
                    initiative_id=initiative.id,
                    from_function="it",
                    to_function="hr",
                    owner="U0CIO",
                    what=hostile * 3,
                    due=date(2026, 3, 4),
                    status="open",
                    created_at=paris(2, 10),
                    updated_at=paris(2, 10),
                )
            )
    report = world.digest(paris(16, 9))
    assert report.count("sent") == 2
    assert world.emulator.errors() == []
    [message] = world.digests("U0CEO")
    assert len(message.blocks) <= 50 and block_problems(message.blocks, 50) == []
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "*Stalled pairs: 1500*" in text and "…and 1490 more" in text
    assert "500 overdue" in text and "&lt;!here&gt;" in text and "<!here>" not in text
    assert len(message.text) < 3000
