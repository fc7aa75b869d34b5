"""bot.config: the example file, environment overrides, defaults, and one-line refusals that
name the file, the line and the dotted key."""

from __future__ import annotations

import dataclasses
import re
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, Settings, load, parse

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"

# The smallest valid file: a hub channel and two functions.
MINIMAL = """\
[hub]
channel = "#cdo-hub"

[functions.marketing]
channel = "#marketing"
leads = ["U0CMO"]

[functions.it]
channel = "#it"
leads = ["U0CIO"]
"""


def line_of(text: str, needle: str) -> int:
    """1-based line of the one line containing `needle` (the test's own marker)."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) == 1, f"{needle!r} must appear on exactly one line"
    return lines[0]


def refusal(text: str, source: str = "cfg.toml") -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text, source=source, env={})
    message = str(caught.value)
    assert "\n" not in message, "a refusal is one line"
    return message


# --- the example file ------------------------------------------------------------------------


def test_example_file_gives_the_documented_values():
    settings = parse(EXAMPLE.read_text(encoding="utf-8"), source=str(EXAMPLE), env={})

    assert settings.source == str(EXAMPLE)
    assert settings.slack.command == "/cdo"
    assert settings.slack.bot_token is None and settings.slack.signing_secret is None
    assert settings.database_url == "sqlite:///cdo-hub.db"

    assert settings.hub.channel == "#cdo-hub"
    assert settings.hub.staff == ("U0CDO",)
    assert settings.hub.executives == ("U0CEO",)
    assert settings.hub.admins == ("U0CDO",)
    assert settings.hub.timezone == "Europe/Paris"
    assert settings.tz == ZoneInfo("Europe/Paris")
    assert settings.hub.mirror_replies is True
    assert settings.is_staff("U0CDO") and not settings.is_staff("U0CMO")
    assert settings.is_admin("U0CDO") and not settings.is_admin("U0CEO")

    assert list(settings.functions) == ["marketing", "it", "hr"]
    marketing, it, hr = (settings.function(key) for key in ("marketing", "it", "hr"))
    assert (marketing.name, marketing.channel, marketing.leads) == ("Marketing", "#marketing", ("U0CMO",))
    assert marketing.keywords == ("customer journey", "campaign", "brand", "CRM", "website")
    assert marketing.journeys == ("customer",)
    assert marketing.members == ()
    assert (it.name, it.channel, it.leads) == ("IT", "#it", ("U0CIO",))
    assert it.keywords == ("ERP", "data", "API", "DAM", "workflow", "integration", "security")
    assert it.journeys == ()
    assert (hr.name, hr.channel, hr.leads) == ("HR", "#hr", ("U0CHRO",))
    assert hr.keywords == ("onboarding", "employee", "recruiting", "training", "candidate")
    assert hr.journeys == ("employee",)

    nudges = settings.nudges
    assert nudges.stall_after_days == 5
    assert nudges.escalate_after_days == 5
    assert nudges.working_days == ("mon", "tue", "wed", "thu", "fri")
    assert nudges.working_hours == (time(9, 0), time(18, 0))
    assert all(isinstance(t, time) for t in nudges.working_hours)
    assert nudges.max_per_pair_per_week == 1
    assert nudges.sweep_every_minutes == 15

    assert settings.digest.day == "mon"
    assert settings.digest.time == time(9, 0) and isinstance(settings.digest.time, time)
    assert settings.digest.never_met_days == 90
    assert settings.privacy.activity_retention_days == 365


def test_values_other_than_the_defaults_are_read():
    # Guards against a parser that ignores the file and returns the dataclass defaults.
    text = (
        MINIMAL
        + """
[nudges]
working_hours = "08:30-17:15"
stall_after_days = 3
[digest]
time = "07:45"
day = "fri"
[privacy]
activity_retention_days = 90
"""
    )
    settings = parse(text, env={})
    assert settings.privacy.activity_retention_days == 90
    assert settings.nudges.working_hours == (time(8, 30), time(17, 15))
    assert settings.nudges.stall_after_days == 3
    assert settings.digest.time == time(7, 45)
    assert settings.digest.day == "fri"


# --- environment and defaults ----------------------------------------------------------------

FILE_SECRETS = (
    MINIMAL
    + """
[slack]
bot_token = "xoxb-file"
signing_secret = "file-secret"
app_token = "xapp-file"
api_url = "http://file.invalid/api/"

[database]
url = "sqlite:///file.db"
"""
)


def test_environment_overrides_win_over_the_file():
    env = {
        "SLACK_BOT_TOKEN": "xoxb-env",
        "SLACK_SIGNING_SECRET": "env-secret",
        "SLACK_APP_TOKEN": "xapp-env",
        "DATABASE_URL": "postgresql://db.example/cdo",
        "SLACK_API_URL": "http://127.0.0.1:9999/api/",
    }
    settings = parse(FILE_SECRETS, env=env)
    assert settings.slack.bot_token == "xoxb-env"
    assert settings.slack.signing_secret == "env-secret"
    assert settings.slack.app_token == "xapp-env"
    assert settings.slack.api_url == "http://127.0.0.1:9999/api/"
    assert settings.database_url == "postgresql://db.example/cdo"


def test_file_values_stay_when_the_environment_is_silent():
    settings = parse(FILE_SECRETS, env={"UNRELATED": "x"})
    assert settings.slack.bot_token == "xoxb-file"
    assert settings.slack.signing_secret == "file-secret"
    assert settings.slack.app_token == "xapp-file"
    assert settings.slack.api_url == "http://file.invalid/api/"
    assert settings.database_url == "sqlite:///file.db"


def test_environment_fills_what_the_file_lacks():
    settings = parse(MINIMAL, env={"SLACK_BOT_TOKEN": "xoxb-env", "DATABASE_URL": "sqlite:///env.db"})
    assert settings.slack.bot_token == "xoxb-env"
    assert settings.slack.signing_secret is None
    assert settings.database_url == "sqlite:///env.db"


def test_defaults_when_sections_are_missing():
    settings = parse(MINIMAL, env={})
    assert settings.database_url == "sqlite:///cdo-hub.db"
    assert settings.slack.command == "/cdo"
    assert settings.slack.bot_token is None
    assert settings.hub.timezone == "UTC"
    assert settings.hub.staff == ()
    assert settings.nudges.working_days == ("mon", "tue", "wed", "thu", "fri")
    assert settings.nudges.working_hours == (time(9), time(18))
    assert settings.nudges.stall_after_days == 5
    assert settings.digest.time == time(9)
    assert settings.digest.never_met_days == 90
    assert settings.privacy.activity_retention_days == 365
    # A function without a name gets a readable one from its key.
    assert settings.function("it").name == "IT"
    assert settings.function("marketing").name == "Marketing"


def test_settings_are_frozen():
    settings = parse(MINIMAL, env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.database_url = "sqlite:///other.db"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.nudges.stall_after_days = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.function("it").channel = "#other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.functions["hr"] = settings.function("it")  # type: ignore[index]
    with pytest.raises(AttributeError):
        settings.function("it").leads.append("U0X")  # type: ignore[attr-defined]


# --- refusals: path:LINE: dotted.key: problem -------------------------------------------------


def with_section(extra: str) -> str:
    return MINIMAL + "\n" + extra


REFUSALS = {
    # name: (text, dotted key, marker on the expected line, words of the problem)
    "retention shorter than a month": (
        with_section("[privacy]\nactivity_retention_days = 7\n"),
        "privacy.activity_retention_days",
        "activity_retention_days",
        "at least 30",
    ),
    "unknown key in a section": (
        with_section("[nudges]\nstall_after_dayz = 5\n"),
        "nudges.stall_after_dayz",
        "stall_after_dayz",
        "unknown key",
    ),
    "unknown key in a function": (
        MINIMAL.replace('channel = "#it"', 'channel = "#it"\ncolour = "blue"'),
        "functions.it.colour",
        "colour",
        "unknown key",
    ),
    "unknown key at top level": (
        'colour = "red"\n' + MINIMAL,
        "colour",
        "colour",
        "unknown",
    ),
    "unknown section": (
        with_section("[colours]\nred = 1\n"),
        "colours",
        "[colours]",
        "unknown section",
    ),
    "string where a number is expected": (
        with_section('[nudges]\nstall_after_days = "5"\n'),
        "nudges.stall_after_days",
        "stall_after_days",
        "whole number",
    ),
    "number where a list is expected": (
        MINIMAL.replace('channel = "#it"', 'channel = "#it"\nkeywords = 3'),
        "functions.it.keywords",
        "keywords",
        "must be a list",
    ),
    "function without a channel": (
        MINIMAL.replace('channel = "#it"\n', ""),
        "functions.it.channel",
        "[functions.it]",
        "is required",
    ),
    "lead that is not a user ID": (
        MINIMAL.replace('leads = ["U0CIO"]', 'leads = ["bob"]'),
        "functions.it.leads",
        '"bob"',
        "'bob' must be a Slack user ID",
    ),
    "fewer than two functions": (
        MINIMAL.split("[functions.it]")[0],
        "functions",
        "[functions.marketing]",
        "at least two functions",
    ),
    "bad working_days entry": (
        with_section('[nudges]\nworking_days = ["mon", "funday"]\n'),
        "nudges.working_days",
        "funday",
        "'funday' must be one of mon",
    ),
    "working hours ending before they start": (
        with_section('[nudges]\nworking_hours = "18:00-09:00"\n'),
        "nudges.working_hours",
        "18:00-09:00",
        "start before it ends",
    ),
    "working hours without minutes": (
        with_section('[nudges]\nworking_hours = "9-5"\n'),
        "nudges.working_hours",
        '"9-5"',
        "09:00-18:00",
    ),
    "bad digest time": (
        with_section('[digest]\nday = "mon"\ntime = "9am"\n'),
        "digest.time",
        "9am",
        "time like 09:00",
    ),
    "unknown timezone": (
        MINIMAL.replace('channel = "#cdo-hub"', 'channel = "#cdo-hub"\ntimezone = "Mars/Olympus"'),
        "hub.timezone",
        "Mars/Olympus",
        "unknown time zone",
    ),
    "duplicated channel": (
        # "#marketing" and "marketing" are the same channel.
        MINIMAL.replace('channel = "#it"', 'channel = "marketing"'),
        "functions.it.channel",
        '"marketing"',
        "already the channel of function 'marketing'",
    ),
    "hub without a channel": (
        MINIMAL.replace('channel = "#cdo-hub"', 'timezone = "UTC"'),
        "hub.channel",
        "[hub]",
        "is required",
    ),
    "table header followed by a comment": (
        MINIMAL.replace("[functions.it]", "[functions.it]  # the IT department").replace("U0CIO", "bob"),
        "functions.it.leads",
        '"bob"',
        "user ID",
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusal_names_file_line_and_key(name):
    text, key, marker, problem = REFUSALS[name]
    message = refusal(text)
    line = line_of(text, marker)
    assert re.fullmatch(rf"cfg\.toml:{line}: {re.escape(key)}: .+", message), message
    assert problem in message


def test_invalid_toml_names_the_line():
    text = MINIMAL.replace('channel = "#it"', 'channel "#it"')
    message = refusal(text)
    line = line_of(text, 'channel "#it"')
    assert message.startswith("cfg.toml")
    assert "TOML" in message
    assert re.search(rf"(:{line}:|line {line}\b)", message), message


def test_bad_values_in_the_example_file_point_at_their_line():
    # The real file has comments after values and tables: lines must still be right.
    text = EXAMPLE.read_text(encoding="utf-8").replace('"U0CHRO"', '"carol"')
    message = refusal(text, source="config.example.toml")
    assert message.startswith(f"config.example.toml:{line_of(text, 'carol')}: functions.hr.leads: ")


# --- load(): where the file comes from -------------------------------------------------------


def write_config(path: Path, hub_channel: str) -> Path:
    path.write_text(MINIMAL.replace("#cdo-hub", hub_channel), encoding="utf-8")
    return path


@pytest.fixture
def three_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CDO_HUB_CONFIG", raising=False)
    (tmp_path / "elsewhere").mkdir()
    return {
        "cwd": write_config(tmp_path / "config.toml", "#from-cwd"),
        "env": write_config(tmp_path / "elsewhere" / "env.toml", "#from-env"),
        "explicit": write_config(tmp_path / "elsewhere" / "explicit.toml", "#from-explicit"),
    }


def channel(settings: Settings) -> str:
    return settings.hub.channel


def test_load_prefers_the_explicit_path(three_files):
    settings = load(str(three_files["explicit"]), env={"CDO_HUB_CONFIG": str(three_files["env"])})
    assert channel(settings) == "#from-explicit"
    assert settings.source == str(three_files["explicit"])


def test_load_then_uses_cdo_hub_config(three_files, monkeypatch):
    assert channel(load(None, env={"CDO_HUB_CONFIG": str(three_files["env"])})) == "#from-env"
    # Also from the real process environment when no mapping is given.
    monkeypatch.setenv("CDO_HUB_CONFIG", str(three_files["env"]))
    assert channel(load()) == "#from-env"


def test_load_falls_back_to_config_toml_in_the_working_directory(three_files):
    settings = load(None, env={})
    assert channel(settings) == "#from-cwd"
    assert Path(settings.source) == Path("config.toml")


def test_load_applies_environment_overrides(three_files):
    settings = load(None, env={"DATABASE_URL": "sqlite:///env.db", "SLACK_BOT_TOKEN": "xoxb-env"})
    assert settings.database_url == "sqlite:///env.db"
    assert settings.slack.bot_token == "xoxb-env"


def test_missing_file_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load(None, env={})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("config.toml: ")
    assert "config.example.toml" in message

    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=re.escape(str(missing))):
        load(str(missing), env={})


def test_load_reports_problems_with_the_real_path(tmp_path):
    path = tmp_path / "broken.toml"
    text = MINIMAL.replace('leads = ["U0CIO"]', 'leads = ["bob"]')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(str(path), env={})
    assert str(caught.value).startswith(f"{path}:{line_of(text, 'bob')}: functions.it.leads: ")


# --- obstacles -------------------------------------------------------------------------------


def test_example_file_has_a_default_set_of_obstacles_owned_by_it():
    settings = parse(EXAMPLE.read_text(encoding="utf-8"), source=str(EXAMPLE), env={})
    assert list(settings.obstacles) == ["erp", "dam", "workflow", "customer_data", "legacy_hr"]
    assert {obstacle.owner for obstacle in settings.obstacles.values()} == {"it"}
    assert settings.obstacles["erp"].name == "Several ERP instances" and "ERP" in settings.obstacles["erp"].keywords


@pytest.mark.parametrize(
    "table, marker, problem",
    [
        ('[obstacles.erp]\nkeywords = ["ERP"]\nowner = "finance"  # here', "# here", "obstacles.erp.owner: unknown function 'finance'"),
        ('[obstacles.erp]  # here\nkeywords = ["ERP"]', "# here", "obstacles.erp.owner: is required"),
        ('[obstacles.erp]\nkeywords = []  # here\nowner = "it"', "# here", "obstacles.erp.keywords: must not be empty"),
        ('[obstacles.erp]\nkeywords = ["ERP"]\nowner = "it"\ncolour = "red"  # here', "# here", "obstacles.erp.colour: unknown key"),
        ('[obstacles.ERP]  # here\nkeywords = ["ERP"]\nowner = "it"', "# here", "obstacles.ERP: obstacle keys are lowercase words"),
    ],
)
def test_a_wrong_obstacle_is_refused_with_its_key_and_line(table, marker, problem):
    text = MINIMAL + "\n" + table + "\n"
    message = refusal(text)
    assert message.startswith(f"cfg.toml:{line_of(text, marker)}: {problem}"), message
