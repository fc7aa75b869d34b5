"""Thread replies: activity of the author's functions, mirrored into the hub thread, each event
handled once, through signed events against the emulator on SQLite and Postgres."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from slack_bolt import App, BoltRequest
from sqlalchemy import event, select

from bot import logs
from bot.app import discuss
from bot.models import Activity, Pair, ProcessedEvent
from bot.sandbox.harness import LocalHub, demo_settings
from bot.slack import inbox, listener_threads, mirror
from bot.slack.listener_threads import ThreadPerListener
from bot.slack.listeners.events.thread_reply import is_person_reply
from tests.scenario import steps
from tests.scenario.steps import reply, routed_ts, sqlite_only

HOSTILE = "<!channel> ping <@U0CEO> <https://evil.example|your bank> & co"


# --- helpers ---------------------------------------------------------------------------------


def activities(hub) -> list[tuple[str, str, str]]:
    with hub.runtime.sessions() as session:
        return [(a.function_key, a.user_id, a.kind) for a in session.scalars(select(Activity).order_by(Activity.id))]


def bot_replies(hub, initiative) -> list:
    return [m for m in hub.emulator.thread(initiative.hub_channel, initiative.hub_ts) if m.user == "UBOT"]


@pytest.fixture
def initiative(hub):
    return steps.propose(hub, functions=["marketing", "it"])


# --- activity --------------------------------------------------------------------------------


def test_an_it_reply_in_its_routed_thread_is_it_activity_at_the_reply_time(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    _, event = reply(hub, channel, "U0IT1", "We can expose the ERP API by June", ts)

    with hub.runtime.sessions() as session:
        [row] = session.scalars(select(Activity)).all()
        assert (row.function_key, row.user_id, row.kind, row.initiative_id) == ("it", "U0IT1", "reply", initiative.id)
        assert row.at == datetime.fromtimestamp(float(event["ts"]), UTC)
        assert row.ref == f"C0IT:{event['ts']}"
        [pair] = session.scalars(select(Pair)).all()
        assert pair.last_activity_a == row.at  # ("it", "marketing"): it is function_a
        assert pair.last_activity_b is None and pair.last_joint_activity_at is None


@sqlite_only
def test_hub_staff_replies_count_for_no_function(hub, initiative):
    reply(hub, "C0HUB", "U0CDO", "Who owns the customer master data?", initiative.hub_ts)
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0CDO", "Reminder: the hub thread is the shared discussion", ts)
    assert activities(hub) == []
    # Staff are still heard: their reply in #it reaches the hub thread.
    [mirrored] = bot_replies(hub, initiative)
    assert "*Camille CDO* in" in mirrored.blocks[0]["text"]["text"]


def test_a_person_in_two_functions_is_activity_of_both_and_the_pair_meets(hub, initiative):
    hub.emulator.workspace.channels["C0IT"].members.add("U0MKT1")  # in #marketing and #it
    _, event = reply(hub, "C0HUB", "U0MKT1", "I work on both sides of this", initiative.hub_ts)
    assert sorted(activities(hub)) == [("it", "U0MKT1", "reply"), ("marketing", "U0MKT1", "reply")]
    with hub.runtime.sessions() as session:
        [pair] = session.scalars(select(Pair)).all()
        assert pair.last_joint_activity_at == datetime.fromtimestamp(float(event["ts"]), UTC)


@sqlite_only
def test_functions_not_on_the_initiative_are_not_credited(hub, initiative):
    reply(hub, "C0HUB", "U0HR1", "HR would like to follow this", initiative.hub_ts)  # HR is not involved
    assert activities(hub) == []


@sqlite_only
def test_broadcast_and_file_replies_count(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", "Also for the whole channel", ts, subtype="thread_broadcast")
    reply(hub, channel, "U0CIO", "The architecture diagram", ts, subtype="file_share", files=[{"id": "F1", "name": "<b>diagram</b>.png"}])
    assert activities(hub) == [("it", "U0IT1", "reply"), ("it", "U0CIO", "reply")]
    first, second = bot_replies(hub, initiative)
    assert "Also for the whole channel" in first.blocks[0]["text"]["text"]
    rendered = json.dumps(second.blocks)
    assert "1 file shared" in rendered and "/archives/C0IT/p" in rendered


@sqlite_only
def test_top_level_messages_and_other_threads_are_ignored(hub, initiative):
    reply(hub, "C0IT", "U0IT1", "Unrelated: the printer is down", None)
    other = hub.emulator.add_user_message("C0IT", "U0CIO", "Coffee?")
    reply(hub, "C0IT", "U0IT1", "Yes please", other.ts)
    assert activities(hub) == []
    assert bot_replies(hub, initiative) == []
    with hub.runtime.sessions() as session:
        kept = [e.event_id for e in session.scalars(select(ProcessedEvent)) if not e.event_id.startswith("view:")]
        assert kept == []  # nothing kept or claimed for them (the proposal's form has its own claim)


# --- dedup -----------------------------------------------------------------------------------


def test_retried_and_duplicated_events_are_recorded_and_mirrored_once(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    first, event = reply(hub, channel, "U0IT1", "Once only", ts)
    retried = hub.send("event", event=event, event_id=first.event_id, retry_num=1, retry_reason="http_timeout")
    duplicated = hub.send("event", event=event, event_id=first.event_id)
    assert retried.status == 200 and duplicated.status == 200
    assert activities(hub) == [("it", "U0IT1", "reply")]
    assert len(bot_replies(hub, initiative)) == 1
    with hub.runtime.sessions() as session:
        handled = [(e.event_id, e.status) for e in session.scalars(select(ProcessedEvent)) if not e.event_id.startswith("view:")]
    assert handled == [(first.event_id, "done")]


def test_a_reply_is_kept_once_and_a_retry_after_it_was_handled_is_not_handed_on(hub, initiative, caplog):
    """`receive`, before the answer, in one statement: kept and to be handled while pending,
    dropped once handled, and never kept outside an initiative's thread."""
    channel, ts = routed_ts(initiative, "it")
    kept = discuss.Reply(event_id="EvKEPT", channel=channel, thread_ts=ts, ts="1700000000.000100", user="U0IT1", text="Kept")
    elsewhere = discuss.Reply(event_id="EvELSE", channel=channel, thread_ts="1600000000.000001", ts="1700000000.000200", user="U0IT1")

    def stored() -> list[tuple[str, str]]:
        with hub.runtime.sessions() as session:
            rows = session.scalars(select(ProcessedEvent).where(ProcessedEvent.event_id.in_(["EvKEPT", "EvELSE"])))
            return [(row.event_id, row.status) for row in rows]

    statements: list[tuple[str, bool | None]] = []

    def executing(connection, _cursor, statement, *_args) -> None:
        statements.append((statement.split()[0].upper(), getattr(connection.connection.dbapi_connection, "autocommit", None)))

    event.listen(hub.runtime.engine, "before_cursor_execute", executing)
    try:
        assert discuss.receive(hub.runtime, kept) is True
    finally:
        event.remove(hub.runtime.engine, "before_cursor_execute", executing)
    # One statement, and on Postgres its own transaction: no BEGIN or COMMIT to wait for.
    assert [verb for verb, _ in statements] == ["INSERT"]
    if hub.runtime.engine.dialect.name == "postgresql":
        assert statements[0][1] is True
    assert discuss.receive(hub.runtime, kept) is True  # a retry before it was handled: handled by one of the two
    assert stored() == [("EvKEPT", "pending")]
    assert discuss.receive(hub.runtime, elsewhere) is False and stored() == [("EvKEPT", "pending")]
    discuss.reply(hub.runtime, kept)
    assert stored() == [("EvKEPT", "done")]
    with caplog.at_level("INFO", logger="bot.app.discuss"):
        assert discuss.receive(hub.runtime, kept) is False
    assert "event EvKEPT (reply 1700000000.000100 in C0IT) was already handled: dropped" in caplog.text
    assert stored() == [("EvKEPT", "done")] and activities(hub) == [("it", "U0IT1", "reply")]


def test_replies_arriving_during_a_keeping_are_kept_together_in_one_statement(hub, initiative):
    """While one reply is being kept, the next ones wait and are kept in one INSERT after it:
    each gets its own answer, a retry beside its original is kept once, and a reply outside any
    initiative's thread in the same batch is not kept."""
    channel, ts = routed_ts(initiative, "it")

    def a_reply(event_id: str, thread_ts: str = ts) -> discuss.Reply:
        return discuss.Reply(event_id=event_id, channel=channel, thread_ts=thread_ts, ts="1700000000.000100", user="U0IT1", text=event_id)

    inserts: list[str] = []
    first_insert, go_on = threading.Event(), threading.Event()

    def executing(_connection, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement)
            if len(inserts) == 1:
                first_insert.set()
                assert go_on.wait(10)

    answers: dict[str, bool | Exception] = {}

    def receive(reply: discuss.Reply, name: str) -> threading.Thread:
        def run() -> None:
            try:
                answers[name] = discuss.receive(hub.runtime, reply)
            except Exception as error:
                answers[name] = error

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    event.listen(hub.runtime.engine, "before_cursor_execute", executing)
    try:
        threads = [receive(a_reply("EvFIRST"), "first")]
        assert first_insert.wait(10)
        later = {
            "two": a_reply("EvTWO"),
            "three": a_reply("EvTHREE"),
            "retry": a_reply("EvTWO"),
            "elsewhere": a_reply("EvELSE", "1600000000.000001"),
        }
        threads += [receive(reply, name) for name, reply in later.items()]
        deadline = time.monotonic() + 10
        while hub.runtime.batches.waiting(discuss.KEEP) < len(later):
            assert time.monotonic() < deadline
            time.sleep(0.001)
        go_on.set()
        for thread in threads:
            thread.join(10)
    finally:
        go_on.set()
        event.remove(hub.runtime.engine, "before_cursor_execute", executing)
    assert answers == {"first": True, "two": True, "three": True, "retry": True, "elsewhere": False}
    assert len(inserts) == 2
    with hub.runtime.sessions() as session:
        kept = session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.event_id.like("Ev%"))).all()
    assert sorted(kept) == ["EvFIRST", "EvTHREE", "EvTWO"]


def test_a_burst_of_replies_is_handled_by_a_few_threads_each_reply_once(hub, initiative):
    """While the work after answers waits (the test holds the only turn), twelve replies are
    answered and kept; they wait for at most `HANDED_AT_ONCE` threads, not one each."""
    channel, ts = routed_ts(initiative, "it")
    hub.app.turns.take()
    try:
        for n in range(12):
            reply(hub, channel, "U0IT1", f"burst {n}", ts, settle=False)
        assert 1 <= hub.executor.running() <= listener_threads.HANDED_AT_ONCE < 12
    finally:
        hub.app.turns.give_back()
    hub.settle()
    assert activities(hub) == [("it", "U0IT1", "reply")] * 12
    mirrored = [int(n) for m in bot_replies(hub, initiative) for n in re.findall(r"burst (\d+)", m.text)]
    assert sorted(mirrored) == list(range(12))


def test_a_reply_is_answered_and_counted_before_bolt_dispatches_it(hub, initiative, monkeypatch):
    """Neither Bolt's middleware nor its listeners see a person's reply; other events still
    go to Bolt. Each is counted all the same."""
    dispatched: list[str] = []
    bolts = App.dispatch

    def dispatch(app, req):
        dispatched.append(req.body.get("event", {}).get("type"))
        return bolts(app, req)

    monkeypatch.setattr(App, "dispatch", dispatch)
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", "Answered before Bolt", ts)
    assert dispatched == [] and activities(hub) == [("it", "U0IT1", "reply")]
    home = hub.send("event", event={"type": "app_home_opened", "user": "U0IT1", "channel": "D0IT1", "tab": "home", "event_ts": "1.000001"})
    assert home.status == 200 and dispatched == ["app_home_opened"]
    assert b'cdo_hub_requests_total{kind="event",outcome="ok"} 2.0' in hub.runtime.metrics.exposition()


def test_a_message_of_the_hubs_own_user_named_by_the_envelope_is_no_reply(hub, initiative):
    """Without a bot ID, the hub's own messages are told apart by the user the envelope's
    `authorizations` name as the installation: the hub never keeps or mirrors its own words."""
    channel, ts = routed_ts(initiative, "it")
    own = hub.emulator.workspace.bot_user_id
    message = {"type": "message", "channel": channel, "user": own, "text": "mine", "ts": f"{float(ts) + 9:.6f}", "thread_ts": ts}
    mixed = [{"user_id": "U0PERSON", "is_bot": False}, "junk", {"user_id": own, "is_bot": True}]
    assert inbox.own_user({"authorizations": mixed}) == own and inbox.own_user({"authorizations": "junk"}) is None
    assert hub.send("event", event=message).status == 200
    assert activities(hub) == [] and bot_replies(hub, initiative) == []
    with hub.runtime.sessions() as session:
        assert session.scalars(select(ProcessedEvent).where(ProcessedEvent.status == "pending")).all() == []


def test_in_socket_mode_a_reply_the_guard_refuses_is_not_kept(hub, initiative):
    """A request no web layer screened (Socket Mode) is screened before a reply is kept: a
    malformed one goes to Bolt, whose guard refuses it, and nothing is stored."""
    channel, ts = routed_ts(initiative, "it")
    body = {
        "type": "event_callback",
        "event_id": "not an event ID",
        "event": {"type": "message", "channel": channel, "user": "U0IT1", "text": "x", "ts": f"{float(ts) + 9:.6f}", "thread_ts": ts},
    }
    response = hub.app.dispatch(BoltRequest(body=json.dumps(body), mode="socket_mode"))
    assert response.status == 400
    good = {**body, "event_id": "EvSOCKET"}
    assert hub.app.dispatch(BoltRequest(body=json.dumps(good), mode="socket_mode")).status == 200
    hub.settle()
    assert activities(hub) == [("it", "U0IT1", "reply")]


def test_a_reply_that_cannot_be_handed_over_is_answered_and_kept_for_the_upkeep(hub, initiative, monkeypatch):
    """Listener threads that cannot be had (shut down) leave the reply kept and answered; the
    upkeep handles it once its handler is overdue."""
    channel, ts = routed_ts(initiative, "it")
    closed = ThreadPerListener()
    closed.shutdown()
    monkeypatch.setattr(hub.app.replies, "threads", closed)
    response, _ = reply(hub, channel, "U0IT1", "kept for the upkeep", ts)
    assert activities(hub) == []
    with hub.runtime.sessions() as session, session.begin():
        kept = session.get(ProcessedEvent, response.event_id)
        assert kept.status == "pending"
        kept.received_at -= timedelta(minutes=2)
    assert discuss.catch_up(hub.runtime) == 1
    assert activities(hub) == [("it", "U0IT1", "reply")]


def test_a_reply_whose_failure_cannot_be_told_does_not_hold_up_the_next(hub, initiative, monkeypatch):
    """A handler's reply failing, and telling of the failure failing too, is logged; the handler
    goes on with the replies queued behind it."""
    channel, ts = routed_ts(initiative, "it")
    recording = discuss.reply

    def reply_or_fail(runtime, event) -> None:
        if event.text == "boom":
            raise RuntimeError("this reply cannot be handled")
        recording(runtime, event)

    def failing_to_tell(*_args) -> None:
        raise RuntimeError("nor can its failure be told")

    monkeypatch.setattr(discuss, "reply", reply_or_fail)
    monkeypatch.setitem(hub.app.attached, "on_failure", failing_to_tell)
    monkeypatch.setattr(listener_threads, "HANDED_AT_ONCE", 1)
    hub.app.turns.take()  # both wait for the one handler, one behind the other
    try:
        reply(hub, channel, "U0IT1", "boom", ts, settle=False)
        reply(hub, channel, "U0IT1", "fine", ts, settle=False)
    finally:
        hub.app.turns.give_back()
    hub.settle()
    assert activities(hub) == [("it", "U0IT1", "reply")]
    with hub.runtime.sessions() as session:
        statuses = sorted(e.status for e in session.scalars(select(ProcessedEvent)) if not e.event_id.startswith("view:"))
    assert statuses == ["done", "pending"]  # the failed one stays kept, for the upkeep


def test_each_reply_a_handler_takes_is_handled_with_its_own_log_fields(hub, initiative, monkeypatch):
    channel, ts = routed_ts(initiative, "it")
    recording = discuss.reply
    seen: list[tuple[str, str | None]] = []

    def reply_and_note(runtime, event) -> None:
        seen.append((event.event_id, logs.current().get("event_id")))
        recording(runtime, event)

    monkeypatch.setattr(discuss, "reply", reply_and_note)
    monkeypatch.setattr(listener_threads, "HANDED_AT_ONCE", 1)
    hub.app.turns.take()  # the three wait for the one handler, which takes them one after another
    try:
        sent = [reply(hub, channel, "U0IT1", f"fields {n}", ts, settle=False)[0].event_id for n in range(3)]
    finally:
        hub.app.turns.give_back()
    hub.settle()
    assert sorted(seen) == sorted((event_id, event_id) for event_id in sent)


def test_concurrent_duplicates_are_recorded_once(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    first, event = reply(hub, channel, "U0IT1", "Racing", ts, settle=False)
    for retry in (None, 1, 2):
        hub.send("event", settle=False, event=event, event_id=first.event_id, retry_num=retry)
    hub.settle()
    assert activities(hub) == [("it", "U0IT1", "reply")]
    assert len(bot_replies(hub, initiative)) == 1
    # The hub fixture also fails the test on any listener error (a lost race must be quiet).


def test_a_new_event_for_another_reply_is_not_a_duplicate(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", "one", ts)
    reply(hub, channel, "U0IT1", "two", ts)
    assert len(activities(hub)) == 2 and len(bot_replies(hub, initiative)) == 2


def test_old_claims_are_pruned(hub, initiative):
    now = datetime.now(UTC)
    with hub.runtime.sessions() as session, session.begin():
        session.add_all(
            [
                ProcessedEvent(event_id="EvOLD", received_at=now - timedelta(days=4)),
                ProcessedEvent(event_id="EvNEW", received_at=now - timedelta(days=1)),
            ]
        )
    channel, ts = routed_ts(initiative, "it")
    response, _ = reply(hub, channel, "U0IT1", "prune please", ts)
    with hub.runtime.sessions() as session:
        kept = sorted(e.event_id for e in session.scalars(select(ProcessedEvent)) if not e.event_id.startswith("view:"))
    assert kept == sorted(["EvNEW", response.event_id])


# --- mirroring -------------------------------------------------------------------------------


@sqlite_only
def test_a_reply_in_a_function_thread_is_mirrored_once_with_attribution_and_escaped(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", HOSTILE, ts)
    [mirrored] = bot_replies(hub, initiative)
    assert mirrored.thread_ts == initiative.hub_ts and mirrored.channel == "C0HUB"
    text = mirrored.blocks[0]["text"]
    assert text["text"].startswith("*Sam Walker* in <#C0IT>: ")
    assert "&lt;!channel&gt;" in text["text"] and text["verbatim"] is True
    [call] = [c for c in hub.emulator.calls_to("chat.postMessage") if c.args.get("thread_ts") == initiative.hub_ts]
    payload = json.dumps(call.args)
    for forbidden in ("<!channel>", "<@U0CEO>", "<https://evil"):
        assert forbidden not in payload
    assert "link_names" not in call.args
    # Nothing went back into #it.
    assert hub.emulator.thread("C0IT", ts) and all(m.user == "U0IT1" for m in hub.emulator.thread("C0IT", ts))


@sqlite_only
def test_replies_in_the_hub_thread_are_not_mirrored(hub, initiative):
    reply(hub, "C0HUB", "U0CMO", "Marketing here: we need this for the autumn campaign", initiative.hub_ts)
    assert activities(hub) == [("marketing", "U0CMO", "reply")]
    assert bot_replies(hub, initiative) == []
    assert hub.emulator.thread("C0IT", routed_ts(initiative, "it")[1]) == []


@sqlite_only
def test_the_bots_own_mirror_triggers_nothing(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", "first", ts)
    [mirrored] = bot_replies(hub, initiative)
    calls_before = len(hub.emulator.calls_to("chat.postMessage"))
    own = {
        "type": "message",
        "subtype": "bot_message",
        "channel": "C0HUB",
        "user": "UBOT",
        "bot_id": "BBOT",
        "text": mirrored.text,
        "ts": mirrored.ts,
        "thread_ts": initiative.hub_ts,
    }
    assert hub.send("event", event=own).status == 200
    # Another app's bot writing in a function thread is no person either.
    other = {
        "type": "message",
        "channel": channel,
        "user": "U0OTHERBOT",
        "bot_id": "B0OTHER",
        "text": "beep",
        "ts": f"{float(ts) + 5:.6f}",
        "thread_ts": ts,
    }
    assert hub.send("event", event=other).status == 200
    assert activities(hub) == [("it", "U0IT1", "reply")]
    assert len(hub.emulator.calls_to("chat.postMessage")) == calls_before


@pytest.mark.parametrize(
    "event",
    [
        {"user": "UBOT", "bot_id": "BBOT"},
        {"user": "UBOT"},
        {"user": "U0IT1", "bot_id": "B0X"},
        {"user": "U0IT1", "subtype": "bot_message"},
        {"subtype": "bot_message", "bot_id": "BBOT"},
        {"user": "U0IT1", "subtype": "message_changed"},
        {"user": "U0IT1", "subtype": "message_deleted"},
        {"user": "U0IT1", "thread_ts": None},
        {"user": "U0IT1", "thread_ts": "1.000001"},  # the parent of its own thread
    ],
    ids=["own-bot", "own-user", "bot-id", "bot-subtype", "classic-bot", "edit", "delete", "top-level", "parent"],
)
def test_only_a_persons_thread_reply_is_a_reply_even_without_bolts_self_filter(event):
    base = {"type": "message", "channel": "C0IT", "ts": "1.000001", "thread_ts": "0.000001", "text": "x"}
    assert is_person_reply({**base, "user": "U0IT1"}, "UBOT")
    assert not is_person_reply({**base, **event}, "UBOT")


@sqlite_only
def test_mirroring_off_records_activity_but_posts_nothing(migrated_url, emulator):
    with LocalHub(demo_settings(migrated_url, mirror_replies=False), emulator, migrate=False) as hub:
        initiative = steps.propose(hub, functions=["marketing", "it"])
        channel, ts = routed_ts(initiative, "it")
        reply(hub, channel, "U0IT1", "Quiet please", ts)
        assert activities(hub) == [("it", "U0IT1", "reply")]
        assert bot_replies(hub, initiative) == []
        assert not hub.listener_errors


@sqlite_only
def test_a_long_reply_is_shortened_and_links_to_the_original(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    _, event = reply(hub, channel, "U0IT1", "<" + "x" * 38_999, ts)
    assert hub.emulator.errors() == []
    [mirrored] = bot_replies(hub, initiative)
    section = mirrored.blocks[0]["text"]["text"]
    assert len(section) <= 3000 and section.endswith("…") and "&lt;xxx" in section
    link = mirrored.blocks[1]["elements"][0]["text"]
    assert f"/archives/C0IT/p{event['ts'].replace('.', '')}" in link and "Read the whole reply" in link
    assert len(mirrored.text) <= 3000


@sqlite_only
def test_a_short_reply_is_mirrored_without_a_permalink_lookup(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    before = len(hub.emulator.calls_to("chat.getPermalink"))
    reply(hub, channel, "U0IT1", "short", ts)
    assert len(hub.emulator.calls_to("chat.getPermalink")) == before
    [mirrored] = bot_replies(hub, initiative)
    assert len(mirrored.blocks) == 1


def test_a_mirror_that_fails_keeps_the_activity(hub, initiative):
    hub.emulator.fail("chat.postMessage", "channel_not_found", when=lambda args: args.get("thread_ts") == initiative.hub_ts)
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", "Is anyone there?", ts)
    assert activities(hub) == [("it", "U0IT1", "reply")]
    assert [c.response["error"] for c in hub.emulator.errors()] == ["channel_not_found"]


# --- edits and deletions ---------------------------------------------------------------------


@sqlite_only
def test_edits_are_not_new_activity_and_are_not_mirrored_again(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    _, original = reply(hub, channel, "U0IT1", "Draft answer", ts)
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": channel,
        "ts": f"{float(original['ts']) + 30:.6f}",
        "message": {**original, "text": "Final answer <!channel>", "edited": {"user": "U0IT1", "ts": "1"}},
        "previous_message": original,
    }
    assert hub.send("event", event=edited).status == 200
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": channel,
        "ts": f"{float(original['ts']) + 60:.6f}",
        "deleted_ts": original["ts"],
        "previous_message": original,
    }
    assert hub.send("event", event=deleted).status == 200
    assert activities(hub) == [("it", "U0IT1", "reply")]
    [mirrored] = bot_replies(hub, initiative)
    assert "Draft answer" in mirrored.blocks[0]["text"]["text"]


# --- the mirror builder ----------------------------------------------------------------------


def test_mirror_builder_limits_and_links():
    text, blocks = mirror.mirror_message(
        "U0IT1", "C0IT", "&" * 5000, permalink="https://x.slack.com/archives/C0IT/p1?thread_ts=0.1&cid=C0IT"
    )
    section = blocks[0]["text"]["text"]
    assert len(section) <= 3000 and not section.rstrip("…").endswith("&am")
    assert "&amp;cid=C0IT|Read the whole reply>" in blocks[1]["elements"][0]["text"]
    assert len(text) <= 3000
    assert mirror.needs_permalink("U0IT1", "C0IT", "a" * 2990) and not mirror.needs_permalink("U0IT1", "C0IT", "a" * 100)
    assert mirror.needs_permalink("U0IT1", "C0IT", "", files=1)
    _, empty = mirror.mirror_message("U0IT1", "C0IT", "", files=2, permalink="https://x")
    assert "(no text)" in empty[0]["text"]["text"] and "2 files" in empty[1]["elements"][0]["text"]


def test_a_reply_while_slack_cannot_say_who_is_in_a_channel_waits_and_is_credited_later(hub, initiative):
    channel, ts = routed_ts(initiative, "it")
    hub.emulator.server_error("conversations.members", times=3)  # the client's two retries included
    response, _ = reply(hub, channel, "U0IT1", "Counted, a little later", ts)
    assert response.status == 200
    assert activities(hub) == []  # not recorded on a guess of the author's functions
    with hub.runtime.sessions() as session, session.begin():
        kept = session.get(ProcessedEvent, response.event_id)
        assert kept.status == "pending"
        kept.received_at -= timedelta(minutes=2)  # a minute has passed: serve's upkeep looks again
    assert discuss.catch_up(hub.runtime) == 1
    assert activities(hub) == [("it", "U0IT1", "reply")]
    assert len(bot_replies(hub, initiative)) == 1
    assert discuss.catch_up(hub.runtime) == 0
    hub.listener_errors.clear()  # the first attempt's failure was answered (logged), not lost
