"""`serve` in process, with the HTTP server left out: what it sets up before it answers."""

from __future__ import annotations

import gc
import sys
from dataclasses import replace

from bot import serve
from bot.sandbox.harness import demo_settings


def test_serve_freezes_what_it_built_and_passes_the_interpreter_quickly(migrated_sqlite_url, emulator, monkeypatch):
    settings = demo_settings(migrated_sqlite_url)
    slack = replace(settings.slack, bot_token=emulator.bot_token, signing_secret="secret", api_url=emulator.base_url, app_token=None)
    seen: dict[str, object] = {}

    def run_http(app, hub, *, host: str, port: int) -> None:
        seen.update(frozen=gc.get_freeze_count(), switch=sys.getswitchinterval())

    monkeypatch.setattr(serve, "run_http", run_http)
    switch = sys.getswitchinterval()
    gc.unfreeze()
    try:
        assert serve.serve(replace(settings, slack=slack), http=True, socket=False, port=0, host="127.0.0.1", scheduler=False) == 0
    finally:
        gc.unfreeze()
        sys.setswitchinterval(switch)
    # The modules and the app built to start are out of the collector's sight before the first answer.
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000
    assert seen["switch"] == serve.SWITCH_INTERVAL
