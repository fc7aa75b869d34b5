"""`serve` killed with SIGKILL in the middle of delivering a proposal, then started again:
the hub card and every route go out, each once — never a second hub card."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.db import make_engine, make_sessionmaker, transaction
from bot.models import Initiative, Outbox
from bot.sandbox import forms
from bot.sandbox.harness import DEMO_CONFIG
from bot.slack.ids import View
from tests.replicas import Replica, wait_until

MOMENTS = {
    "before Slack took the card": ("chat.postMessage", True, "#cdo-hub"),
    "after Slack took the card": ("chat.postMessage", False, "#cdo-hub"),
    "after Slack took a route": ("chat.postMessage", False, "#it"),
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_delivery_killed_at_any_point_is_finished_once_after_a_restart(migrated_url, emulator, tmp_path: Path, moment):
    method, before, channel = MOMENTS[moment]
    config = tmp_path / "config.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    held = emulator.hold(method, before=before, when=lambda args: args.get("channel") == channel)

    first = Replica(tmp_path, "killed", migrated_url, emulator, config)
    try:
        first.wait_healthy()
        response = first.sender.view_submission(
            user_id="U0CMO", callback_id=View.PROPOSE.value, values=forms.proposal(functions=["marketing", "it"])
        )
        assert response.status == 200
        assert held.reached.wait(30), first.output()
        first.process.send_signal(signal.SIGKILL)
        assert first.process.wait(timeout=30) == -signal.SIGKILL
    finally:
        held.release.set()
        first.stop()

    engine = make_engine(migrated_url)
    sessions = make_sessionmaker(engine)
    # The dead process's lease on what it was sending runs out (90 s); the test does not wait them.
    with transaction(sessions) as session:
        session.execute(update(Outbox).where(Outbox.status == "pending").values(lease_until=datetime.now(UTC)))

    second = Replica(tmp_path, "restarted", migrated_url, emulator, config, scheduler=True)
    try:
        second.wait_healthy()

        def delivered() -> bool:
            with sessions() as session:
                return not session.scalars(select(Outbox.key).where(Outbox.status == "pending", Outbox.initiative_id.is_not(None))).all()

        wait_until(delivered, "everything owed to go out", 60, second)
    finally:
        second.stop()

    with sessions() as session:
        initiative = session.scalars(select(Initiative)).one()
        assert {f.function_key: f.route_status for f in initiative.functions} == {"marketing": "posted", "it": "posted"}
        # The proposal's messages (the restarted scheduler may owe a weekly digest of its own).
        assert {row.status for row in session.scalars(select(Outbox).where(Outbox.initiative_id.is_not(None)))} == {"sent"}
    engine.dispose()
    cards = [m for m in emulator.messages("C0HUB") if not m.thread_ts]
    assert len(cards) == 1 and cards[0].ts == initiative.hub_ts
    assert len(emulator.messages("C0MKT")) == 1 and len(emulator.messages("C0IT")) == 1
    assert len(emulator.dms("U0CMO")) == 1
