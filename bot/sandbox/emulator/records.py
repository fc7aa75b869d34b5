"""What the emulator records and how a method handler fails.

Call, Ephemeral, ViewRecord and ResponsePost are the records tests inspect;
ApiError is raised inside method handlers and becomes Slack's error response.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

Args = dict[str, Any]
Outcome = tuple[int, dict[str, str], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One Web API call as the emulator saw and answered it (token removed)."""

    method: str
    args: Args
    status: int
    response: dict[str, Any]
    at: float

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass(frozen=True)
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    message_ts: str


@dataclass(frozen=True)
class ViewRecord:
    method: str  # views.open, views.push or views.update
    id: str
    view: dict[str, Any]


@dataclass(frozen=True)
class ResponsePost:
    """A POST to a response_url; status tells whether it was accepted."""

    url: str
    json: Any
    status: int
    at: float


class ApiError(Exception):
    """Raised inside method handlers; becomes Slack's error response."""

    def __init__(self, error: str, *, status: int = 200, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(error)
        self.outcome: Outcome = (status, headers or {}, {"ok": False, "error": error, **extra})

    @classmethod
    def of(cls, outcome: Outcome) -> ApiError:
        """Re-raise a prepared outcome (injected faults)."""
        error = cls(str(outcome[2].get("error")))
        error.outcome = copy.deepcopy(outcome)
        return error


def invalid_arguments(*messages: str) -> ApiError:
    return ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]})


def flag(value: Any) -> bool:
    """Slack's lenient booleans: true, "true", "1", 1."""
    return value is True or str(value).lower() in ("true", "1")
