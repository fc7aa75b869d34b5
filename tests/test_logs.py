"""JSON logs with what each line is about, and no secret in any line or error message: in a
hub answering signed requests against the emulator, and in a `serve --socket` process."""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.logs import JsonFormatter, Redacting, about
from bot.sandbox.processes import clean_environment, free_port, stop_process
from tests.scenario import steps

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
BOT_TOKEN = "xoxb-4242-bottoken-QQQ"
SIGNING_SECRET = "signing-5151-ZZZ"
APP_TOKEN = "xapp-1-A0-6161-apptoken"
DB_PASSWORD = "pw-7373-database"


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_json_line_carries_what_it_is_about_and_hides_secrets():
    record = logging.LogRecord("bot.x", logging.WARNING, __file__, 1, "token %s failed", (BOT_TOKEN,), None)
    with about(event_id="Ev1", initiative_id=7, slack_method="chat.postMessage", user="U0CMO"):
        line = json.loads(Redacting(JsonFormatter(), [BOT_TOKEN]).format(record))
    assert line["level"] == "WARNING" and line["logger"] == "bot.x" and line["time"].endswith("+00:00")
    assert line["message"] == "token [redacted] failed"
    assert (line["event_id"], line["initiative_id"], line["slack_method"], line["user"]) == ("Ev1", "7", "chat.postMessage", "U0CMO")
    outside = json.loads(JsonFormatter().format(record))
    assert "event_id" not in outside and "initiative_id" not in outside


def test_a_traceback_is_redacted_too():
    try:
        raise RuntimeError(f"connect failed with {DB_PASSWORD}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "oops", None, sys.exc_info())
    text = Redacting(JsonFormatter(), [DB_PASSWORD]).format(record)
    assert DB_PASSWORD not in text and "[redacted]" in text and "RuntimeError" in text
    assert record.exc_info is not None and DB_PASSWORD in str(record.exc_info[1])  # other handlers see it whole


def test_lines_written_for_a_request_name_its_user_method_and_initiative(hub, caplog):
    caplog.handler.setFormatter(JsonFormatter())
    caplog.set_level(logging.INFO)
    hub.emulator.fail("chat.postMessage", "not_in_channel", when=lambda args: args.get("channel") in ("C0HR", "#hr", "hr"))
    initiative = steps.propose(hub, functions=["marketing", "hr"], sponsor="U0CEO")
    hub.settle()
    failed = [line for line in json_lines(caplog.text) if "not_in_channel" in line["message"]]
    assert failed, caplog.text
    assert failed[0]["slack_method"] == "chat.postMessage"
    assert failed[0]["initiative_id"] == str(initiative.id)
    assert failed[0]["user"] == "U0CMO"  # the routing runs in a listener thread after the ack


def test_serve_socket_serves_health_and_metrics_and_logs_no_secret(tmp_path, migrated_postgres_url):
    """Socket Mode with Slack unreachable: /healthz and /metrics still answer on the health port,
    and neither the logs nor the answers hold a token, the signing secret or the password."""
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text())
    url = migrated_postgres_url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)  # trust auth ignores it
    assert DB_PASSWORD in url
    port = free_port()
    log = tmp_path / "serve.log"
    env = clean_environment(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_APP_TOKEN=APP_TOKEN, DATABASE_URL=url)
    env["SLACK_API_URL"] = f"http://127.0.0.1:{free_port()}/api/"  # nobody listens: Socket Mode keeps retrying
    import subprocess
    import sys

    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "--log-format", "json", "serve", "--socket"]
            + ["--host", "127.0.0.1", "--health-port", str(port), "--no-scheduler"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        health = None
        deadline = time.monotonic() + 30
        while health is None and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                    health = json.loads(answer.read())
            except OSError:
                time.sleep(0.2)
        assert health == {"status": "ok", "database": "ok", "slack": "ok"}, log.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            families = {family.name for family in text_string_to_metric_families(answer.read().decode())}
        assert {"cdo_hub_messages_owed", "cdo_hub_requests", "cdo_hub_slack_calls"} <= families
        deadline = time.monotonic() + 30
        while "apps.connections.open" not in log.read_text():  # the app token has been used
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        stop_process(process)
    lines = json_lines(log.read_text())
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    text = log.read_text()
    for secret in (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, DB_PASSWORD):
        assert secret not in text


@pytest.fixture
def hub(migrated_url, emulator):
    from bot.sandbox.harness import LocalHub, demo_settings

    with LocalHub(demo_settings(migrated_url), emulator, migrate=False) as running:
        yield running


def test_an_unusable_database_is_one_line_without_its_password(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text())
    import subprocess
    import sys

    env = clean_environment(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        DATABASE_URL=f"postgresql://cdo:{DB_PASSWORD}@127.0.0.1:{free_port()}/nowhere",
    )
    for args in (["db", "upgrade"], ["serve", "--http", "--port", "0", "--no-scheduler"]):
        run = subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(config), "--log-format", "json", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert run.returncode != 0
        assert "cannot be used" in run.stderr, run.stderr
        for secret in (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, DB_PASSWORD):
            assert secret not in run.stdout + run.stderr


def test_lines_written_for_an_event_name_its_event_id(hub, caplog):
    caplog.handler.setFormatter(JsonFormatter())
    caplog.set_level(logging.INFO)
    initiative = steps.propose(hub, functions=["marketing", "it"], sponsor="U0CEO")
    channel, ts = steps.routed_ts(initiative, "it")
    hub.emulator.fail("chat.postMessage", "is_archived", when=lambda args: bool(args.get("thread_ts")), times=5)
    steps.reply(hub, channel, "U0CIO", "We can start next week", ts, event_id="Ev0LOGGED")
    hub.settle()
    about_it = [line for line in json_lines(caplog.text) if line.get("event_id") == "Ev0LOGGED"]
    assert about_it, caplog.text
    assert all(line["user"] == "U0CIO" for line in about_it)
    assert any(line.get("slack_method") == "chat.postMessage" and "is_archived" in line["message"] for line in about_it)


def test_a_database_password_is_hidden_as_read_and_as_written_in_a_url():
    from types import SimpleNamespace

    from bot.logs import secrets_of

    settings = SimpleNamespace(
        slack=SimpleNamespace(bot_token=BOT_TOKEN, signing_secret=None, app_token=None),
        database_url="postgresql+psycopg://hub:p%40ss%2Fword@db:5432/hub",
    )
    secrets = secrets_of(settings)
    assert "p@ss/word" in secrets and "p%40ss%2Fword" in secrets
    record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "cannot reach %s", (settings.database_url,), None)
    line = Redacting(JsonFormatter(), secrets).format(record)
    assert "p%40ss%2Fword" not in line and "[redacted]" in line
