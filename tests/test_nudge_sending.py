"""How a sweep sends at the scale of a company: one message per initiative thread, paced per
channel like Slack (about one a second, a short burst), a busy hub channel or a 429 holding up
no other channel, and no database lock held while Slack takes a post. Pacing runs on the
world's fake seconds (tests/nudge_world.py), so nothing here waits for real."""

from __future__ import annotations

import itertools
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine, make_url, text

from bot.app.delivery import send_due
from bot.app.upkeep import upkeep
from bot.core import nudge_claims
from bot.sandbox.emulator.records import Call
from tests.nudge_world import World, paris, sent, sqlite_only

PAIRS = ("Marketing × IT", "Marketing × HR", "IT × HR")
LEADS = ("U0CMO", "U0CIO", "U0CHRO")


def thread_posts(world: World) -> list[Call]:
    return [call for call in world.emulator.calls_to("chat.postMessage") if call.args.get("thread_ts")]


def slack_like_limits(world: World) -> None:
    """From now on the emulator takes a message a second per channel after a burst of three,
    on the same fake seconds as the hub's pacing."""
    world.emulator.clock = world.time
    world.emulator.post_rate_per_channel, world.emulator.post_burst = 1.0, 3


def test_all_due_pairs_of_an_initiative_go_out_in_one_message_in_its_thread(world):
    ids = [world.propose(paris(2, 10), functions=("marketing", "it", "hr"), title=f"Initiative {n}") for n in range(4)]
    world.emulator.reset_records()
    report = world.sweep(paris(9, 10))
    assert report.count("sent") == 4 * 3  # three pairs on each initiative…
    assert len(thread_posts(world)) == 4  # …in one post per thread
    assert len({line.ts for line in report.lines}) == 4
    keys_by_ts: dict[str, set[str]] = {}
    for line in report.lines:
        keys_by_ts.setdefault(line.ts or "", set()).add(line.delivery.key)
    for initiative in ids:
        [message] = world.pair_nudges(initiative)
        shown = json.dumps(message.blocks, ensure_ascii=False)
        assert f"*3 pairs of functions* have not worked together on *#{initiative} Initiative" in shown
        assert all(f"*{pair}* — " in shown for pair in PAIRS) and all(f"<@{lead}>" in shown for lead in LEADS)
        assert len([block for block in message.blocks if block["type"] == "actions"]) == 3  # each pair its own buttons
        assert set(message.metadata["event_payload"]["keys"]) == keys_by_ts[message.ts]  # findable after a crash


@sqlite_only
def test_in_one_message_only_leads_in_their_working_hours_are_mentioned(world):
    world.emulator.workspace.users["U0CMO"].tz = "Asia/Tokyo"
    world.emulator.workspace.users["U0CIO"].tz = "America/New_York"
    initiative = world.propose(paris(2, 9), functions=("marketing", "it", "hr"))
    world.sweep(paris(9, 9, 30))  # 17:30 in Tokyo, 09:30 in Paris, 04:30 in New York
    [morning] = world.pair_nudges(initiative)
    shown = json.dumps(morning.blocks, ensure_ascii=False)
    assert "*Marketing × IT* — <@U0CMO>" in shown and "*Marketing × HR* — <@U0CMO> <@U0CHRO>" in shown
    assert "IT × HR" not in shown and "<@U0CIO>" not in shown
    world.sweep(paris(9, 14, 5))  # 09:05 in New York, 22:05 in Tokyo
    _, afternoon = world.pair_nudges(initiative)
    shown = json.dumps(afternoon.blocks, ensure_ascii=False)
    assert "*Marketing × IT* — <@U0CIO>" in shown and "*IT × HR* — <@U0CIO> <@U0CHRO>" in shown
    assert "<@U0CMO>" not in shown
    assert [row.status for row in world.nudge_rows()] == ["sent"] * 4


def escalation_with_stalled_threads(world: World, threads: int) -> list[int]:
    """An escalation to the CEO comes due at 15:05 on Monday 9 March, in the same sweep as
    `threads` pair nudges in the hub channel that have waited since nine (so they come first)."""
    world.propose(paris(23, 12, month=2), title="Escalated")
    ids = [world.propose(paris(1, 12), title=f"Stalled {n}") for n in range(threads)]
    world.sweep(paris(2, 15))  # "Escalated" is nudged; five working days later it escalates
    world.sweep(paris(6, 22))  # the others stalled: claimed for Monday nine
    slack_like_limits(world)
    world.emulator.reset_records()
    return ids


@sqlite_only
def test_the_hub_channel_is_paced_a_dm_is_not_held_up_and_the_rest_waits_for_the_next_pass(world):
    ids = escalation_with_stalled_threads(world, 15)
    report = world.sweep(paris(9, 15, 5))
    posts = world.emulator.calls_to("chat.postMessage")
    assert world.emulator.errors() == []  # never faster than Slack takes them
    hub = [call.at for call in posts if call.args.get("thread_ts")]
    [dm] = [call for call in posts if call.args["channel"] == "U0CEO"]
    assert dm.at == hub[0]  # the DM waited for nothing, although it came last
    assert hub[:3] == [hub[0]] * 3 and all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(hub[2:]))
    assert len(hub) == 3 + 10  # a burst, then one a second for the ten seconds of the pass
    assert report.count("sent") == 13 + 1 and report.waiting == 2
    waiting = [row for row in world.nudge_rows() if row.status == "claimed"]
    assert len(waiting) == 2 and all(row.not_before <= paris(9, 15, 5) and row.error is None for row in waiting)

    world.time.advance(5)  # serve's next pass comes 15 seconds after the last began
    following = send_due(world.hub)
    assert following.count("sent") == 2 and following.waiting == 0
    assert all(len(world.pair_nudges(i)) == 1 for i in ids) and world.emulator.errors() == []


@sqlite_only
def test_a_429_on_one_channel_defers_that_channel_only(world):
    ids = escalation_with_stalled_threads(world, 4)
    world.emulator.rate_limit("chat.postMessage", retry_after=30, when=lambda args: bool(args.get("thread_ts")))
    report = world.sweep(paris(9, 15, 5))
    assert [call.status for call in thread_posts(world)] == [429]  # nothing more into that channel…
    assert len(world.escalations("U0CEO")) == 1  # …while the DM went out
    assert report.waiting == 4 and report.count("sent") == 1
    waiting = [row for row in world.nudge_rows() if row.status == "claimed"]
    assert len(waiting) == 4 and all(row.attempts == 0 for row in waiting)  # a 429 costs no attempt
    world.time.advance(15)
    assert send_due(world.hub).count("sent") == 0  # Retry-After is not over yet
    world.time.advance(15)
    upkeep(world.hub)  # what serve runs every 15 seconds sends them
    assert all(len(world.pair_nudges(i)) == 1 for i in ids)
    assert [row.status for row in world.nudge_rows()] == ["sent"] * 6  # the first nudge, the 4 threads, the escalation


def test_no_database_lock_is_held_while_slack_takes_the_post(world):
    initiative = world.propose(paris(2, 10))
    _, thread_ts = world.thread_of(initiative)
    held = world.emulator.hold("chat.postMessage", when=lambda args: args.get("thread_ts") == thread_ts)
    with ThreadPoolExecutor(1) as sweeper:
        sweeping = sweeper.submit(world.sweep, paris(9, 10))
        try:
            assert held.reached.wait(30), "the sweep never posted"
            [row] = world.nudge_rows()  # the lease is committed before the post…
            assert (row.status, row.error, row.not_before) == ("claimed", nudge_claims.IN_FLIGHT, paris(9, 10) + nudge_claims.LEASE)
            write_now(world.url, row.id)  # …and nothing is locked while Slack has it
        finally:
            held.release.set()
        report = sweeping.result(timeout=30)
    assert sent(report) == [row.key] and [r.status for r in world.nudge_rows()] == ["sent"]


def write_now(url: str, nudge_id: int) -> None:
    """Lock the nudge and its pair from another connection, without waiting: fails if anyone holds them."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(str(make_url(url).database), timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")  # the database's one write lock
            connection.execute("UPDATE nudges SET attempts = attempts WHERE id = ?", (nudge_id,))
            connection.execute("ROLLBACK")
        finally:
            connection.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection, connection.begin() as transaction:
            connection.execute(text("SELECT id FROM nudges WHERE id = :id FOR UPDATE NOWAIT"), {"id": nudge_id})
            connection.execute(text("SELECT id FROM pairs FOR UPDATE NOWAIT"))
            transaction.rollback()
    finally:
        engine.dispose()
