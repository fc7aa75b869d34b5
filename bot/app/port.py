"""The narrow port through which the use cases talk to Slack, and what it answers.

`bot.slack` implements it (the gateway, the directory and the Block Kit renderer); the use
cases only see these protocols, so they can be run against any implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.app.roadmap import Shown
    from bot.config import Settings
    from bot.core.audience import ChannelFacts
    from bot.core.digest import Digest
    from bot.core.home import HomeData
    from bot.core.nudge_claims import PairView
    from bot.models import Commitment, CommitmentChange, Initiative, InitiativeFunction, Introduction

Blocks = list[dict[str, Any]]
Rendered = tuple[str, Blocks]  # fallback text and blocks


class ErrorKind(str, Enum):
    TARGET = "target"  # a channel or user that cannot take it: tell a person, go on
    INSTALL = "install"  # the token no longer works: stop sending
    TRANSIENT = "transient"  # rate limits, server errors, timeouts: try again later
    OTHER = "other"


@dataclass(frozen=True)
class Result:
    """The outcome of one call: `data` when ok, else `error` and its kind."""

    ok: bool
    data: dict[str, Any]
    error: str | None = None
    kind: ErrorKind | None = None
    retry_after: float | None = None  # a 429 answered rather than waited out: seconds to wait

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


class InstallBroken(RuntimeError):
    """The token no longer works: stop sending until an operator fixes it."""


class SlackUnavailable(RuntimeError):
    """Slack did not answer a question the hub cannot do without (whose channel is this
    person in?): the work is to be tried again later rather than done on a guess."""


@dataclass(frozen=True)
class UserInfo:
    id: str
    name: str
    tz: str | None
    is_bot: bool
    deleted: bool


class Turns(Protocol):
    """One sending pass paced per channel (Slack takes about one message a second in a
    channel). The pass lasts a given time; what does not get a turn in it waits for the next."""

    def next(self, channels: Sequence[str]) -> str | None:
        """The first of these channels, in this order, whose turn has come (after waiting for
        the soonest when none has); None when no turn comes before the pass ends."""
        ...

    def post(
        self, channel: str, text: str, blocks: Blocks | None = None, *, thread_ts: str | None = None, keys: Sequence[str] = ()
    ) -> Result:
        """Post in the channel's turn, carrying `keys` in the message's metadata (for
        `find_posted`). A 429 is answered (`ratelimited`, with `retry_after`), not waited out:
        that channel sits out the wait, the others go on."""
        ...


class SlackPort(Protocol):
    """The Web API calls the use cases make. None raises for a Slack error except
    `InstallBroken`, raised when the token no longer works."""

    install_error: str | None

    def check_install(self) -> str | None:
        """The install error while the token fails, None when it works: a set error is
        checked with Slack again now and then, and cleared once the token answers."""
        ...

    def call(self, method: str, **params: Any) -> Result: ...

    def post_message(
        self, channel: str, text: str, blocks: Blocks | None = None, *, thread_ts: str | None = None, key: str | None = None
    ) -> Result: ...

    def turns(self, seconds: float) -> Turns:
        """A sending pass of at most `seconds`, paced per channel."""
        ...

    def find_posted(self, channel: str, key: str, *, thread_ts: str | None = None, oldest: float | None = None) -> str | None: ...

    def update_message(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> Result: ...

    def upload_file(self, channel: str, data: bytes, *, filename: str, title: str, alt_text: str) -> Result:
        """Share a file in a channel or a person's DM (files_upload_v2)."""
        ...

    def find_upload(self, channel: str, filename: str, *, oldest: float | None = None) -> str | None: ...

    def permalink(self, channel: str, ts: str, *, thread_ts: str | None = None) -> str | None: ...

    def join(self, channel: str) -> Result: ...

    def publish_home(self, user: str, view: dict[str, Any]) -> Result: ...


class DirectoryPort(Protocol):
    """Who and where, cached: channels by name or ID, their members, people."""

    def channel(self, name_or_id: str) -> dict[str, Any] | None: ...

    def facts(self, name_or_id: str) -> ChannelFacts | None:
        """Who reads the channel (None when it does not exist for the bot); raises
        SlackUnavailable when Slack did not answer."""
        ...

    def members(self, name_or_id: str) -> frozenset[str]: ...

    def user(self, user_id: str) -> UserInfo | None: ...

    def known_user(self, user_id: str) -> UserInfo | None:
        """What is known of the user without asking Slack (None when nothing is)."""
        ...

    def forget_channel(self, name_or_id: str) -> None: ...


class Renderer(Protocol):
    """What the hub's messages and views look like (pure: no call to Slack)."""

    def card(self, initiative: Initiative, settings: Settings) -> Rendered: ...

    def routed_post(
        self, initiative: Initiative, involved: InitiativeFunction, settings: Settings, thread_link: str | None
    ) -> Rendered: ...

    def confirmation(
        self,
        initiative: Initiative,
        settings: Settings,
        thread_link: str | None,
        route_links: dict[str, str],
        *,
        sponsor_problem: str | None = None,
    ) -> Rendered: ...

    def route_failures(
        self, initiative: Initiative, failed: list[InitiativeFunction], settings: Settings, thread_link: str | None
    ) -> Rendered: ...

    def status_changed(self, user: str | None, status: str) -> str: ...

    def commitment(self, commitment: Commitment, settings: Settings) -> Rendered: ...

    def announcement(self, change: CommitmentChange) -> str: ...

    def commit_form(
        self,
        settings: Settings,
        initiative_id: int,
        title: str,
        functions: list[str],
        from_default: str | None,
        *,
        mine: Sequence[str] = (),
        on_behalf: bool = False,
    ) -> dict[str, Any]: ...

    def change_form(self, action: str, commitment_id: int, what: str, seen_due: str) -> dict[str, Any]: ...

    def answer_form(self, action: str, commitment_id: int, what: str, seen_due: str) -> dict[str, Any]:
        """Propose another date for a request, or decline it (`action` as in bot.core.requests)."""
        ...

    def mirror(self, author: str, channel_id: str, text: str, *, permalink: str | None = None, files: int = 0) -> Rendered: ...

    def mirror_needs_permalink(self, author: str, channel_id: str, text: str, files: int = 0) -> bool: ...

    def reply_elsewhere(self, function_name: str, barrier: str) -> str: ...

    def pair_nudge(self, views: Sequence[PairView], settings: Settings) -> Rendered: ...

    def executive_nudge(self, views: Sequence[PairView], settings: Settings, zone: ZoneInfo, links: dict[int, str | None]) -> Rendered: ...

    def digest(self, digest: Digest, settings: Settings) -> Rendered: ...

    def home(self, data: HomeData, settings: Settings, roadmaps: Sequence[Shown] = ()) -> dict[str, Any]: ...

    def introduction(self, introduction: Introduction, settings: Settings, now: datetime) -> Rendered: ...
