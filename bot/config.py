"""Settings: a TOML file plus environment overrides, validated once at load.

Every problem is reported as one line naming the file, the line (when TOML has one for the
key), the dotted key and what is wrong, so a person can fix it without reading a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CONFIG_PATH = Path("config.toml")
DEFAULT_DATABASE_URL = "sqlite:///cdo-hub.db"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
JOURNEYS = ("customer", "employee", "both")

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
CHANNEL_NAME = re.compile(r"^#?[a-z0-9][a-z0-9_\-]{0,79}$")
FUNCTION_KEY = re.compile(r"^[a-z][a-z0-9_\-]{0,39}$")
CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ConfigError(Exception):
    """A configuration problem, already phrased for the person who wrote the file."""


@dataclass(frozen=True)
class FunctionConfig:
    key: str
    name: str
    channel: str
    leads: tuple[str, ...]
    members: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    journeys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObstacleConfig:
    """A back-office obstacle that holds initiatives back, and the function that can clear it."""

    key: str
    name: str
    owner: str  # a function key
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlackConfig:
    command: str = "/cdo"
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str | None = None
    channel_rate: float = 1.0  # messages a second the hub posts into one channel
    channel_burst: int = 3  # messages one channel may take at once after a quiet while


@dataclass(frozen=True)
class HubConfig:
    channel: str
    staff: tuple[str, ...] = ()
    executives: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    timezone: str = "UTC"
    mirror_replies: bool = True


@dataclass(frozen=True)
class NudgeConfig:
    stall_after_days: int = 5
    escalate_after_days: int = 5
    working_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    working_hours: tuple[time, time] = (time(9), time(18))
    max_per_pair_per_week: int = 1
    sweep_every_minutes: int = 15


@dataclass(frozen=True)
class DigestConfig:
    day: str = "mon"
    time: time = time(9)
    never_met_days: int = 90


@dataclass(frozen=True)
class PrivacyConfig:
    activity_retention_days: int = 365  # per-person activity rows older than this are removed


@dataclass(frozen=True)
class IntroductionConfig:
    enabled: bool = True  # the scheduler runs one pass a day
    quiet_days: int = 90  # a pair introduced, or answered "Not now", is left alone this long


@dataclass(frozen=True)
class IdeaConfig:
    """A starter initiative for two functions that never meet (`[[ideas]]`)."""

    functions: tuple[str, str]
    title: str
    problem: str = ""
    journey: str = "both"


@dataclass(frozen=True)
class Settings:
    hub: HubConfig
    functions: Mapping[str, FunctionConfig]
    slack: SlackConfig = SlackConfig()
    database_url: str = DEFAULT_DATABASE_URL
    nudges: NudgeConfig = NudgeConfig()
    digest: DigestConfig = DigestConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    introductions: IntroductionConfig = IntroductionConfig()
    ideas: tuple[IdeaConfig, ...] | None = None  # None: the built-in starter ideas
    obstacles: Mapping[str, ObstacleConfig] = field(default_factory=lambda: MappingProxyType({}))
    source: str = "<defaults>"
    lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))  # dotted key: its line in the file

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.hub.timezone)

    def function(self, key: str) -> FunctionConfig:
        return self.functions[key]

    def is_staff(self, user_id: str) -> bool:
        return user_id in self.hub.staff

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.hub.admins

    def people(self) -> list[tuple[str, str]]:
        """Each person named in the file, with its dotted key: (`functions.it.leads`, `U0CIO`)."""
        found = [("hub." + key, person) for key in PEOPLE_KEYS for person in getattr(self.hub, key)]
        for function in self.functions.values():
            found += [(f"functions.{function.key}.{key}", person) for key in FUNCTION_PEOPLE_KEYS for person in getattr(function, key)]
        return found

    def where(self, key: str) -> str:
        """`file:line` of a dotted key, or the file alone when the line is not known."""
        line = self.lines.get(key)
        return f"{self.source}:{line}" if line else self.source


# --- the schema ------------------------------------------------------------------------------

Check = Callable[[Any], str | None]  # returns a problem, or None when the value is fine


def _str(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _int_at_least(low: int) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        return None if value >= low else f"must be at least {low}"

    return check


def _rate(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 100
    return None if ok else "must be a number of messages a second, more than 0 and at most 100"


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _list_of(item: Check, *, non_empty: bool = False) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list):
            return "must be a list"
        if non_empty and not value:
            return "must not be empty"
        for entry in value:
            problem = item(entry)
            if problem:
                return f"{entry!r} {problem}" if problem.startswith("must") else f"{entry!r}: {problem}"
        return None

    return check


def is_email(value: str) -> bool:
    return bool(EMAIL.match(value))


def _person(value: Any) -> str | None:
    if isinstance(value, str) and (USER_ID.match(value) or EMAIL.match(value)):
        return None
    return "must be a Slack user ID (like U0123ABCD) or an email address (like cmo@acme.com)"


def _channel(value: Any) -> str | None:
    if isinstance(value, str) and (CHANNEL_ID.match(value) or CHANNEL_NAME.match(value)):
        return None
    return "must be a channel name (like #marketing) or a channel ID (like C0123ABCD)"


def _timezone(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a time zone name (like Europe/Paris)"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r} (use a name like Europe/Paris)"
    return None


def _day(value: Any) -> str | None:
    return None if value in DAYS else f"must be one of {', '.join(DAYS)}"


def _clock(value: Any) -> str | None:
    return None if isinstance(value, str) and CLOCK_TIME.match(value) else "must be a time like 09:00"


def _hours(value: Any) -> str | None:
    if not isinstance(value, str) or "-" not in value:
        return "must look like 09:00-18:00"
    start, _, end = value.partition("-")
    if _clock(start) or _clock(end):
        return "must look like 09:00-18:00"
    if start >= end:
        return "must start before it ends (like 09:00-18:00)"
    return None


def _command(value: Any) -> str | None:
    if isinstance(value, str) and re.match(r"^/[a-z0-9_\-]{1,31}$", value):
        return None
    return "must be a slash command like /cdo"


def _journey(value: Any) -> str | None:
    return None if value in JOURNEYS else f"must be one of {', '.join(JOURNEYS)}"


SECTIONS: dict[str, dict[str, Check]] = {
    "slack": {
        "command": _command,
        "bot_token": _str,
        "signing_secret": _str,
        "app_token": _str,
        "api_url": _str,
        "channel_rate": _rate,
        "channel_burst": _int_at_least(1),
    },
    "database": {"url": _str},
    "hub": {
        "channel": _channel,
        "staff": _list_of(_person),
        "executives": _list_of(_person),
        "admins": _list_of(_person),
        "timezone": _timezone,
        "mirror_replies": _bool,
    },
    "nudges": {
        "stall_after_days": _int_at_least(1),
        "escalate_after_days": _int_at_least(1),
        "working_days": _list_of(_day, non_empty=True),
        "working_hours": _hours,
        "max_per_pair_per_week": _int_at_least(1),
        "sweep_every_minutes": _int_at_least(1),
    },
    "digest": {"day": _day, "time": _clock, "never_met_days": _int_at_least(1)},
    "privacy": {"activity_retention_days": _int_at_least(30)},  # nudge caps and rounds look weeks back
    "introductions": {"enabled": _bool, "quiet_days": _int_at_least(1)},
}
IDEA_KEYS: dict[str, Check] = {"functions": _list_of(_str), "title": _str, "problem": _str, "journey": _journey}
IDEA_TITLE_LIMIT = 150  # the proposal form's title
IDEA_PROBLEM_LIMIT = 3000
FUNCTION_KEYS: dict[str, Check] = {
    "name": _str,
    "channel": _channel,
    "leads": _list_of(_person, non_empty=True),
    "members": _list_of(_person),
    "keywords": _list_of(_str),
    "journeys": _list_of(_journey),
}
OBSTACLE_KEYS: dict[str, Check] = {"name": _str, "keywords": _list_of(_str, non_empty=True), "owner": _str}
REQUIRED = {"hub": ("channel",)}
PEOPLE_KEYS = ("staff", "executives", "admins")  # of [hub]: people, by member ID or email
FUNCTION_PEOPLE_KEYS = ("leads", "members")  # of each [functions.<key>]
FUNCTION_REQUIRED = ("channel", "leads")
ENVIRONMENT = {
    "SLACK_BOT_TOKEN": "bot_token",
    "SLACK_SIGNING_SECRET": "signing_secret",
    "SLACK_APP_TOKEN": "app_token",
    "SLACK_API_URL": "api_url",
}


# --- loading ---------------------------------------------------------------------------------


@dataclass
class _Reporter:
    source: str
    text: str = ""
    problems: list[str] = field(default_factory=list)

    def fail(self, key: tuple[str, ...], problem: str) -> ConfigError:
        line = _line_of(self.text, key)
        where = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{where}: {'.'.join(key)}: {problem}")


def _line_of(text: str, key: tuple[str, ...]) -> int | None:
    """The line that sets `key`, else the line of its table header.

    tomllib keeps no positions, so the file is scanned for `[table]` headers and `name =`.
    """
    table: tuple[str, ...] = ()
    header_line = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[") and not line.startswith("[["):
            # A header may carry a comment after its closing bracket.
            header = line[1:].split("]", 1)[0]
            table = tuple(part.strip().strip('"') for part in header.split("."))
            # A whole table (like `functions`) points at its first sub-table when it has no header.
            if header_line is None and (table == key[:-1] or table[: len(key)] == key):
                header_line = number
            if table == key:
                return number
            continue
        name = line.split("=", 1)[0].strip().strip('"')
        if "=" in line and table + tuple(name.split(".")) == key:
            return number
    return header_line


def _check_table(reporter: _Reporter, path: tuple[str, ...], table: Any, schema: Mapping[str, Check]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise reporter.fail(path, "must be a table")
    for name, value in table.items():
        check = schema.get(name)
        if check is None:
            known = ", ".join(sorted(schema))
            raise reporter.fail(path + (name,), f"unknown key (known keys: {known})")
        problem = check(value)
        if problem:
            raise reporter.fail(path + (name,), problem)
    return table


def _parse_time(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


def parse(text: str, *, source: str = "config.toml", env: Mapping[str, str] | None = None) -> Settings:
    """Validate TOML text and return frozen settings, or raise ConfigError."""
    reporter = _Reporter(source, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None

    known = set(SECTIONS) | {"functions", "ideas", "obstacles"}
    for name in data:
        if name not in known:
            raise reporter.fail((name,), f"unknown section (known sections: {', '.join(sorted(known))})")
    tables = {name: _check_table(reporter, (name,), data.get(name, {}), schema) for name, schema in SECTIONS.items()}
    for section, keys in REQUIRED.items():
        for key in keys:
            if key not in tables[section]:
                raise reporter.fail((section, key), "is required")

    raw_functions = data.get("functions", {})
    if not isinstance(raw_functions, dict):
        raise reporter.fail(("functions",), "must be a table of [functions.<key>] tables")
    functions: dict[str, FunctionConfig] = {}
    for key, table in raw_functions.items():
        path = ("functions", key)
        if not FUNCTION_KEY.match(key):
            raise reporter.fail(path, "function keys are lowercase words like marketing or it")
        _check_table(reporter, path, table, FUNCTION_KEYS)
        for required in FUNCTION_REQUIRED:
            if required not in table:
                raise reporter.fail(path + (required,), "is required for every function")
        functions[key] = FunctionConfig(
            key=key,
            name=table.get("name", key.upper() if len(key) <= 3 else key.title()),
            channel=table["channel"],
            leads=tuple(table["leads"]),
            members=tuple(table.get("members", ())),
            keywords=tuple(table.get("keywords", ())),
            journeys=tuple(table.get("journeys", ())),
        )
    if len(functions) < 2:
        raise reporter.fail(("functions",), "at least two functions are needed: the hub exists for cross-functional work")
    channels: dict[str, str] = {}
    for function in functions.values():
        other = channels.setdefault(function.channel.lstrip("#"), function.key)
        if other != function.key:
            raise reporter.fail(("functions", function.key, "channel"), f"is already the channel of function {other!r}")

    ideas = _ideas(reporter, data, functions) if "ideas" in data else None

    env = os.environ if env is None else env
    slack_table = dict(tables["slack"])
    for variable, key in ENVIRONMENT.items():
        if env.get(variable):
            slack_table[key] = env[variable]
    hub = tables["hub"]
    nudges = tables["nudges"]
    digest = tables["digest"]
    start, _, end = nudges.get("working_hours", "09:00-18:00").partition("-")
    return Settings(
        source=source,
        slack=SlackConfig(**slack_table),
        database_url=env.get("DATABASE_URL") or tables["database"].get("url", DEFAULT_DATABASE_URL),
        hub=HubConfig(
            channel=hub["channel"],
            staff=tuple(hub.get("staff", ())),
            executives=tuple(hub.get("executives", ())),
            admins=tuple(hub.get("admins", ())),
            timezone=hub.get("timezone", "UTC"),
            mirror_replies=hub.get("mirror_replies", True),
        ),
        functions=MappingProxyType(functions),
        nudges=NudgeConfig(
            stall_after_days=nudges.get("stall_after_days", 5),
            escalate_after_days=nudges.get("escalate_after_days", 5),
            working_days=tuple(nudges.get("working_days", NudgeConfig.working_days)),
            working_hours=(_parse_time(start), _parse_time(end)),
            max_per_pair_per_week=nudges.get("max_per_pair_per_week", 1),
            sweep_every_minutes=nudges.get("sweep_every_minutes", 15),
        ),
        digest=DigestConfig(
            day=digest.get("day", "mon"),
            time=_parse_time(digest.get("time", "09:00")),
            never_met_days=digest.get("never_met_days", 90),
        ),
        privacy=PrivacyConfig(activity_retention_days=tables["privacy"].get("activity_retention_days", 365)),
        introductions=IntroductionConfig(
            enabled=tables["introductions"].get("enabled", True), quiet_days=tables["introductions"].get("quiet_days", 90)
        ),
        ideas=ideas,
        obstacles=MappingProxyType(_obstacles(reporter, data.get("obstacles", {}), functions)),
        lines=MappingProxyType(_people_lines(text, functions)),
    )


def _idea_line(text: str, index: int, key: str | None) -> int | None:
    """The line of `[[ideas]]` number `index` (or of its `key`): tomllib keeps no positions."""
    seen, inside = -1, False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("["):
            inside = line.split("]]", 1)[0] == "[[ideas"
            seen += inside
            if inside and seen == index and key is None:
                return number
            continue
        if inside and seen == index and key is not None and line.split("=", 1)[0].strip().strip('"') == key:
            return number
    return None


def _ideas(reporter: _Reporter, data: dict[str, Any], functions: Mapping[str, FunctionConfig]) -> tuple[IdeaConfig, ...]:
    raw = data["ideas"]

    def fail(index: int, key: str | None, problem: str) -> ConfigError:
        line = _idea_line(reporter.text, index, key)
        where = f"{reporter.source}:{line}" if line else reporter.source
        return ConfigError(f"{where}: ideas[{index}]{'.' + key if key else ''}: {problem}")

    if not isinstance(raw, list):
        raise reporter.fail(("ideas",), "must be a list of [[ideas]] tables")
    ideas = []
    for index, table in enumerate(raw):
        if not isinstance(table, dict):
            raise fail(index, None, "must be a table")
        for name, value in table.items():
            check = IDEA_KEYS.get(name)
            if check is None:
                raise fail(index, name, f"unknown key (known keys: {', '.join(sorted(IDEA_KEYS))})")
            problem = check(value)
            if problem:
                raise fail(index, name, problem)
        for required in ("functions", "title"):
            if required not in table:
                raise fail(index, required, "is required for every idea")
        keys = table["functions"]
        if len(keys) != 2 or keys[0] == keys[1]:
            raise fail(index, "functions", "must name two different functions")
        for key in keys:
            if key not in functions:
                raise fail(index, "functions", f"{key!r} is not a configured function (known: {', '.join(functions)})")
        if len(table["title"]) > IDEA_TITLE_LIMIT:
            raise fail(index, "title", f"must be at most {IDEA_TITLE_LIMIT} characters")
        if len(table.get("problem", "")) > IDEA_PROBLEM_LIMIT:
            raise fail(index, "problem", f"must be at most {IDEA_PROBLEM_LIMIT} characters")
        a, b = sorted(keys)
        ideas.append(IdeaConfig((a, b), table["title"].strip(), table.get("problem", "").strip(), table.get("journey", "both")))
    return tuple(ideas)


def _obstacles(reporter: _Reporter, raw: Any, functions: Mapping[str, FunctionConfig]) -> dict[str, ObstacleConfig]:
    """`[obstacles.<key>]`: a name, the words that reveal it, and the function that can clear it."""
    if not isinstance(raw, dict):
        raise reporter.fail(("obstacles",), "must be a table of [obstacles.<key>] tables")
    obstacles: dict[str, ObstacleConfig] = {}
    for key, table in raw.items():
        path = ("obstacles", key)
        if not FUNCTION_KEY.match(key):
            raise reporter.fail(path, "obstacle keys are lowercase words like erp or dam")
        _check_table(reporter, path, table, OBSTACLE_KEYS)
        for required in ("keywords", "owner"):
            if required not in table:
                raise reporter.fail(path + (required,), "is required for every obstacle")
        if table["owner"] not in functions:
            known = ", ".join(functions)
            raise reporter.fail(path + ("owner",), f"unknown function {table['owner']!r} (known functions: {known})")
        name = table.get("name", key.upper() if len(key) <= 3 else key.title())
        obstacles[key] = ObstacleConfig(key=key, name=name, owner=table["owner"], keywords=tuple(table["keywords"]))
    return obstacles


def _people_lines(text: str, functions: Mapping[str, FunctionConfig]) -> dict[str, int]:
    keys = [("hub", key) for key in PEOPLE_KEYS] + [("functions", f, key) for f in functions for key in FUNCTION_PEOPLE_KEYS]
    return {".".join(key): line for key in keys if (line := _line_of(text, key))}


def config_path(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(explicit or env.get("CDO_HUB_CONFIG") or DEFAULT_CONFIG_PATH)


def load(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Find the file (--config, then $CDO_HUB_CONFIG, then ./config.toml) and parse it."""
    path = config_path(explicit, env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: configuration file not found (copy config.example.toml to config.toml, or pass --config PATH or set CDO_HUB_CONFIG)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the configuration file: {error}") from None
    return parse(text, source=str(path), env=env)
