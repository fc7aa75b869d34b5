"""People's data: activity removed after the retention while the pairs keep what they need, and
one person's data exported and forgotten with `cdo-hub privacy`, on SQLite and Postgres."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot import cli
from bot.app import privacy
from bot.app.upkeep import upkeep
from bot.clock import FixedClock
from bot.core import digest, nudge_claims
from bot.core.digest import pairs_report
from bot.models import Activity, Commitment, CommitmentChange, Initiative, Nudge, Outbox, Pair
from bot.reports import initiatives_report
from bot.sandbox.harness import DEMO_CONFIG, LocalHub, demo_settings
from bot.slack.ids import Action, CommitmentRef, dump
from tests.scenario import steps
from tests.scenario.steps import reply, routed_ts

START = datetime.now(UTC).replace(microsecond=0)
YEAR = timedelta(days=365)


@pytest.fixture
def timed(migrated_url, emulator):
    clock = FixedClock(START)
    with LocalHub(demo_settings(migrated_url), emulator, clock=clock, migrate=False) as running:
        running.clock = clock  # type: ignore[attr-defined]
        yield running
        assert not running.listener_errors, running.listener_errors


def count(hub, model) -> int:
    with hub.runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def pair_rows(hub) -> list[tuple]:
    with hub.runtime.sessions() as session:
        return [
            (p.id, p.state, p.last_activity_a, p.last_activity_b, p.last_joint_activity_at, p.next_check_at)
            for p in session.scalars(select(Pair).order_by(Pair.id))
        ]


def reports(hub, at: datetime) -> tuple:
    with hub.runtime.sessions() as session:
        return pairs_report(session, hub.settings, at), initiatives_report(session, hub.settings, at)


# --- retention ----------------------------------------------------------------------------------


def test_activity_older_than_the_retention_is_removed_and_the_pairs_read_the_same(timed, emulator):
    hub = timed
    initiative = steps.propose(hub, functions=["marketing", "it"])
    for key, user in (("it", "U0IT1"), ("marketing", "U0MKT1"), ("it", "U0CIO")):
        channel, ts = routed_ts(initiative, key)
        reply(hub, channel, user, f"{user} on it", ts)
    assert count(hub, Activity) == 3
    before = pair_rows(hub)

    # A year and a day later, one more reply: the only activity inside the retention.
    later = START + YEAR + timedelta(days=1)
    hub.clock.set(later)
    emulator.clock = later.timestamp
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", "Still here a year on", ts)
    assert count(hub, Activity) == 4
    after_reply = pair_rows(hub)
    expected_reports = reports(hub, later)

    upkeep(hub.runtime)  # what serve runs every 15 seconds

    with hub.runtime.sessions() as session:
        kept = session.scalars(select(Activity)).all()
        assert [(a.user_id, a.at) for a in kept] == [("U0IT1", datetime.fromtimestamp(later.timestamp(), UTC))]
        old_messages = session.scalar(select(func.count()).select_from(Outbox).where(Outbox.created_at < later - YEAR))
        assert old_messages == 0  # the proposal's card, routes and copies, long sent
    assert pair_rows(hub) == after_reply and after_reply[0][2:5] != before[0][2:5]
    assert reports(hub, later) == expected_reports  # the pairs, their states and the report are unchanged


def test_pruning_goes_in_bounded_batches_and_old_nudges_keep_no_one(timed):
    hub = timed
    initiative = steps.propose(hub, functions=["marketing", "it"])
    with hub.runtime.sessions() as session, session.begin():
        initiative_row = session.get(Initiative, initiative.id)
        for n in range(7):
            at = START + timedelta(days=n)
            session.add(Activity(initiative_id=initiative_row.id, function_key="it", user_id="U0IT1", kind="reply", at=at))
        pair = session.scalars(select(Pair)).one()
        nudge_claims.claim(
            session,
            [
                nudge_claims.Delivery(
                    key=nudge_claims.pair_key(pair.id, 0, 2, "U0CEO"),
                    kind=nudge_claims.EXECUTIVE,
                    level=2,
                    channel="U0CEO",
                    recipients=("U0CEO",),
                    not_before=START,
                    initiative_id=initiative.id,
                    pair_id=pair.id,
                    functions=("it", "marketing"),
                    payload={"text": "Nudge <@U0CEO> about <@U0CIO>"},
                )
            ],
            START,
        )
        session.execute(Nudge.__table__.update().values(status=nudge_claims.SENT, sent_at=START))
    hub.clock.set(START + YEAR + timedelta(days=30))

    first = privacy.prune(hub.runtime, batches=1, limit=3)
    assert first.activities == 3 and first.more
    assert privacy.prune(hub.runtime, batches=5, limit=3).activities == 4
    assert count(hub, Activity) == 0
    with hub.runtime.sessions() as session:
        nudge = session.scalars(select(Nudge)).one()
        assert (nudge.recipients, nudge.channel, nudge.payload, nudge.status) == ([], None, None, "sent")
        assert nudge.key == f"pair:{pair.id}:r0:L2:~{nudge.id}" and nudge.pair_id == pair.id  # still counted for its pair


# --- export and forget ------------------------------------------------------------------------------


@pytest.fixture
def run(hub, tmp_path, monkeypatch, capsys):
    """`cdo-hub --config … privacy ACTION USER` in this process, against the hub's database and
    the emulator; returns the exit code, stdout and stderr."""
    config = tmp_path / "config.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", hub.settings.database_url)
    monkeypatch.setenv("SLACK_API_URL", hub.emulator.base_url)

    def invoke(*args: str, token: bool = True) -> tuple[int, str, str]:
        if token:
            monkeypatch.setenv("SLACK_BOT_TOKEN", hub.emulator.bot_token)
        else:
            monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
        capsys.readouterr()
        code = cli.main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def sam_on_two_initiatives(hub):
    """Sam (U0IT1, IT) replies in #it's thread (copied into the hub thread), owns a commitment
    and marks it done, proposes an initiative, and received an escalation."""
    first = steps.propose(hub, functions=["marketing", "it"])
    channel, ts = routed_ts(first, "it")
    reply(hub, channel, "U0IT1", "Sam's own words about the ERP", ts)
    due = date.today() + timedelta(days=5)
    steps.submit_commitment(hub, first.id, user_id="U0IT1", giver="it", taker="marketing", what="Customer API", due=due)
    with hub.runtime.sessions() as session:
        commitment_id = session.scalars(select(Commitment.id)).one()
    steps.click(hub, user_id="U0IT1", action_id=Action.COMMITMENT_DONE.value, value=dump(CommitmentRef(commitment_id)))
    second = steps.propose(hub, user_id="U0IT1", title="Sam's idea", functions=["hr", "it"])
    with hub.runtime.sessions() as session, session.begin():
        pair = session.scalars(select(Pair).where(Pair.initiative_id == first.id)).one()
        nudge_claims.claim(
            session,
            [
                nudge_claims.Delivery(
                    key=nudge_claims.pair_key(pair.id, 0, 2, "U0IT1"),
                    kind=nudge_claims.EXECUTIVE,
                    level=2,
                    channel="U0IT1",
                    recipients=("U0IT1",),
                    not_before=datetime.now(UTC),
                    initiative_id=first.id,
                    pair_id=pair.id,
                    functions=("it", "marketing"),
                    payload={"text": "<@U0IT1>, the pair is stalled"},
                )
            ],
            datetime.now(UTC),
        )
    return first, second, commitment_id


def test_export_prints_everything_held_about_a_person(hub, run):
    first, second, commitment_id = sam_on_two_initiatives(hub)
    code, out, _ = run("privacy", "export", "U0IT1")
    assert code == 0
    held = json.loads(out)
    assert {"activities", "commitments", "nudges", "roles"} <= set(held) and held["user"] == "U0IT1"
    assert {(a["initiative_id"], a["function"], a["kind"]) for a in held["activities"]} >= {(first.id, "it", "reply")}
    assert [(c["id"], c["what"], c["status"]) for c in held["commitments"]] == [(commitment_id, "Customer API", "done")]
    assert [c["action"] for c in held["commitment_changes"]] == ["created", "done"]
    assert [(i["id"], i["roles"]) for i in held["initiatives"]] == [(second.id, ["proposer"])]
    assert [(n["kind"], n["initiative_id"]) for n in held["nudges"]] == [("executive", first.id)]
    assert [m["kind"] for m in held["messages"]] == ["mirror"]
    assert held["roles"] == []  # Sam is in #it's channel, not in the configuration
    code, out, _ = run("privacy", "export", "U0CIO")
    assert json.loads(out)["roles"] == ["lead of it"]


def test_forget_removes_or_anonymises_once_and_is_idempotent(hub, run, caplog):
    caplog.set_level(logging.INFO, logger="bot.app.privacy")
    first, second, commitment_id = sam_on_two_initiatives(hub)
    pairs_before = pair_rows(hub)
    copy = next(m for m in hub.emulator.thread("C0HUB", first.hub_ts) if "Sam's own words" in json.dumps(m.blocks))

    code, out, err = run("privacy", "forget", "U0IT1")
    assert code == 0, err
    assert "activities removed" in out and "1 copies of their replies deleted from Slack" in out

    _, exported, _ = run("privacy", "export", "U0IT1")
    held = json.loads(exported)
    for key in ("activities", "commitments", "commitment_changes", "initiatives", "nudges", "messages"):
        assert held[key] == [], key
    with hub.runtime.sessions() as session:
        commitment = session.get(Commitment, commitment_id)
        assert commitment.owner is None and commitment.from_function == "it"  # it stays, the function's
        assert session.scalars(select(CommitmentChange.actor)).all() == [None, None]
        assert session.get(Initiative, second.id).proposer is None
        nudge = session.scalars(select(Nudge)).one()
        assert "U0IT1" not in json.dumps([nudge.key, nudge.recipients, nudge.channel, nudge.payload])
        assert nudge.status == "cancelled"  # it was still waiting to go to them
    assert pair_rows(hub) == pairs_before  # the pairs keep what they need
    # In Slack: the copy of Sam's words is gone; the commitment and the card name nobody.
    assert hub.emulator.message("C0HUB", copy.ts) is None
    shown = json.dumps([m.blocks for m in hub.emulator.messages("C0HUB")])
    assert "U0IT1" not in shown and "Owner *IT*" in shown and "a former colleague" in shown

    code, out, _ = run("privacy", "forget", "U0IT1")
    assert code == 0 and "nothing is held about U0IT1 any more" in out
    assert sum("forgot U0IT1" in r.getMessage() for r in caplog.records) == 1  # logged once


@steps.sqlite_only
def test_forget_without_a_token_says_what_is_left_in_slack_and_a_second_run_removes_it(hub, run):
    first, _, _ = sam_on_two_initiatives(hub)
    code, _, err = run("privacy", "forget", "U0IT1", token=False)
    assert code == 1 and "1 copies of their replies are still in Slack" in err and "SLACK_BOT_TOKEN" in err
    assert any("Sam's own words" in json.dumps(m.blocks) for m in hub.emulator.thread("C0HUB", first.hub_ts))
    code, out, _ = run("privacy", "forget", "U0IT1")
    assert code == 0 and "1 copies of their replies deleted from Slack" in out
    assert not any("Sam's own words" in json.dumps(m.blocks) for m in hub.emulator.thread("C0HUB", first.hub_ts))


@steps.sqlite_only
def test_a_forgotten_lead_is_reminded_to_leave_the_configuration(hub, run):
    code, out, err = run("privacy", "forget", "U0CIO")
    assert code == 0 and "lead of it" in err and "config.toml" in err
    code, _, err = run("privacy", "forget", "bob")
    assert code == 2 and "not a Slack user ID" in err


def test_reports_and_the_digest_count_functions_and_pairs_never_people(hub):
    first = steps.propose(hub, functions=["marketing", "it"])
    channel, ts = routed_ts(first, "it")
    for n in range(3):
        reply(hub, channel, "U0IT1", f"reply {n}", ts)
    with hub.runtime.sessions() as session:
        built = digest.build(session, hub.settings, datetime.now(UTC))
        text, blocks = hub.runtime.render.digest(built, hub.settings)
        rows = pairs_report(session, hub.settings, datetime.now(UTC)) + initiatives_report(session, hub.settings, datetime.now(UTC))
    assert "U0IT1" not in json.dumps([text, blocks, rows], default=str)


def test_a_forgotten_asker_leaves_a_request_that_names_nobody_and_can_still_be_accepted(hub, run):
    initiative = steps.propose(hub, functions=["marketing", "it", "hr"])
    due = date.today() + timedelta(days=20)
    steps.submit_commitment(hub, initiative.id, user_id="U0HR1", giver="it", taker="marketing", what="Golden record", due=due)
    with hub.runtime.sessions() as session:
        request_id = session.scalars(select(Commitment.id)).one()
    _, exported, _ = run("privacy", "export", "U0HR1")
    assert [(r["id"], r["status"]) for r in json.loads(exported)["requests"]] == [(request_id, "requested")]

    code, _, err = run("privacy", "forget", "U0HR1")
    assert code == 0, err
    request = steps.commitment(hub, request_id)
    assert request.status == "requested" and request.requested_by not in (None, "U0HR1")  # still a request
    assert json.loads(run("privacy", "export", "U0HR1")[1])["requests"] == []
    shown = json.dumps(hub.emulator.message(request.hub_channel, request.hub_ts).blocks)
    assert "U0HR1" not in shown and "a former colleague" in shown

    steps.click(hub, user_id="U0IT1", action_id=Action.REQUEST_ACCEPT.value, value=json.dumps({"commitment": request_id}))
    accepted = steps.commitment(hub, request_id)
    assert (accepted.status, accepted.owner) == ("open", "U0IT1")
