"""The real console entry (`python -m bot`) in a subprocess: commands, exit codes, one-line
errors, and `serve --http` answering Slack and operators over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
from sqlalchemy import create_engine, text

from bot.db import make_engine, schema_status
from bot.sandbox.processes import clean_environment, free_port, stop_process

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
COMMANDS = ("serve", "db", "nudge", "digest", "introduce", "report", "privacy", "check-config", "demo")
SECRET = "secret"
# A log record as cli.main formats it; anything else on stderr is a message for the person.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")


clean_env = clean_environment  # the name these tests use


def run_cli(cwd: Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def message_lines(stderr: str) -> list[str]:
    return [line for line in stderr.strip().splitlines() if line.strip() and not LOG_LINE.match(line)]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory holding a copy of the example file as ./config.toml, as README tells."""
    (tmp_path / "config.toml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


# --- help and configuration --------------------------------------------------------------------


def test_help_lists_every_command(workdir):
    result = run_cli(workdir, "--help")
    assert result.returncode == 0, result.stderr
    for name in COMMANDS:
        assert re.search(rf"^\s+{re.escape(name)}(\s|$)", result.stdout, re.M), f"{name} missing from --help"


@pytest.mark.parametrize(
    "args, words",
    [
        (("serve",), ("--http", "--socket", "--port")),
        (("db",), ("upgrade",)),
        (("nudge",), ("--at", "--dry-run", "--format")),
        (("digest",), ("--at", "--dry-run")),
        (("introduce",), ("--at", "--dry-run", "--format")),
        (("report",), ("initiatives", "pairs", "commitments", "table", "csv", "json")),
        (("privacy",), ("export", "forget", "USER")),
    ],
)
def test_subcommand_help_shows_the_documented_options(workdir, args, words):
    result = run_cli(workdir, *args, "--help")
    assert result.returncode == 0, result.stderr
    for word in words:
        assert word in result.stdout, f"{' '.join(args)} --help does not mention {word}"


@pytest.mark.parametrize("args", [("check-config",), ("db", "upgrade"), ("serve", "--http")])
def test_bad_config_is_one_line_with_key_and_line(workdir, args):
    text = EXAMPLE.read_text(encoding="utf-8").replace('leads = ["U0CIO"]', 'leads = ["bob"]')
    (workdir / "config.toml").write_text(text, encoding="utf-8")
    line = next(n for n, content in enumerate(text.splitlines(), start=1) if '"bob"' in content)

    result = run_cli(workdir, *args, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"config.toml:{line}: functions.it.leads: " in lines[0]
    assert not (workdir / "cdo-hub.db").exists(), "nothing may happen with a refused file"


def test_missing_config_is_one_line_pointing_at_the_example(tmp_path):
    result = run_cli(tmp_path, "check-config")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "config.example.toml" in lines[0], result.stderr


def test_config_option_and_environment_variable_pick_the_file(tmp_path):
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    by_option = run_cli(tmp_path, "--config", str(elsewhere), "check-config")
    by_env = run_cli(tmp_path, "check-config", CDO_HUB_CONFIG=str(elsewhere))
    for result in (by_option, by_env):
        assert result.returncode == 0, result.stderr
        assert "elsewhere.toml" in result.stdout


def test_check_config_without_token_says_slack_was_not_checked(workdir):
    result = run_cli(workdir, "check-config")
    assert result.returncode == 0, result.stderr
    assert re.search(r"\bok\b", result.stdout)
    assert "marketing, it, hr" in result.stdout
    assert "not checked" in result.stdout


# --- database ------------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema(workdir, database_url):
    result = run_cli(workdir, "db", "upgrade", DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    engine = make_engine(database_url)
    try:
        status = schema_status(engine)
    finally:
        engine.dispose()
    assert status.up_to_date and not status.empty


def test_db_upgrade_uses_the_url_of_the_file(workdir):
    # The example file says sqlite:///cdo-hub.db: relative to the working directory.
    result = run_cli(workdir, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    engine = make_engine(f"sqlite:///{workdir / 'cdo-hub.db'}")
    try:
        assert schema_status(engine).up_to_date
    finally:
        engine.dispose()


# `demo` is not among them: tests/test_demo.py runs it and reads what it tells.
@pytest.mark.parametrize("args", [("nudge", "--dry-run"), ("digest", "--dry-run"), ("report", "initiatives")])
def test_batch_commands_work_or_say_they_are_not_available(workdir, sqlite_template, args):
    shutil.copyfile(sqlite_template, workdir / "cdo-hub.db")
    database = f"sqlite:///{workdir / 'cdo-hub.db'}"
    result = run_cli(workdir, *args, timeout=300, DATABASE_URL=database)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    if "not available yet" in output:
        assert result.returncode != 0, "a command that is not available must not claim success"
    else:
        assert result.returncode == 0, output
        assert output.strip(), "a command must not succeed silently"


def test_introduce_dry_run_prints_one_json_object_per_introduction(workdir, sqlite_template):
    shutil.copyfile(sqlite_template, workdir / "cdo-hub.db")
    database = f"sqlite:///{workdir / 'cdo-hub.db'}"
    args = ("introduce", "--dry-run", "--format", "json", "--at", "2026-03-02T10:00")
    result = run_cli(workdir, *args, DATABASE_URL=database)
    assert result.returncode == 0, result.stderr
    [planned] = json.loads(result.stdout)
    assert {key: planned[key] for key in ("functions", "recipients", "channel", "status")} == {
        "functions": ["hr", "it"],
        "recipients": ["U0CHRO", "U0CIO"],
        "channel": None,
        "status": "planned",
    }
    assert planned["idea"] == "An onboarding journey ready on day one"
    assert "1 planned" in result.stderr and "dry run" in result.stderr


# --- serve -------------------------------------------------------------------------------------


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sign(body: str, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


class SlackStub:
    """Answers auth.test, which Bolt calls before the first listener, and records every call.

    The sandbox network has no slack.com; the help command itself needs nothing else.
    """

    def __init__(self) -> None:
        calls = self.calls = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rsplit("/", 1)[-1]
                calls.append(method)
                if method == "auth.test":
                    body = {
                        "ok": True,
                        "url": "https://acme.slack.com/",
                        "team": "Acme",
                        "user": "cdo-hub",
                        "team_id": "T0TEAM",
                        "user_id": "U0BOT",
                        "bot_id": "B0BOT",
                    }
                else:
                    body = {"ok": False, "error": "unknown_method"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack_stub():
    stub = SlackStub()
    yield stub
    stub.close()


class Server:
    def __init__(self, cwd: Path, database_url: str, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = cwd / "serve.log"
        with self.log.open("w") as log:
            # Without the scheduler: its first tick, at start, would talk to Slack while these
            # tests watch what requests do (tests/test_scheduler.py runs `serve` with it).
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "--config",
                    str(cwd / "config.toml"),
                    "serve",
                    "--http",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--no-scheduler",
                ],
                cwd=cwd,
                env=clean_env(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, DATABASE_URL=database_url, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_for_health(self, status: int, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                last = http("GET", self.base + "/healthz")
            except OSError:  # not listening yet
                last = None
            if last and last[0] == status:
                return json.loads(last[1])
            time.sleep(0.2)
        pytest.fail(f"/healthz never answered {status} (last: {last}):\n{self.output()}")

    def post(self, body: str, headers: dict[str, str]):
        return http("POST", self.base + "/slack/events", body.encode(), headers)

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture
def start_server(workdir):
    servers: list[Server] = []

    def start(database_url: str, **env: str) -> Server:
        server = Server(workdir, database_url, **env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


SLASH_COMMAND = urllib.parse.urlencode(
    {
        "token": "legacy-unused",
        "team_id": "T0TEAM",
        "team_domain": "acme",
        "channel_id": "C0HUB",
        "channel_name": "cdo-hub",
        "user_id": "U0CMO",
        "user_name": "cmo",
        "command": "/cdo",
        "text": "help",
        "api_app_id": "A0APP",
        "response_url": "https://hooks.slack.invalid/commands/T0TEAM/1/abc",
        "trigger_id": "1.2.abc",
    }
)


def test_serve_http_checks_signatures_and_answers_help(workdir, start_server, slack_stub):
    database = workdir / "fresh.db"
    assert not database.exists()
    server = start_server(f"sqlite:///{database}", SLACK_API_URL=slack_stub.url)

    health = server.wait_for_health(200, timeout=30)
    assert health["database"] == "ok"
    # A fresh SQLite file is created with the whole schema.
    engine = make_engine(f"sqlite:///{database}")
    try:
        assert schema_status(engine).up_to_date
    finally:
        engine.dispose()

    now = int(time.time())
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _ = server.post(SLASH_COMMAND, form)
    assert status == 401, "no signature"

    wrong = sign(SLASH_COMMAND, now, secret="not-the-secret")
    assert server.post(SLASH_COMMAND, wrong)[0] == 401, "wrong signature"

    tampered = sign(SLASH_COMMAND, now)
    assert server.post(SLASH_COMMAND.replace("help", "list"), tampered)[0] == 401, "signed another body"

    stale = sign(SLASH_COMMAND, now - 600)
    assert server.post(SLASH_COMMAND, stale)[0] == 401, "timestamp 10 minutes old"
    assert slack_stub.calls == [], "a refused request must have no effect, not even on Slack"

    status, body = server.post(SLASH_COMMAND, sign(SLASH_COMMAND, int(time.time())))
    assert status == 200, body
    answer = json.loads(body)
    assert "propose" in answer["text"]
    assert "/cdo propose" in json.dumps(answer["blocks"])

    server.stop()
    assert "Traceback" not in server.output()


def outdated_database(url: str) -> None:
    """Someone else's table and a revision this version does not know."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE unrelated (id INTEGER PRIMARY KEY)"))
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('0000old')"))
    engine.dispose()


def test_serve_refuses_an_outdated_schema_with_a_hint(workdir, database_url):
    outdated_database(database_url)
    result = run_cli(
        workdir,
        "serve",
        "--http",
        "--port",
        str(free_port()),
        timeout=60,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        DATABASE_URL=database_url,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = message_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert "cdo-hub db upgrade" in lines[0]
    # Refusing means touching nothing.
    engine = make_engine(database_url)
    try:
        status = schema_status(engine)
    finally:
        engine.dispose()
    assert status.current == "0000old"


@pytest.mark.postgres
def test_serve_refuses_an_empty_postgres_database(workdir, postgres_url):
    # Only a fresh SQLite file is created on the fly; a server database is migrated on purpose.
    result = run_cli(
        workdir,
        "serve",
        "--http",
        "--port",
        str(free_port()),
        timeout=60,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        DATABASE_URL=postgres_url,
    )
    assert result.returncode != 0
    lines = message_lines(result.stderr)
    assert len(lines) == 1 and "cdo-hub db upgrade" in lines[0], result.stderr


@pytest.mark.postgres
def test_healthz_is_503_when_the_database_is_gone(workdir, start_server, postgres_server, migrated_postgres_url):
    server = start_server(migrated_postgres_url)
    assert server.wait_for_health(200, timeout=30)["database"] == "ok"

    name = migrated_postgres_url.rsplit("/", 1)[1]
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()

    health = server.wait_for_health(503, timeout=15)
    assert health["database"] != "ok"
    assert health["status"] != "ok"
