"""For starting the hub's own processes on this machine (tests, the benchmark): a free port on
loopback, an environment without the caller's Slack or database settings, and a clean stop."""

from __future__ import annotations

import os
import socket
import subprocess


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment(**extra: str) -> dict[str, str]:
    """The caller's environment without its own Slack or database settings, unbuffered."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("SLACK_") and key not in ("DATABASE_URL", "CDO_HUB_CONFIG")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
