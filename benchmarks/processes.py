"""The processes the benchmark starts: the hub (`python -m bot serve --http --no-scheduler`),
the anchor (benchmarks/anchor.py), and single `cdo-hub` commands timed from inside their own
process (benchmarks/timed_cli.py). Each runs on its own, so its memory is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.sandbox.processes import clean_environment as environment
from bot.sandbox.processes import free_port, stop_process

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIGNING_SECRET = "benchmark-signing-secret"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Server:
    """A server process on 127.0.0.1, its log in `log`."""

    def __init__(self, name: str, command: list[str], port: int, log: Path, env: dict[str, str]) -> None:
        self.name, self.port, self.log = name, port, log
        self.url = f"http://127.0.0.1:{port}/slack/events"
        with log.open("w") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    @classmethod
    def hub(cls, config: Path, database_url: str, api_url: str, bot_token: str, workdir: Path) -> Server:
        port = free_port()
        command = [sys.executable, "-m", "bot", "--config", str(config), "serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
        env = environment(SLACK_BOT_TOKEN=bot_token, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=api_url, DATABASE_URL=database_url)
        return cls("hub", [*command, "--no-scheduler"], port, workdir / "hub.log", env)

    @classmethod
    def anchor(cls, api_url: str, bot_token: str, workdir: Path) -> Server:
        port = free_port()
        command = [sys.executable, str(HERE / "anchor.py"), "--port", str(port), "--signing-secret", SIGNING_SECRET]
        command += ["--bot-token", bot_token, "--api-url", api_url]
        return cls("anchor", command, port, workdir / "anchor.log", environment())

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.name} exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as reply:
                    if reply.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass  # not listening yet
            time.sleep(0.1)
        raise RuntimeError(f"the {self.name} did not answer /healthz within {timeout:.0f} s:\n{self.log.read_text()}")

    def rss_mb(self) -> float:
        """Resident memory now (VmRSS), in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for the {self.name}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime and stime

    def wait_idle(self, timeout: float = 300.0, window: float = 0.25) -> None:
        """Until the process has used (almost) no CPU for `window` seconds: the work its listeners
        do after answering is over, and does not weigh on what is measured next."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(window)
            now = self.cpu_seconds()
            if now - before <= 2 / CLOCK_TICKS:  # the kernel counts CPU time in ticks
                return
            before = now
        raise RuntimeError(f"the {self.name} was still busy after {timeout:.0f} s")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"the {self.name} exited with {self.process.returncode}:\n{self.log.read_text()}")

    def stop(self) -> None:
        stop_process(self.process)


def timed_command(args: list[str], config: Path, database_url: str, api_url: str, bot_token: str) -> tuple[float, int]:
    """Seconds one `cdo-hub` command takes once its process has started and imported the hub,
    and its exit code."""
    env = environment(SLACK_BOT_TOKEN=bot_token, SLACK_API_URL=api_url, DATABASE_URL=database_url)
    command = [sys.executable, str(HERE / "timed_cli.py"), "--config", str(config), *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    try:
        timed = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise RuntimeError(f"`cdo-hub {' '.join(args)}` did not say how long it took ({done.returncode}):\n{done.stderr[-3000:]}") from None
    return float(timed["seconds"]), int(timed["code"])


def command_output(args: list[str], config: Path, database_url: str, api_url: str, bot_token: str) -> str:
    """What one `cdo-hub` command prints (it must succeed)."""
    env = environment(SLACK_BOT_TOKEN=bot_token, SLACK_API_URL=api_url, DATABASE_URL=database_url)
    command = [sys.executable, "-m", "bot", "--config", str(config), *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"`cdo-hub {' '.join(args)}` failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout
