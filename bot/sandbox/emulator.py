"""A local HTTP emulator of the Slack Web API.

It answers like Slack does (ok/error bodies, 404 for unknown methods, 429 with
Retry-After, 5xx) so code under test meets real failure modes, and it records
every call so tests can assert on what the bot did. Point slack_sdk at it with
``WebClient(token="xoxb-sandbox", base_url=emu.base_url)``.

The bot token acts as the bot user ``UBOT`` / bot ``BBOT`` of the workspace.
Conversation methods take channel IDs; chat.postMessage and chat.postEphemeral
also take "#name"/"name" and a user ID (meaning the bot's DM with that user).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.sandbox.workspace import Channel, Message, Workspace

log = logging.getLogger(__name__)

JSON_FIELDS = ("blocks", "view", "attachments", "metadata")
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
TEXT_LIMIT = 40_000
TRIGGER_TTL = 3.0
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60
APP_ID = "A0CDOHUB"
# Arguments whose absence Slack reports as invalid_arguments (a missing channel or
# text has its own error code instead: channel_not_found, no_text).
REQUIRED_ARGS = {
    "chat.update": ("ts",),
    "chat.postEphemeral": ("user",),
    "chat.getPermalink": ("message_ts",),
    "conversations.replies": ("ts",),
    "users.info": ("user",),
    "views.open": ("trigger_id", "view"),
    "views.push": ("trigger_id", "view"),
    "views.update": ("view",),
    "views.publish": ("user_id", "view"),
}

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


@dataclass
class _Fault:
    method: str
    times: int
    when: Callable[[Args], bool] | None
    outcome: Outcome


@dataclass
class _ResponseUrl:
    issued_at: float
    uses: int = 0


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


def _invalid_arguments(*messages: str) -> ApiError:
    return ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]})


def _flag(value: Any) -> bool:
    """Slack's lenient booleans: true, "true", "1", 1."""
    return value is True or str(value).lower() in ("true", "1")


def block_problems(blocks: Any, limit: int) -> list[str]:
    """Why Slack would reject these blocks; empty when they are fine."""
    if not isinstance(blocks, list):
        return ["blocks must be a JSON array"]
    if len(blocks) > limit:
        return [f"no more than {limit} items allowed [json-pointer:/blocks]"]
    problems: list[str] = []
    for i, raw in enumerate(blocks):
        problems += [f"{p} [json-pointer:/blocks/{i}]" for p in _one_block_problems(raw)]
    return problems


def _one_block_problems(raw: Any) -> list[str]:
    if not isinstance(raw, dict) or "type" not in raw:
        return ["block must be an object with a type"]
    try:
        block = Block.parse(raw)
        if block is None:
            return [f"unsupported block type: {raw['type']}"]
        block.validate_json()
        block.to_dict()  # to_dict also validates nested elements and text objects
    except SlackObjectFormationError as e:
        return [str(e)]
    except (TypeError, ValueError, AttributeError, KeyError) as e:
        # Malformed input can break slack_sdk's constructors; Slack would reject it.
        return [f"malformed block: {e}"]
    return []


def _view_problems(view: Any, kind: str) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be a JSON object [json-pointer:/view]"]
    if view.get("type") != kind:
        return [f"view type must be {kind} [json-pointer:/view/type]"]
    problems = block_problems(view.get("blocks", []), VIEW_BLOCK_LIMIT)
    if kind == "modal" and not view.get("title"):
        problems.append("missing required field: title [json-pointer:/view/title]")
    if problems:
        return problems
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError) as e:
        return [f"{e} [json-pointer:/view]"]
    return []


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
    except ValueError:
        pass
    raise ApiError("invalid_cursor")


class Emulator:
    """Slack Web API emulator bound to 127.0.0.1 on a free port.

    Use as a context manager or call start()/stop(). All public accessors
    return copies and are safe to call while the bot is talking to it.
    ``clock`` (default time.time) drives trigger expiry, response_url expiry,
    rate limits and ts values; tests may replace it.
    """

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        bot_token: str = "xoxb-sandbox",
        post_rate_per_channel: float | None = None,
    ):
        self.workspace = workspace or Workspace.default()
        self.bot_token = bot_token
        self.post_rate_per_channel = post_rate_per_channel
        self.clock: Callable[[], float] = time.time
        self._lock = threading.RLock()  # reentrant: `when` predicates may call accessors
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._revoked = False
        self._last_ts = 0
        self._view_seq = 0
        self._calls: list[Call] = []
        self._faults: list[_Fault] = []
        self._post_times: dict[str, deque[float]] = {}
        self._triggers: dict[str, tuple[float, bool]] = {}  # id -> (issued_at, used)
        self._ephemerals: list[Ephemeral] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._view_log: list[ViewRecord] = []
        self._homes: dict[str, dict[str, Any]] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._responses: list[ResponsePost] = []
        self._methods: dict[str, Callable[[Args], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.list": self._conversations_list,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }

    # ---- lifecycle -------------------------------------------------------

    def start(self) -> Emulator:
        if self._server is None:
            server = self._server = _Server(self)
            # A short poll interval keeps stop() fast; tests start one emulator each.
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-emulator", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """What to pass as WebClient(base_url=...)."""
        return self.url + "/api/"

    # ---- test controls ---------------------------------------------------

    def fail(self, method: str, error: str, *, times: int = 1, when: Callable[[Args], bool] | None = None) -> None:
        """Answer the next `times` matching calls of `method` with ok=false and `error`."""
        self._add_fault(method, times, when, (200, {}, {"ok": False, "error": error}))

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1, when: Callable[[Args], bool] | None = None) -> None:
        """Answer the next `times` matching calls with HTTP 429 and Retry-After."""
        outcome = (429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"})
        self._add_fault(method, times, when, outcome)

    def server_error(self, method: str, *, times: int = 1, status: int = 500, when: Callable[[Args], bool] | None = None) -> None:
        """Answer the next `times` matching calls with an HTTP 5xx."""
        if not 500 <= status <= 599:
            raise ValueError("status must be 5xx")
        self._add_fault(method, times, when, (status, {}, {"ok": False, "error": "internal_error"}))

    def revoke_token(self) -> None:
        """Every later call answers token_revoked, as after an app uninstall."""
        with self._lock:
            self._revoked = True

    def restore_token(self) -> None:
        with self._lock:
            self._revoked = False

    def new_trigger_id(self) -> str:
        """A trigger_id usable once by views.open/views.push within 3 s (emulator clock)."""
        trigger_id = f"trg.{secrets.token_hex(8)}"
        with self._lock:
            self._triggers[trigger_id] = (self.clock(), False)
        return trigger_id

    def new_response_url(self) -> str:
        """A response_url accepting 5 POSTs within 30 minutes, like Slack's."""
        token = secrets.token_urlsafe(12)
        url = f"{self.url}/response/{token}"  # raises before registering if not started
        with self._lock:
            self._response_urls[token] = _ResponseUrl(self.clock())
        return url

    def add_user_message(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> Message:
        """Seed a message written by a human (for threads, chat.update refusals...)."""
        with self._lock:
            target = self.workspace.channel(channel)
            if target is None:
                raise KeyError(channel)
            msg = Message(target.id, self._next_ts(), user, text, thread_ts=thread_ts)
            self.workspace.messages[target.id].append(msg)
            return copy.deepcopy(msg)

    def reset_records(self) -> None:
        """Forget calls and response_url posts; workspace state is kept."""
        with self._lock:
            self._calls.clear()
            self._responses.clear()

    # ---- inspection ------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return copy.deepcopy(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def errors(self) -> list[Call]:
        """Calls that were not answered ok (HTTP error or ok=false)."""
        return [c for c in self.calls if not c.ok]

    def messages(self, channel: str) -> list[Message]:
        """Top-level messages and replies in post order; channel by ID or name."""
        with self._lock:
            target = self.workspace.channel(channel)
            return copy.deepcopy(self.workspace.messages.get(target.id, [])) if target else []

    def thread(self, channel: str, ts: str) -> list[Message]:
        """Replies to the message `ts` (parent excluded)."""
        return [m for m in self.messages(channel) if m.thread_ts == ts and m.ts != ts]

    def message(self, channel: str, ts: str) -> Message | None:
        return next((m for m in self.messages(channel) if m.ts == ts), None)

    def dms(self, user_id: str) -> list[Message]:
        """Messages in the bot's DM with user_id (empty if none was opened)."""
        with self._lock:
            dm = next((c for c in self.workspace.channels.values() if c.is_im and c.user == user_id), None)
        return self.messages(dm.id) if dm else []

    def ephemerals(self, user_id: str | None = None) -> list[Ephemeral]:
        with self._lock:
            return copy.deepcopy([e for e in self._ephemerals if user_id is None or e.user == user_id])

    @property
    def views(self) -> list[ViewRecord]:
        """Modals opened, pushed or updated, in order."""
        with self._lock:
            return copy.deepcopy(self._view_log)

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The latest Home tab view published for user_id."""
        with self._lock:
            return copy.deepcopy(self._homes.get(user_id))

    @property
    def responses(self) -> list[ResponsePost]:
        with self._lock:
            return copy.deepcopy(self._responses)

    # ---- HTTP entry points -------------------------------------------------

    def _handle_http(self, path: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        parts = urlsplit(path)
        if parts.path.startswith("/api/"):
            return self._api_call(parts.path[len("/api/") :], parts.query, headers, body)
        if parts.path.startswith("/response/"):
            return self._response_post(parts.path[len("/response/") :], body)
        return 404, {}, {"ok": False, "error": "not_found"}

    def _api_call(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        handler = self._methods.get(method)
        with self._lock:
            at = self.clock()
            args: Args = {}
            try:
                if handler is None:
                    raise ApiError("unknown_method", status=404)
                args = _parse_args(query, headers.get("Content-Type", ""), body)
                self._before_call(method, headers, args)
                outcome: Outcome = (200, {}, {"ok": True, **handler(args)})
            except ApiError as e:
                outcome = e.outcome
            except Exception:  # an emulator bug must surface as a failed call, not a hang
                log.exception("emulator crashed on %s", method)
                outcome = (500, {}, {"ok": False, "error": "emulator_internal_error"})
            args.pop("token", None)
            self._calls.append(Call(method, copy.deepcopy(args), outcome[0], copy.deepcopy(outcome[2]), at))
            return outcome

    def _before_call(self, method: str, headers: Mapping[str, str], args: Args) -> None:
        """Injected faults first (they model Slack's side), then auth, then rate limits."""
        fault = self._take_fault(method, args)
        if fault is not None:
            raise ApiError.of(fault)
        auth = headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else args.get("token")
        if not token:
            raise ApiError("not_authed")
        if token != self.bot_token:
            raise ApiError("invalid_auth")
        if self._revoked:
            raise ApiError("token_revoked")
        missing = [name for name in REQUIRED_ARGS.get(method, ()) if args.get(name) in (None, "")]
        if missing:
            raise _invalid_arguments(*(f"missing required field: {name}" for name in missing))
        if method == "chat.postMessage" and self.post_rate_per_channel:
            self._check_post_rate(str(args.get("channel", "")))

    def _add_fault(self, method: str, times: int, when: Callable[[Args], bool] | None, outcome: Outcome) -> None:
        with self._lock:
            self._faults.append(_Fault(method, times, when, outcome))

    def _take_fault(self, method: str, args: Args) -> Outcome | None:
        for fault in self._faults:
            if fault.method == method and (fault.when is None or fault.when(copy.deepcopy(args))):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault.outcome
        return None

    def _check_post_rate(self, channel_arg: str) -> None:
        rate = self.post_rate_per_channel or 0.0
        window = max(1.0, 1.0 / rate)  # sub-1/s rates need a longer window to allow one post
        capacity = max(1, math.floor(rate * window))
        target = self.workspace.channel(channel_arg)
        stamps = self._post_times.setdefault(target.id if target else channel_arg, deque())
        now = self.clock()
        while stamps and stamps[0] <= now - window:
            stamps.popleft()
        if len(stamps) >= capacity:
            retry_after = max(1, math.ceil(stamps[0] + window - now))
            raise ApiError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        stamps.append(now)

    def _response_post(self, token: str, body: bytes) -> Outcome:
        with self._lock:
            at = self.clock()
            try:
                payload: Any = json.loads(body or b"null")
            except ValueError:
                payload = body.decode("utf-8", "replace")
            outcome = self._check_response_post(token, payload, at)
            self._responses.append(ResponsePost(f"{self.url}/response/{token}", payload, outcome[0], at))
            return outcome

    def _check_response_post(self, token: str, payload: Any, at: float) -> Outcome:
        entry = self._response_urls.get(token)
        if entry is None or at - entry.issued_at > RESPONSE_URL_TTL:
            return 404, {}, {"ok": False, "error": "expired_url"}
        if entry.uses >= RESPONSE_URL_USES:
            return 404, {}, {"ok": False, "error": "used_url"}
        if not isinstance(payload, dict):
            return 400, {}, {"ok": False, "error": "invalid_payload"}
        if "blocks" in payload and block_problems(payload["blocks"], MESSAGE_BLOCK_LIMIT):
            return 400, {}, {"ok": False, "error": "invalid_blocks"}
        if not (payload.get("text") or payload.get("blocks") or _flag(payload.get("delete_original"))):
            return 400, {}, {"ok": False, "error": "no_text"}
        entry.uses += 1
        return 200, {}, {"ok": True}

    # ---- shared helpers (called with the lock held) ---------------------------

    def _next_ts(self) -> str:
        """Strictly increasing, unique message ts derived from the clock."""
        micros = max(int(self.clock() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _visible(self, channel: Channel | None) -> Channel:
        """Private channels the bot is not in do not exist for it, as in Slack."""
        bot = self.workspace.bot_user_id
        if channel is None or ((channel.is_private or channel.is_im) and bot not in channel.members):
            raise ApiError("channel_not_found")
        return channel

    def _channel_by_id(self, args: Args, key: str = "channel") -> Channel:
        return self._visible(self.workspace.channels.get(str(args.get(key) or "")))

    def _post_target(self, args: Args) -> Channel:
        """chat.* targets: channel ID, name, or a user ID meaning the bot's DM."""
        value = str(args.get("channel") or "")
        user = self.workspace.user(value) if value.startswith(("U", "W")) else None
        if user is not None:
            if user.deleted:
                raise ApiError("user_disabled")
            if user.is_bot:
                raise ApiError("cannot_dm_bot")
            return self.workspace.dm_channel(user.id)
        return self._visible(self.workspace.channel(value) if value else None)

    def _ensure_postable(self, channel: Channel) -> None:
        if channel.is_archived:
            raise ApiError("is_archived")
        if self.workspace.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")

    def _content(self, args: Args) -> tuple[str, list[dict[str, Any]] | None]:
        text = "" if args.get("text") is None else str(args["text"])
        blocks = args.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise ApiError("invalid_blocks_format")
            problems = block_problems(blocks, MESSAGE_BLOCK_LIMIT)
            if problems:
                messages = [f"[ERROR] {p}" for p in problems]
                raise ApiError("invalid_blocks", errors=problems, response_metadata={"messages": messages})
        if not text and not blocks and not args.get("attachments"):
            raise ApiError("no_text")
        if len(text) > TEXT_LIMIT:
            raise ApiError("msg_too_long")
        return text, blocks

    def _find_message(self, channel: Channel, ts: Any) -> Message | None:
        return next((m for m in self.workspace.messages[channel.id] if m.ts == ts), None)

    def _page(self, items: list[Any], args: Args, key: str) -> dict[str, Any]:
        try:
            limit = min(max(int(args.get("limit") or 100), 1), 1000)
        except ValueError:
            raise ApiError("invalid_limit") from None
        start = _decode_cursor(args["cursor"]) if args.get("cursor") else 0
        end = start + limit
        next_cursor = _encode_cursor(end) if end < len(items) else ""
        return {key: items[start:end], "response_metadata": {"next_cursor": next_cursor}}

    # ---- methods: auth, chat ------------------------------------------------

    def _auth_test(self, args: Args) -> dict[str, Any]:
        ws = self.workspace
        return {
            "url": f"https://{ws.domain}.slack.com/",
            "team": ws.team_name,
            "user": ws.users[ws.bot_user_id].name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: Args) -> dict[str, Any]:
        channel = self._post_target(args)
        self._ensure_postable(channel)
        text, blocks = self._content(args)
        thread_ts = None
        if args.get("thread_ts"):
            parent = self._find_message(channel, str(args["thread_ts"]))
            if parent is None:
                raise ApiError("thread_not_found")
            thread_ts = parent.thread_ts or parent.ts  # replying to a reply lands in its thread
        ws = self.workspace
        msg = Message(
            channel.id,
            self._next_ts(),
            ws.bot_user_id,
            text,
            blocks,
            thread_ts,
            ws.bot_id,
            args.get("metadata"),
            reply_broadcast=bool(thread_ts) and _flag(args.get("reply_broadcast")),
        )
        ws.messages[channel.id].append(msg)
        return {"channel": channel.id, "ts": msg.ts, "message": msg.to_api()}

    def _chat_update(self, args: Args) -> dict[str, Any]:
        channel = self._channel_by_id(args)
        msg = self._find_message(channel, args.get("ts"))
        if msg is None:
            raise ApiError("message_not_found")
        if msg.user != self.workspace.bot_user_id:
            raise ApiError("cant_update_message")
        if channel.is_archived:
            raise ApiError("is_archived")
        text, blocks = self._content(args)
        if "text" in args:  # omitted fields keep their previous value, as in Slack
            msg.text = text
        if "blocks" in args:
            msg.blocks = blocks
        msg.edited = {"user": self.workspace.bot_user_id, "ts": self._next_ts()}
        return {"channel": channel.id, "ts": msg.ts, "text": msg.text, "message": msg.to_api()}

    def _chat_post_ephemeral(self, args: Args) -> dict[str, Any]:
        channel = self._post_target(args)
        user_id = str(args.get("user") or "")
        if self.workspace.user(user_id) is None:
            raise ApiError("user_not_found")
        self._ensure_postable(channel)
        if user_id not in channel.members:
            raise ApiError("user_not_in_channel")
        text, blocks = self._content(args)
        ts = self._next_ts()
        self._ephemerals.append(Ephemeral(channel.id, user_id, text, blocks, args.get("thread_ts"), ts))
        return {"message_ts": ts}

    def _chat_get_permalink(self, args: Args) -> dict[str, Any]:
        channel = self._channel_by_id(args)
        msg = self._find_message(channel, args.get("message_ts"))
        if msg is None:
            raise ApiError("message_not_found")
        link = f"https://{self.workspace.domain}.slack.com/archives/{channel.id}/p{msg.ts.replace('.', '')}"
        if msg.thread_ts and msg.thread_ts != msg.ts:
            link += f"?thread_ts={msg.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    # ---- methods: conversations -------------------------------------------------

    def _conversations_info(self, args: Args) -> dict[str, Any]:
        return {"channel": self._channel_by_id(args).to_api(self.workspace.bot_user_id)}

    def _conversations_join(self, args: Args) -> dict[str, Any]:
        channel = self.workspace.channels.get(str(args.get("channel") or ""))
        if channel is None:
            raise ApiError("channel_not_found")
        if channel.is_private or channel.is_im:
            raise ApiError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise ApiError("is_archived")
        bot = self.workspace.bot_user_id
        extra = {"warning": "already_in_channel"} if bot in channel.members else {}
        channel.members.add(bot)
        return {"channel": channel.to_api(bot), **extra}

    def _conversations_members(self, args: Args) -> dict[str, Any]:
        channel = self._channel_by_id(args)
        return self._page(sorted(channel.members), args, "members")

    def _conversations_open(self, args: Args) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 1:
            raise _invalid_arguments("the emulator supports only 1:1 DMs [json-pointer:/users]")
        user = self.workspace.user(users[0])
        if user is None:
            raise ApiError("user_not_found")
        if user.deleted:
            raise ApiError("user_disabled")
        if user.is_bot:
            raise ApiError("cannot_dm_bot")
        existed = any(c.is_im and c.user == user.id for c in self.workspace.channels.values())
        dm = self.workspace.dm_channel(user.id)
        return {"no_op": existed, "already_open": existed, "channel": {"id": dm.id}}

    def _conversations_list(self, args: Args) -> dict[str, Any]:
        types = set(str(args.get("types") or "public_channel").split(","))
        bot = self.workspace.bot_user_id

        def wanted(c: Channel) -> bool:
            kind = "im" if c.is_im else "private_channel" if c.is_private else "public_channel"
            visible = kind == "public_channel" or bot in c.members
            return kind in types and visible and not (c.is_archived and _flag(args.get("exclude_archived")))

        ordered = sorted(self.workspace.channels.values(), key=lambda c: c.id)
        channels = [c.to_api(bot) for c in ordered if wanted(c)]
        return self._page(channels, args, "channels")

    def _conversations_replies(self, args: Args) -> dict[str, Any]:
        channel = self._channel_by_id(args)
        if self.workspace.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        msg = self._find_message(channel, args.get("ts"))
        if msg is None:
            raise ApiError("thread_not_found")
        root = msg.thread_ts or msg.ts
        thread = [m for m in self.workspace.messages[channel.id] if m.ts == root or m.thread_ts == root]
        return {"messages": [m.to_api() for m in thread], "has_more": False}

    def _conversations_history(self, args: Args) -> dict[str, Any]:
        """Top-level messages, newest first, from `oldest` on (thread replies are not listed)."""
        channel = self._channel_by_id(args)
        if self.workspace.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        try:
            oldest = float(args.get("oldest") or 0)
        except (TypeError, ValueError):
            raise ApiError("invalid_ts_oldest") from None
        top = [m for m in self.workspace.messages[channel.id] if not m.thread_ts and float(m.ts) >= oldest]
        include = _flag(args.get("include_all_metadata"))
        listed = [{k: v for k, v in m.to_api().items() if include or k != "metadata"} for m in reversed(top)]
        page = self._page(listed, args, "messages")
        page["has_more"] = bool(page["response_metadata"]["next_cursor"])
        return page

    # ---- methods: users ----------------------------------------------------

    def _users_info(self, args: Args) -> dict[str, Any]:
        user = self.workspace.user(str(args.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": user.to_api()}

    def _users_list(self, args: Args) -> dict[str, Any]:
        users = [u.to_api() for u in sorted(self.workspace.users.values(), key=lambda u: u.id)]
        return self._page(users, args, "members")

    # ---- methods: views ------------------------------------------------------

    def _views_open(self, args: Args) -> dict[str, Any]:
        return {"view": self._open_modal(args, "views.open")}

    def _views_push(self, args: Args) -> dict[str, Any]:
        return {"view": self._open_modal(args, "views.push")}

    def _open_modal(self, args: Args, method: str) -> dict[str, Any]:
        trigger_id = str(args.get("trigger_id") or "")
        self._check_trigger(trigger_id)
        view = self._valid_view(args.get("view"), "modal")
        self._triggers[trigger_id] = (self._triggers[trigger_id][0], True)
        stored = self._store_view(view, None)
        self._view_log.append(ViewRecord(method, stored["id"], copy.deepcopy(stored)))
        return stored

    def _views_update(self, args: Args) -> dict[str, Any]:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not view_id and not external_id:
            raise _invalid_arguments("view_id or external_id is required")
        key, wanted = ("id", view_id) if view_id else ("external_id", external_id)
        current = next((v for v in self._views.values() if v[key] == wanted), None)
        if current is None:
            raise ApiError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = self._valid_view(args.get("view"), current["type"])
        stored = self._store_view(view, current)
        self._view_log.append(ViewRecord("views.update", stored["id"], copy.deepcopy(stored)))
        return {"view": stored}

    def _views_publish(self, args: Args) -> dict[str, Any]:
        user_id = str(args.get("user_id") or "")
        if self.workspace.user(user_id) is None:
            raise ApiError("user_not_found")
        view = self._valid_view(args.get("view"), "home")
        current = self._homes.get(user_id)
        if current and args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        stored = self._store_view(view, current)
        self._homes[user_id] = stored
        return {"view": stored}

    def _check_trigger(self, trigger_id: str) -> None:
        entry = self._triggers.get(trigger_id)
        if entry is None:
            raise ApiError("invalid_trigger_id")
        issued_at, used = entry
        if used:
            raise ApiError("exchanged_trigger_id")
        if self.clock() - issued_at > TRIGGER_TTL:
            raise ApiError("expired_trigger_id")

    def _valid_view(self, view: Any, kind: str) -> dict[str, Any]:
        problems = _view_problems(view, kind)
        if problems:
            raise _invalid_arguments(*problems)
        return view

    def _store_view(self, view: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        """Give the view Slack's server-side fields; updates keep the view id."""
        if current is None:
            self._view_seq += 1
            view_id = f"V0EMU{self._view_seq:05d}"
        else:
            view_id = current["id"]
        ws = self.workspace
        stored = {
            "callback_id": "",
            "external_id": "",
            "private_metadata": "",
            **copy.deepcopy(view),
            "id": view_id,
            "team_id": ws.team_id,
            "app_id": APP_ID,
            "bot_id": ws.bot_id,
            "state": {"values": {}},
            "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "root_view_id": view_id,
            "previous_view_id": None,
        }
        self._views[view_id] = stored
        return copy.deepcopy(stored)


def _parse_args(query: str, content_type: str, body: bytes) -> Args:
    """Merge query-string and body arguments; decode JSON-valued form fields."""
    args: Args = dict(parse_qsl(query, keep_blank_values=True))
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json" and body:
        try:
            data = json.loads(body)
        except ValueError:
            raise ApiError("invalid_json") from None
        if not isinstance(data, dict):
            raise ApiError("invalid_json")
        args.update(data)
    elif body:
        try:
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise ApiError("invalid_form_data") from None
    for key in JSON_FIELDS:
        if isinstance(args.get(key), str):
            # Left as a string when it is not JSON: the method reports it (e.g. invalid_blocks_format).
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, emulator: Emulator):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.emulator = emulator


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.server.emulator._handle_http(self.path, dict(self.headers.items()), body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST  # Slack accepts GET with query-string arguments too

    def log_message(self, format: str, *args: Any) -> None:
        pass  # calls are recorded on the emulator; stderr noise would drown test output
