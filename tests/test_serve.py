"""`serve` in process, with the HTTP server left out: what it sets up before it answers."""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from bot import serve
from bot.sandbox.harness import demo_settings
from bot.slack.listeners import safely
from bot.slack.listeners.safely import Turns
from tests.test_listener_threads import until


def test_serve_freezes_what_it_built_and_passes_the_interpreter_quickly(migrated_sqlite_url, emulator, monkeypatch):
    settings = demo_settings(migrated_sqlite_url)
    slack = replace(settings.slack, bot_token=emulator.bot_token, signing_secret="secret", api_url=emulator.base_url, app_token=None)
    seen: dict[str, object] = {}

    def run_http(app, hub, *, host: str, port: int) -> None:
        seen.update(frozen=gc.get_freeze_count(), switch=sys.getswitchinterval(), thresholds=gc.get_threshold())

    monkeypatch.setattr(serve, "run_http", run_http)
    switch, thresholds = sys.getswitchinterval(), gc.get_threshold()
    gc.unfreeze()
    try:
        assert serve.serve(replace(settings, slack=slack), http=True, socket=False, port=0, host="127.0.0.1", scheduler=False) == 0
    finally:
        gc.unfreeze()
        sys.setswitchinterval(switch)
    # The modules and the app built to start are out of the collector's sight before the first answer.
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000
    assert seen["switch"] == serve.SWITCH_INTERVAL
    # Full collections are left to a thread of the hub's while it serves (QuietCollector).
    assert seen["thresholds"] == (*thresholds[:2], serve.NEVER)
    assert gc.get_threshold() == thresholds


@contextmanager
def full_collections() -> Iterator[list[tuple[str, float]]]:
    """Each full collection started meanwhile: the thread that ran it, and when."""
    seen: list[tuple[str, float]] = []

    def started(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append((threading.current_thread().name, time.monotonic()))

    gc.callbacks.append(started)
    try:
        yield seen
    finally:
        gc.callbacks.remove(started)


def make_garbage(rounds: int = 200_000) -> None:
    """Objects in cycles, made and dropped, some after living through a few collections: enough
    for Python to start collections of every generation (a full one after each ten of the
    middle one, by default)."""
    kept: list[object] = []
    for _ in range(rounds):
        cycle: list[object] = []
        cycle.append(cycle)
        kept.append(cycle)
        if len(kept) > 5_000:
            kept.clear()


def test_python_starts_no_full_collection_while_the_collector_runs():
    collector = serve.QuietCollector(Turns(), every=3600)  # never looks: nothing collects fully
    # What exists is frozen (as serve does), and a full collection after counts what is left:
    # Python puts off a full collection until the objects that lived through the younger ones
    # since the last are a quarter of those it counted then.
    gc.collect()
    gc.freeze()
    gc.collect()
    try:
        with full_collections() as seen:
            make_garbage()
            assert seen, "without the collector, Python starts full collections"
            seen.clear()
            collector.start()
            try:
                make_garbage()
                assert seen == []
            finally:
                collector.stop()
            make_garbage()
            assert seen, "stopped: Python's thresholds are back"
    finally:
        gc.unfreeze()


def by_the_collector(seen: list[tuple[str, float]]) -> list[float]:
    return [at for name, at in seen if name == "full-collections"]


def test_a_full_collection_waits_until_no_request_is_being_answered(monkeypatch):
    monkeypatch.setattr(safely, "GIVE_WAY", 60.0)
    turns = Turns()
    collector = serve.QuietCollector(turns, every=0.02, due=lambda: True)
    with full_collections() as seen:
        try:
            with turns.answering():
                collector.start()
                time.sleep(0.3)
                assert by_the_collector(seen) == []
                ended = time.monotonic()  # at most when the answer ended
            assert until(lambda: by_the_collector(seen))
        finally:
            collector.stop()
    assert by_the_collector(seen)[0] >= ended


def test_under_answers_that_never_end_full_collections_still_run(monkeypatch):
    monkeypatch.setattr(safely, "GIVE_WAY", 0.2)
    turns = Turns()
    collector = serve.QuietCollector(turns, every=0.02, due=lambda: True)
    with full_collections() as seen, turns.answering():
        started = time.monotonic()
        collector.start()
        try:
            assert until(lambda: by_the_collector(seen))
        finally:
            collector.stop()
    assert by_the_collector(seen)[0] - started >= 0.2  # it gave way first
