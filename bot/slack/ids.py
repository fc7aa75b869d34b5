"""Every Slack identifier the hub uses (action_id, callback_id, block_id), in one place,
and the typed objects carried in button values and private_metadata."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from enum import Enum
from typing import Any, TypeVar


class Action(str, Enum):
    COMMIT = "commit"
    OPEN_DISCUSSION = "open_discussion"
    COMMITMENT_DONE = "commitment_done"
    COMMITMENT_SLIP = "commitment_slip"
    COMMITMENT_BLOCKED = "commitment_blocked"
    INITIATIVE_STATUS = "initiative_status"
    NUDGE_ON_IT = "nudge_on_it"
    NUDGE_SNOOZE = "nudge_snooze"
    NUDGE_BLOCKED = "nudge_blocked"
    NUDGE_AGAIN = "nudge_again"
    JOURNEY_CHANGED = "journey_changed"


class View(str, Enum):
    PROPOSE = "propose"
    COMMIT = "commit"
    SLIP = "commitment_slip"
    BLOCKED = "commitment_blocked"


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


T = TypeVar("T")


def dump(obj: Any) -> str:
    """Serialise a metadata/value dataclass compactly (button values ≤ 2000, metadata ≤ 3000)."""
    return json.dumps(asdict(obj), separators=(",", ":"))


def load(cls: type[T], raw: str | None) -> T:
    """Parse what `dump` wrote; unknown keys are ignored so old buttons keep working."""
    data = json.loads(raw or "{}")
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{key: value for key, value in data.items() if key in names})


@dataclass(frozen=True)
class CommitmentRef:
    """Button value naming a commitment."""

    commitment: int


@dataclass(frozen=True)
class StatusChoice:
    """Overflow option value on the hub card: the initiative and the status chosen."""

    initiative: int
    status: str


@dataclass(frozen=True)
class NudgeRef:
    """Button value of a nudge: its pair, the pair's round when it was sent, and the nudge."""

    pair: int
    round: int
    nudge: int
