"""Every Slack identifier the hub uses (action_id, callback_id, block_id), in one place,
and the typed objects carried in button values and private_metadata."""

from __future__ import annotations

import json
import re
import typing
from dataclasses import asdict, dataclass, fields
from datetime import date
from enum import Enum
from typing import Any, TypeVar

from bot.core.rules import INITIATIVE_STATUSES


class Action(str, Enum):
    COMMIT = "commit"
    OPEN_DISCUSSION = "open_discussion"
    COMMITMENT_DONE = "commitment_done"
    COMMITMENT_SLIP = "commitment_slip"
    COMMITMENT_BLOCKED = "commitment_blocked"
    REQUEST_ACCEPT = "request_accept"
    REQUEST_OTHER_DATE = "request_other_date"
    REQUEST_DECLINE = "request_decline"
    REQUEST_ACCEPT_DATE = "request_accept_date"
    INITIATIVE_STATUS = "initiative_status"
    NUDGE_ON_IT = "nudge_on_it"
    NUDGE_SNOOZE = "nudge_snooze"
    NUDGE_BLOCKED = "nudge_blocked"
    NUDGE_AGAIN = "nudge_again"
    JOURNEY_CHANGED = "journey_changed"
    INTRODUCTION_PROPOSE = "introduction_propose"
    INTRODUCTION_NOT_NOW = "introduction_not_now"


class View(str, Enum):
    PROPOSE = "propose"
    COMMIT = "commit"
    SLIP = "commitment_slip"
    BLOCKED = "commitment_blocked"
    OTHER_DATE = "request_other_date"
    DECLINE = "request_decline"
    OBSTACLES = "obstacles"


class Shortcut(str, Enum):
    PROPOSE_FROM_MESSAGE = "propose_from_message"


class Block(str, Enum):
    """block_id of modal inputs; errors in `response_action: errors` are keyed by these."""

    TITLE = "title"
    PROBLEM = "problem"
    JOURNEY = "journey"
    FUNCTIONS = "functions"
    SPONSOR = "sponsor"
    TARGET_DATE = "target_date"
    OBSTACLES = "obstacles"
    FROM_FUNCTION = "from_function"
    TO_FUNCTION = "to_function"
    WHAT = "what"
    DUE = "due"
    REASON = "reason"
    ON_BEHALF = "on_behalf"
    OBSTACLE_LINKS = "obstacle_links"


T = TypeVar("T")


class BadValue(ValueError):
    """A button value or private_metadata that is not what `dump` wrote: damaged, forged, or
    from a message older than its type. The one error `load` raises."""


# What `dump` writes is short; a longer text is not ours (metadata may hold 3000 characters).
RAW_LIMIT = 3000
# Numbers are row IDs (an INTEGER column holds at most 2**31 - 1) and rounds.
INT_RANGE = range(0, 2**31)
# Strings are Slack IDs, timestamps, dates, keys and status names: no spaces, no control characters.
TOKEN = re.compile(r"[A-Za-z0-9_.:-]{0,100}")
# What Slack's own identifiers look like, within the columns that keep them (String(32)).
SLACK_ID = re.compile(r"[A-Z0-9]{1,32}")
MESSAGE_TS = re.compile(r"[0-9]{1,10}\.[0-9]{1,8}")  # seconds within datetime's range


def dump(obj: Any) -> str:
    """Serialise a metadata/value dataclass compactly (button values ≤ 2000, metadata ≤ 3000)."""
    return json.dumps(asdict(obj), separators=(",", ":"))


def load(cls: type[T], raw: object) -> T:
    """Parse what `dump` wrote; unknown keys are ignored so old buttons keep working.

    Anything else — not JSON, not an object, a field missing or of another type, a number out
    of range, a value the class refuses — raises `BadValue`."""
    if raw is None or raw == "":
        raw = "{}"
    if not isinstance(raw, str) or len(raw) > RAW_LIMIT:
        raise BadValue(f"{cls.__name__}: not a short text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadValue(f"{cls.__name__}: not JSON") from None
    if not isinstance(data, dict):
        raise BadValue(f"{cls.__name__}: not a JSON object")
    known = _field_types(cls)
    values = {key: value for key, value in data.items() if key in known}
    for key, value in values.items():
        if not _fits(value, known[key]):
            raise BadValue(f"{cls.__name__}.{key}: unexpected value")
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:  # a field missing, or refused by __post_init__
        raise BadValue(f"{cls.__name__}: {error}") from None


def load_first(kinds: tuple[type, ...], raw: object) -> object:
    """What `dump` wrote of one of several types (a menu whose options differ): the first that reads it."""
    problem: BadValue | None = None
    for kind in kinds:
        try:
            return load(kind, raw)
        except BadValue as error:
            problem = problem or error
    raise problem or BadValue("no type to read the value with")


_FIELD_TYPES: dict[type, dict[str, object]] = {}


def _field_types(cls: type) -> dict[str, object]:
    if cls not in _FIELD_TYPES:
        hints = typing.get_type_hints(cls)
        _FIELD_TYPES[cls] = {field.name: hints[field.name] for field in fields(cls)}
    return _FIELD_TYPES[cls]


def _fits(value: object, annotation: object) -> bool:
    if value is None:
        return type(None) in typing.get_args(annotation)
    wanted = {annotation} | set(typing.get_args(annotation))
    if isinstance(value, bool):  # a bool is an int to Python, never to us
        return False
    if isinstance(value, int):
        return int in wanted and value in INT_RANGE
    if isinstance(value, str):
        return str in wanted and TOKEN.fullmatch(value) is not None
    return False


@dataclass(frozen=True)
class CommitmentRef:
    """Button value naming a commitment."""

    commitment: int


@dataclass(frozen=True)
class DateOffer:
    """Button value of "Accept <date>" on a request: the other date the asker saw offered."""

    commitment: int
    due: str

    def __post_init__(self) -> None:
        date.fromisoformat(self.due)  # a ValueError makes `load` refuse the value


@dataclass(frozen=True)
class StatusChoice:
    """Overflow option value on the hub card: the initiative and the status chosen."""

    initiative: int
    status: str

    def __post_init__(self) -> None:
        if self.status not in INITIATIVE_STATUSES:
            raise ValueError(f"unknown status {self.status!r}")


CHANGE_OBSTACLES = "obstacles"


@dataclass(frozen=True)
class ObstacleMenu:
    """Overflow option value on the hub card: change the obstacles linked to the initiative.
    `change` tells it apart from a `StatusChoice` in the same menu."""

    initiative: int
    change: str

    def __post_init__(self) -> None:
        if self.change != CHANGE_OBSTACLES:
            raise ValueError(f"unknown change {self.change!r}")


@dataclass(frozen=True)
class ObstaclesMeta:
    """private_metadata of the form that changes an initiative's obstacles."""

    initiative: int


@dataclass(frozen=True)
class NudgeRef:
    """Button value of a nudge: its pair, the pair's round when it was sent, and the nudge."""

    pair: int
    round: int
    nudge: int


@dataclass(frozen=True)
class IntroductionRef:
    """Button value of an introduction (Propose this, Not now)."""

    introduction: int
