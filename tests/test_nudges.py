"""The nudge sweep on SQLite and Postgres against the Slack emulator, its time driven by a
fixed clock: working days and hours, escalation, anti-fatigue, exactly once."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.app.people import ZoneBook
from bot.core import nudge_answers, nudge_claims, nudges
from bot.db import transaction
from bot.models import Nudge, Pair, SlackUser
from tests.nudge_world import World, paris, sent, sqlite_only


@sqlite_only
def test_nothing_before_the_pair_stalls(world):
    initiative = world.propose(paris(2, 10))
    report = world.sweep(paris(6, 11))  # Friday: 4 working days
    assert report.checked == 1 and report.lines == []
    assert world.pair_nudges(initiative) == []
    assert world.pair(initiative).state == "quiet"


def test_a_stall_at_the_weekend_is_nudged_on_monday_morning_once(world):
    initiative = world.propose(paris(1, 12))  # a Sunday: stalled from Friday
    night = world.sweep(paris(6, 22))
    [deferred] = night.lines
    assert deferred.status == "deferred" and deferred.at == paris(9, 9)
    for moment in (paris(7, 11), paris(8, 15), paris(9, 8, 59)):  # Saturday, Sunday, Monday before hours
        assert sent(world.sweep(moment)) == []
    assert world.pair_nudges(initiative) == []
    assert sent(world.sweep(paris(9, 9, 5))) == [nudge_claims.pair_key(world.pair(initiative).id, 0, 1)]
    for moment in (paris(9, 9, 20), paris(9, 15), paris(10, 10)):  # the same day, the next day
        assert sent(world.sweep(moment)) == []
    [message] = world.pair_nudges(initiative)
    rendered = json.dumps(message.blocks, ensure_ascii=False)
    assert ":wave: <@U0CMO> <@U0CIO> — *Marketing × IT* have not worked together on *#1 One customer view* lately." in rendered
    assert "has not acted on it yet (6 working days)" in rendered  # Monday the 2nd to Monday the 9th
    assert {"nudge_on_it", "nudge_snooze", "nudge_blocked"} <= {
        e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]
    }


@sqlite_only
def test_one_function_silent_is_named_and_the_other_is_not(world):
    initiative = world.propose(paris(2, 10))
    world.act(initiative, "U0CIO", paris(6, 16))
    assert sent(world.sweep(paris(9, 10)))
    [message] = world.pair_nudges(initiative)
    text = json.dumps(message.blocks)
    assert "*Marketing* has not acted on it yet (5 working days)" in text
    assert "*IT*: silent for 1 working day" in text


def test_activity_since_it_was_planned_cancels_the_nudge(world):
    initiative = world.propose(paris(1, 12))
    assert world.sweep(paris(6, 22)).lines[0].status == "deferred"
    world.act(initiative, "U0CMO", paris(7, 10))
    world.act(initiative, "U0CIO", paris(8, 10))
    report = world.sweep(paris(9, 9, 5))
    assert sent(report) == []
    assert world.pair_nudges(initiative) == []
    [row] = world.nudge_rows()
    assert row.status == "cancelled"
    assert world.pair(initiative).state == "active"


def test_escalation_reaches_the_sponsor_once_after_an_ignored_nudge(world):
    initiative = world.propose(paris(2, 10))
    days = [paris(day, 10) for day in range(9, 24) if paris(day, 10).weekday() < 5]
    sends = {moment.date(): sent(world.sweep(moment)) for moment in days}
    pair_id = world.pair(initiative).id
    assert sends[date(2026, 3, 9)] == [nudge_claims.pair_key(pair_id, 0, 1)]
    assert sends[date(2026, 3, 16)] == [nudge_claims.pair_key(pair_id, 0, 2, "U0CEO")]  # 5 working days later
    assert sum(len(keys) for keys in sends.values()) == 2
    [dm] = world.escalations("U0CEO")
    text = json.dumps(dm.blocks)
    assert "#1 One customer view" in text and "Marketing" in text and "IT" in text
    assert "No joint activity for 10 working days" in text and "nudged Mon 9 Mar" in text
    assert {"nudge_again", "nudge_snooze", "open_discussion"} <= {
        e["action_id"] for b in dm.blocks if b["type"] == "actions" for e in b["elements"]
    }
    assert world.pair(initiative).state == "escalated"


def test_without_a_sponsor_the_executives_are_told(migrated_sqlite_url, emulator):
    world = World(migrated_sqlite_url, emulator, hub={"executives": ("U0CEO", "U0CHRO")})
    try:
        world.propose(paris(2, 10), sponsor=None)
        world.sweep(paris(9, 10))
        world.sweep(paris(16, 10))
        assert len(world.escalations("U0CEO")) == 1 and len(world.escalations("U0CHRO")) == 1
    finally:
        world.close()


def test_a_sponsor_who_left_is_replaced_by_the_executives(migrated_sqlite_url, emulator):
    world = World(migrated_sqlite_url, emulator, hub={"executives": ("U0CEO", "U0CHRO")})
    try:
        world.propose(paris(2, 10), sponsor="U0CEO")
        world.emulator.workspace.users["U0CEO"].deleted = True  # left the company since
        world.sweep(paris(9, 10))
        report = world.sweep(paris(16, 10))
        assert [(line.status, line.delivery.channel) for line in report.lines] == [("sent", "U0CHRO")]
        assert len(world.escalations("U0CHRO")) == 1 and world.emulator.errors() == []
    finally:
        world.close()


@sqlite_only
def test_only_joint_activity_after_the_nudge_prevents_the_escalation(world):
    one_side = world.propose(paris(2, 10), title="Only Marketing answers")
    both = world.propose(paris(2, 10), title="Both answer")
    world.sweep(paris(9, 10))
    world.act(one_side, "U0CMO", paris(11, 10))
    world.act(both, "U0CMO", paris(11, 10))
    world.act(both, "U0CIO", paris(12, 10))
    for day in (13, 16, 17):
        world.sweep(paris(day, 10))
    [dm] = world.escalations("U0CEO")
    text = json.dumps(dm.blocks)
    assert "Only Marketing answers" in text and "Both answer" not in text
    assert "*IT* has not acted on it yet" in text and "*Marketing*: silent for 3 working days" in text
    assert world.pair(both).state == "quiet"  # Marketing silent 4 working days: not stalled
    assert world.pair(one_side).state == "escalated"


@sqlite_only
def test_an_overdue_commitment_stalls_an_active_pair(world):
    initiative = world.propose(paris(2, 10))
    world.commit(initiative, paris(3, 10), due=date(2026, 3, 4))  # joint activity on Tuesday
    assert sent(world.sweep(paris(4, 15))) == []  # due today
    assert sent(world.sweep(paris(5, 10)))  # a day late
    [message] = world.pair_nudges(initiative)
    assert "Overdue: IT → Marketing: “API spec”, due 2026-03-04 (1 day late), owner <@U0CIO>" in json.dumps(
        message.blocks, ensure_ascii=False
    )


@sqlite_only
def test_one_dm_per_person_per_sweep_batches_the_pairs(world):
    ids = [world.propose(paris(2, 10), title=f"Initiative {n}") for n in range(3)]
    world.sweep(paris(9, 10))
    assert all(len(world.pair_nudges(i)) == 1 for i in ids)
    report = world.sweep(paris(16, 10))
    assert len(sent(report)) == 3  # three escalations…
    [dm] = world.escalations("U0CEO")  # …in one message
    text = json.dumps(dm.blocks)
    assert all(f"#{i} Initiative" in text for i in ids)
    assert len({line.ts for line in report.lines}) == 1


def test_a_person_gets_at_most_one_nudge_dm_a_day_of_theirs(world):
    early = world.propose(paris(2, 10), title="Early")
    late = world.propose(paris(3, 10), title="Late")
    world.sweep(paris(9, 10))
    world.sweep(paris(10, 10))  # each pair is nudged once
    first = world.sweep(paris(16, 10))
    assert [line.delivery.initiative_id for line in first.lines if line.status == "sent"] == [early]
    # That afternoon the Late pair says it is blocked: its executive is to be told at once…
    pair = world.pair(late)
    with transaction(world.hub.sessions) as session:
        answered = nudge_answers.blocked(session, world.hub.settings, pair.id, pair.nudge_round, "U0CMO", paris(16, 14))
    assert answered.outcome is nudge_answers.Outcome.DONE
    afternoon = world.sweep(paris(16, 15))
    [line] = [line for line in afternoon.lines if line.delivery.initiative_id == late]
    assert (line.status, line.at) == ("deferred", paris(17, 9))  # …but has had a nudge DM today
    assert len(world.escalations("U0CEO")) == 1
    morning = world.sweep(paris(17, 9, 5))
    assert [line.delivery.initiative_id for line in morning.lines if line.status == "sent"] == [late]
    assert len(world.escalations("U0CEO")) == 2


@sqlite_only
def test_recipients_in_their_own_time_zone_across_the_date_line(world):
    world.emulator.workspace.users["U0CEO"].tz = "Pacific/Auckland"
    world.propose(paris(2, 10))
    world.sweep(paris(9, 10))
    # Friday 20 March 22:00 in Paris is Saturday 10:00 in Auckland: not then…
    report = world.sweep(paris(20, 22))
    [line] = report.lines
    assert line.status == "deferred" and line.delivery.level == 2
    assert line.at == paris(22, 21)  # …but Monday 09:00 in Auckland, Sunday 21:00 in Paris
    assert sent(world.sweep(paris(22, 20, 59))) == []
    assert len(sent(world.sweep(paris(22, 21, 5)))) == 1  # a Sunday in Paris
    assert len(world.escalations("U0CEO")) == 1
    with world.hub.sessions() as session:  # users.info is cached
        assert session.get(SlackUser, "U0CEO").tz == "Pacific/Auckland"


@sqlite_only
def test_leads_who_never_share_an_hour_are_each_reached_in_their_own(world):
    world.emulator.workspace.users["U0CMO"].tz = "Asia/Tokyo"
    world.emulator.workspace.users["U0CIO"].tz = "America/New_York"
    initiative = world.propose(paris(2, 10))
    report = world.sweep(paris(9, 6))  # Monday 14:00 in Tokyo, 00:00 in New York
    [tokyo] = world.pair_nudges(initiative)
    assert "<@U0CMO>" in json.dumps(tokyo.blocks) and "<@U0CIO>" not in json.dumps(tokyo.blocks)
    [waiting] = [line for line in report.lines if line.status == "deferred"]
    assert waiting.delivery.recipients == ("U0CIO",) and waiting.at == paris(9, 14)  # 09:00 in New York (summer time)
    world.sweep(paris(9, 14, 5))
    first, second = world.pair_nudges(initiative)
    assert "<@U0CIO>" in json.dumps(second.blocks) and "<@U0CMO>" not in json.dumps(second.blocks)
    assert [row.status for row in world.nudge_rows()] == ["sent", "sent"]
    world.sweep(paris(10, 15, 5))
    assert len(world.pair_nudges(initiative)) == 2  # one round, told twice, once each


def test_snooze_skips_a_week_then_a_new_round_begins(world):
    initiative = world.propose(paris(2, 10))
    world.sweep(paris(9, 10))
    pair = world.pair(initiative)
    with transaction(world.hub.sessions) as session:
        answer = nudge_answers.snooze(session, world.hub.settings, pair.id, 0, "U0CMO", paris(9, 11))
    assert answer.outcome is nudge_answers.Outcome.DONE
    for day in (10, 12, 13, 16):
        assert sent(world.sweep(paris(day, 10))) == []
    assert world.pair(initiative).state == "snoozed"
    assert sent(world.sweep(paris(16, 11, 5))) == [nudge_claims.pair_key(pair.id, 1, 1)]  # a week later
    assert world.escalations("U0CEO") == []


@pytest.mark.parametrize("cap, expected", [(1, paris(16, 10)), (2, paris(10, 11))])
def test_at_most_so_many_pair_nudges_a_week(migrated_sqlite_url, emulator, cap, expected):
    world = World(migrated_sqlite_url, emulator, nudges={"max_per_pair_per_week": cap})
    try:
        initiative = world.propose(paris(2, 10))
        world.sweep(paris(9, 10))
        pair = world.pair(initiative)
        with transaction(world.hub.sessions) as session:
            nudge_answers.again(session, world.hub.settings, pair.id, 0, "U0CEO", paris(10, 11))
        when = None
        moment = paris(10, 11)
        while moment <= paris(17, 10) and when is None:
            if sent(world.sweep(moment)):
                when = moment
            moment += timedelta(hours=1)
        assert when == expected
        assert len(world.pair_nudges(initiative)) == 2
    finally:
        world.close()


@sqlite_only
def test_a_closed_initiative_is_not_nudged(world):
    initiative = world.propose(paris(2, 10))
    with transaction(world.hub.sessions) as session:
        session.get(Pair, world.pair(initiative).id).initiative.status = "done"
    assert sent(world.sweep(paris(9, 10))) == []
    assert world.pair(initiative).next_check_at == paris(16, 10)  # looked at weekly, in case it reopens


def test_a_crash_between_claim_and_send_is_completed_once(world):
    first = world.propose(paris(2, 10), title="Claimed, then the process died")
    second = world.propose(paris(2, 10), title="Died while posting")
    world.clock.set(paris(9, 10))
    # Process 1 claims both and dies before sending anything.
    people = ZoneBook(world.hub, world.clock.now())
    with transaction(world.hub.sessions) as session:
        batch = nudges.plan_batch(session, world.hub.settings, world.clock.now(), people)
        assert len(nudge_claims.claim(session, batch.deliveries, world.clock.now())) == 2
    # Process 2 leases the first message's nudge and dies in the middle of its post.
    crashing = world.another_process()
    paced = crashing.gateway.turns

    def dying(seconds):
        turns = paced(seconds)

        def dies(*args, **kwargs):
            raise SystemExit("killed")

        turns.post = dies  # type: ignore[method-assign]
        return turns

    crashing.gateway.turns = dying  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        world.sweep(paris(9, 10, 15), hub=crashing)
    crashing.close()
    leased, untouched = world.nudge_rows()
    assert (leased.status, leased.error, leased.not_before) == ("claimed", nudge_claims.IN_FLIGHT, paris(9, 10, 15) + nudge_claims.LEASE)
    assert (untouched.status, untouched.error) == ("claimed", None)
    # A later sweep sends the untouched one at once, and the leased one when its lease is over.
    assert sent(world.sweep(paris(9, 10, 16))) == [untouched.key]
    assert sent(world.sweep(paris(9, 10, 17))) == [leased.key]
    assert sent(world.sweep(paris(9, 10, 45))) == []
    assert len(world.pair_nudges(first)) == 1 and len(world.pair_nudges(second)) == 1


@sqlite_only
def test_a_claim_left_overnight_waits_for_working_hours(world):
    initiative = world.propose(paris(2, 10))
    world.emulator.fail("chat.postMessage", "service_unavailable", times=10)  # Slack is down at 17:30
    report = world.sweep(paris(9, 17, 30))
    assert [line.status for line in report.lines] == ["retry"]
    [row] = world.nudge_rows()
    assert (row.status, row.attempts, row.error) == ("claimed", 1, "service_unavailable")
    world.emulator.reset_records()
    report = world.sweep(paris(9, 22))  # back up at night: not now
    assert [line.status for line in report.lines] == ["deferred"] and report.lines[0].at == paris(10, 9)
    world.emulator._faults.clear()
    assert len(sent(world.sweep(paris(10, 9, 5)))) == 1
    assert len(world.pair_nudges(initiative)) == 1


@sqlite_only
def test_a_rate_limit_is_waited_out_by_its_channel_and_the_nudge_sent_once(world, retry_waits):
    initiative = world.propose(paris(2, 10))
    world.emulator.rate_limit("chat.postMessage", retry_after=2)
    assert len(sent(world.sweep(paris(9, 10)))) == 1
    assert len(world.pair_nudges(initiative)) == 1
    assert [c.status for c in world.emulator.calls_to("chat.postMessage")][-2:] == [429, 200]
    assert world.time.slept == [2.0]  # Retry-After was honoured, by the pass's pacing…
    assert retry_waits == []  # …not by slack_sdk, which would have held up every other channel
    assert [row.attempts for row in world.nudge_rows()] == [1]  # the 429 cost no attempt


def test_a_target_error_is_recorded_and_the_others_go_on(world):
    broken = world.propose(paris(2, 10), title="Its thread is gone")
    fine = world.propose(paris(2, 10), title="Fine")
    _, broken_ts = world.thread_of(broken)
    world.emulator.fail("chat.postMessage", "thread_not_found", when=lambda args: args.get("thread_ts") == broken_ts)
    report = world.sweep(paris(9, 10))
    assert sorted(line.status for line in report.lines) == ["failed", "sent"]
    failed = next(row for row in world.nudge_rows() if row.status == "failed")
    assert failed.error == "thread_not_found" and failed.initiative_id == broken
    assert len(world.pair_nudges(fine)) == 1
    assert sent(world.sweep(paris(9, 11))) == []  # not retried
    world.sweep(paris(16, 10))
    assert len(world.escalations("U0CEO")) == 1  # the executive still hears of it


def test_a_broken_install_stops_the_sweep_and_keeps_the_claims(world):
    initiative = world.propose(paris(2, 10))
    assert world.sweep(paris(9, 7)).lines[0].status == "deferred"  # claimed, for 09:00
    world.emulator.revoke_token()
    report = world.sweep(paris(9, 10))
    assert report.install_error == "token_revoked"
    assert world.hub.gateway.install_error is not None
    assert sent(report) == [] and world.pair_nudges(initiative) == []
    assert [row.status for row in world.nudge_rows()] == ["claimed"]
    world.emulator.restore_token()
    fixed = world.another_process()  # the operator fixed the token and restarted
    assert len(sent(world.sweep(paris(9, 11), hub=fixed))) == 1
    fixed.close()


def test_a_dry_run_sends_nothing_and_changes_nothing(world):
    initiative = world.propose(paris(2, 10))
    world.emulator.reset_records()

    def snapshot():
        with world.hub.sessions() as session:
            pairs = [(p.state, p.nudge_level, p.nudge_round, p.next_check_at) for p in session.scalars(select(Pair))]
            return (
                pairs,
                session.scalar(select(func.count()).select_from(Nudge)),
                session.scalar(select(func.count()).select_from(SlackUser)),
            )

    before = snapshot()
    report = world.sweep(paris(9, 10), dry_run=True)
    [line] = report.lines
    assert line.status == "planned" and line.delivery.initiative_id == initiative and line.delivery.level == 1
    assert set(line.delivery.recipients) == {"U0CMO", "U0CIO"}
    assert snapshot() == before
    assert world.emulator.calls_to("chat.postMessage") == []
    assert sent(world.sweep(paris(9, 10)))  # the real one still has everything to do
