"""An unreachable Slack or database is one line from the CLI, quickly, never a traceback."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from bot.sandbox.harness import DEMO_CONFIG
from tests.test_cli import message_lines, run_cli

CHECK_CONFIG_LIMIT = 15.0  # seconds, start of Python included


@pytest.fixture
def demo_config(tmp_path):
    (tmp_path / "config.toml").write_text(DEMO_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts connections and never answers: every call times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


@pytest.mark.parametrize("port", ["closed_port", "silent_port"])
def test_check_config_with_slack_unreachable_ends_soon_with_one_line(demo_config, request, port):
    url = f"http://127.0.0.1:{request.getfixturevalue(port)}/api/"
    started = time.monotonic()
    result = run_cli(demo_config, "check-config", timeout=60, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=url)
    elapsed = time.monotonic() - started

    assert elapsed < CHECK_CONFIG_LIMIT, f"check-config took {elapsed:.1f} s"
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines() == message_lines(result.stderr), "no log lines either"
    [line] = message_lines(result.stderr)
    assert line.startswith(f"cdo-hub: Slack did not answer at {url}: ")
    assert "problem:" not in result.stdout, "an unreachable Slack is not a list of missing channels"


def test_db_upgrade_on_a_missing_postgres_database_is_one_line_without_the_password(demo_config, postgres_server):
    base = postgres_server.rsplit("/", 1)[0].replace("postgres@", "postgres:s3cret@")
    missing = f"{base}/cdo_hub_missing_{uuid.uuid4().hex[:8]}"
    result = run_cli(demo_config, "db", "upgrade", DATABASE_URL=missing)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = message_lines(result.stderr)
    assert "does not exist" in line and "s3cret" not in line and "***" in line


@pytest.mark.parametrize(
    "url, words",
    [
        ("postgresql://postgres:s3cret@127.0.0.1:{port}/cdo", ("cannot be used", "refused")),
        ("sqlite:///{tmp}/no/such/folder/cdo-hub.db", ("unable to open",)),
        ("mysql://x:s3cret@127.0.0.1:{port}/cdo", ("driver", "not installed")),
        ("not a database URL", ("cannot be used",)),
    ],
)
def test_db_upgrade_on_a_database_that_cannot_be_used_is_one_line(demo_config, closed_port, url, words):
    result = run_cli(demo_config, "db", "upgrade", DATABASE_URL=url.format(port=closed_port, tmp=demo_config))

    assert result.returncode in (1, 2)
    assert "Traceback" not in result.stderr
    [line] = message_lines(result.stderr)
    assert line.startswith("cdo-hub: ") and "s3cret" not in line
    for word in words:
        assert word in line


def test_report_on_an_unreachable_database_is_one_line(demo_config, closed_port):
    result = run_cli(demo_config, "report", "initiatives", DATABASE_URL=f"postgresql://postgres@127.0.0.1:{closed_port}/cdo")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = message_lines(result.stderr)
    assert "cannot be used" in line
