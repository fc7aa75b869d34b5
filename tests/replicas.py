"""Real `cdo-hub serve --http --no-scheduler` processes on one database, talking to the
in-test Slack emulator: what several replicas behind one load balancer look like.

`Replica.stop()` is also the tests' fence. It sends SIGINT, as Ctrl+C does: uvicorn stops
serving, `cdo-hub` returns (0, or 130 for the interrupt), and the interpreter finishes the work the listeners still
had (run after the ack) before it exits, so what a test sees after stopping every replica is
everything the replicas did. (On SIGTERM uvicorn re-raises the signal once it has stopped,
which kills the process with that work unfinished.)
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bot.sandbox.emulator import Emulator
from bot.sandbox.harness import DEMO_CONFIG, SIGNING_SECRET
from bot.sandbox.processes import clean_environment, free_port
from bot.sandbox.signed import SignedSender
from bot.slack.web import EVENTS_PATH

START_TIMEOUT = 30.0
STOPPED = (0, 130)  # what `cdo-hub serve` exits with after Ctrl+C


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Replica:
    """One `serve` process, its log, and a signed sender aimed at it."""

    def __init__(self, workdir: Path, name: str, database_url: str, emulator: Emulator, config: Path, *, scheduler: bool = False) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        env = clean_environment(
            SLACK_BOT_TOKEN=emulator.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=emulator.base_url,
            DATABASE_URL=database_url,
        )
        command = [sys.executable, "-m", "bot", "--config", str(config), "serve", "--http", "--host", "127.0.0.1"]
        command += ["--port", str(self.port)] + ([] if scheduler else ["--no-scheduler"])
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.sender = SignedSender(self.base + EVENTS_PATH, SIGNING_SECRET, workspace=emulator.workspace)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def health(self) -> tuple[int, dict] | None:
        try:
            status, body = get(self.base + "/healthz")
        except OSError:  # not listening yet
            return None
        return status, json.loads(body)

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        wait_until(lambda: (self.health() or (0,))[0] == 200, f"{self.name} to answer /healthz with 200", timeout, self)

    def stop(self) -> int:
        """Ctrl+C, and wait for the process to finish its work; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def wait_until(condition: Callable[[], object], what: str, timeout: float = 30.0, *watched: Replica) -> None:
    """Poll until `condition` holds; fail at once, with its log, if a watched replica dies."""
    deadline = time.monotonic() + timeout
    while not condition():
        for replica in watched:
            if replica.process.poll() is not None:
                raise AssertionError(f"{replica.name} exited with {replica.process.returncode}:\n{replica.output()}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {replica.name}\n{replica.output()}" for replica in watched)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.05)


@contextmanager
def replicas(count: int, database_url: str, emulator: Emulator, workdir: Path) -> Iterator[list[Replica]]:
    """`count` serve processes on `database_url` (already migrated), healthy; stopped on exit."""
    config = workdir / "config.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    with ExitStack() as stack:
        started = []
        for n in range(count):
            replica = Replica(workdir, f"replica{n}", database_url, emulator, config)
            stack.callback(replica.stop)
            started.append(replica)
        for replica in started:
            replica.wait_healthy()
        yield started
