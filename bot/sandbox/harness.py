"""The hub running for real on loopback, talking to the local Slack emulator.

`LocalHub` builds the app with the same factories `cdo-hub serve` uses, serves it with
uvicorn on a free port, and sends it signed requests exactly as Slack does. The tests and
`cdo-hub demo` both use it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import uvicorn

from bot.clock import Clock
from bot.config import Settings, parse
from bot.db import upgrade
from bot.runtime import Runtime, build_runtime
from bot.sandbox.emulator import Emulator
from bot.sandbox.signed import Response, SignedSender
from bot.slack.app import create_app
from bot.slack.listener_threads import ThreadPerListener
from bot.slack.web import EVENTS_PATH, create_web_app

DEMO_CONFIG = Path(__file__).with_name("demo.toml")
SIGNING_SECRET = "sandbox-signing-secret"


def demo_settings(database_url: str, *, text: str | None = None, **hub_changes: Any) -> Settings:
    settings = parse(text or DEMO_CONFIG.read_text(encoding="utf-8"), source=str(DEMO_CONFIG), env={"DATABASE_URL": database_url})
    if hub_changes:
        settings = replace(settings, hub=replace(settings.hub, **hub_changes))
    return settings


class TrackingExecutor(ThreadPerListener):
    """The hub's own executor (a thread per listener), counting what runs: `wait_idle` lets a
    caller wait for the work listeners do after their ack."""

    def __init__(self) -> None:
        super().__init__()
        self._pending: set[Future] = set()
        self._lock = threading.Lock()
        self.failures: list[BaseException] = []

    def _begin(self, fn: Callable, /, *args: Any, **kwargs: Any) -> tuple[Future, threading.Event]:
        future, given = super()._begin(fn, *args, **kwargs)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future, given

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)
        if future.exception() is not None:
            self.failures.append(future.exception())  # type: ignore[arg-type]

    def running(self) -> int:
        """Listeners and work handed over that have not ended."""
        with self._lock:
            return len(self._pending)

    def wait_idle(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} listener tasks still running after {timeout}s")
            for future in pending:
                with contextlib.suppress(Exception):  # recorded by _done
                    future.result(timeout=max(deadline - time.monotonic(), 0.01))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if wait:
            with contextlib.suppress(TimeoutError):
                self.wait_idle()
        super().shutdown(wait=False)


class LocalHub:
    def __init__(self, settings: Settings, emulator: Emulator, *, clock: Clock | None = None, migrate: bool = True) -> None:
        self.emulator = emulator
        self.settings = replace(
            settings,
            slack=replace(
                settings.slack,
                bot_token=emulator.bot_token,
                signing_secret=SIGNING_SECRET,
                api_url=emulator.base_url,
            ),
        )
        if migrate:
            upgrade(self.settings.database_url)
        self.runtime: Runtime = build_runtime(self.settings, clock=clock, max_retries=3)
        self.executor = TrackingExecutor()
        self.app = create_app(self.runtime, listener_executor=self.executor, on_error=self._record_error)
        self.listener_errors: list[BaseException] = []
        self._server = uvicorn.Server(
            uvicorn.Config(create_web_app(self.app, self.runtime), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(target=self._server.run, name="uvicorn", daemon=True)
        self.url = ""
        self.sender: SignedSender | None = None

    def _record_error(self, error: Exception) -> None:
        # The app tells the person and logs it; keep it too, so a scenario cannot pass over it.
        self.listener_errors.append(error)

    def start(self) -> LocalHub:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the hub's HTTP server did not start")
            time.sleep(0.002)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.sender = SignedSender(self.url + EVENTS_PATH, SIGNING_SECRET)
        return self

    def stop(self) -> None:
        # The requests of a scenario are all answered by now: uvicorn is told to exit, and not
        # waited for (it looks every 0.1 s and then waits 0.1 s more; its thread is a daemon),
        # so that the tests' hundreds of hubs do not each spend that much time stopping.
        self._server.should_exit = True
        self._server.force_exit = True
        self.executor.shutdown(wait=True)
        self.runtime.close()

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the work listeners do after their ack has finished."""
        self.executor.wait_idle(timeout)

    # Shortcuts for what people do in Slack.

    def command(self, text: str, *, user_id: str, channel_id: str = "C0HUB", settle: bool = True) -> Response:
        assert self.sender is not None
        response = self.sender.command(
            self.settings.slack.command,
            text,
            user_id=user_id,
            channel_id=channel_id,
            trigger_id=self.emulator.new_trigger_id(),
            response_url=self.emulator.new_response_url(),
        )
        if settle:
            self.settle()
        return response

    def send(self, kind: str, settle: bool = True, **kwargs: Any) -> Response:
        """Any SignedSender payload by name: send("block_action", user_id=..., action_id=...)."""
        assert self.sender is not None
        response = getattr(self.sender, kind)(**kwargs)
        if settle:
            self.settle()
        return response
