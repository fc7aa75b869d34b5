"""The Emulator itself: its HTTP server and everything around the method handlers.

Lifecycle, auth, injected faults (fail / rate_limit / server_error /
revoke_token / restore_token), the per-channel post rate limit, response URLs,
seeding helpers and the inspection accessors tests assert on. The Web API
methods themselves live in methods/, one module per family.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from bot.sandbox.emulator.base import Methods
from bot.sandbox.emulator.holds import Hold, HoldingCalls, peek_args
from bot.sandbox.emulator.methods.auth import AuthMethods
from bot.sandbox.emulator.methods.chat import ChatMethods
from bot.sandbox.emulator.methods.conversations import ConversationMethods
from bot.sandbox.emulator.methods.files import FileMethods, StoredFile
from bot.sandbox.emulator.methods.users import UserMethods
from bot.sandbox.emulator.methods.views import ViewMethods
from bot.sandbox.emulator.records import ApiError, Args, Call, Ephemeral, Outcome, ResponsePost, ViewRecord, flag, invalid_arguments
from bot.sandbox.emulator.validation import MESSAGE_BLOCK_LIMIT, block_problems, parse_args
from bot.sandbox.workspace import Message, Workspace

# Logs under the package's name, bot.sandbox.emulator.
log = logging.getLogger(__package__)

RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60
# Arguments whose absence Slack reports as invalid_arguments (a missing channel or
# text has its own error code instead: channel_not_found, no_text).
REQUIRED_ARGS = {
    "chat.update": ("ts",),
    "chat.delete": ("ts",),
    "chat.postEphemeral": ("user",),
    "chat.getPermalink": ("message_ts",),
    "conversations.replies": ("ts",),
    "users.info": ("user",),
    "views.open": ("trigger_id", "view"),
    "views.push": ("trigger_id", "view"),
    "views.update": ("view",),
    "views.publish": ("user_id", "view"),
}


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


class Emulator(HoldingCalls, AuthMethods, ChatMethods, ConversationMethods, FileMethods, UserMethods, ViewMethods):
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
        post_burst: int = 1,
    ):
        """`post_rate_per_channel`: chat.postMessage calls a second one channel takes, as Slack
        does (about 1), after `post_burst` at once; more is answered 429 with Retry-After.
        None (the default) takes any number."""
        super().__init__(workspace)
        self.bot_token = bot_token
        self.post_rate_per_channel = post_rate_per_channel
        self.post_burst = post_burst
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._revoked = False
        self._calls: list[Call] = []
        self._faults: list[_Fault] = []
        self._holds: list[Hold] = []
        self._every_hold: list[Hold] = []
        self._post_tokens: dict[str, tuple[float, float]] = {}  # per channel: tokens left, and when
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._responses: list[ResponsePost] = []
        # One table per method family; each family lists its own methods.
        self._methods: Methods = {
            **self._auth_methods(),
            **self._chat_methods(),
            **self._conversation_methods(),
            **self._file_methods(),
            **self._user_methods(),
            **self._view_methods(),
        }

    # ---- lifecycle -------------------------------------------------------

    def start(self) -> Emulator:
        if self._server is None:
            server = self._server = _Server(self)
            # A short poll interval keeps stop() fast; tests start one emulator each.
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="slack-emulator", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        for hold in self._every_hold:  # no request thread outlives the emulator
            hold.release.set()
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

    def uploads(self, channel: str | None = None) -> list[StoredFile]:
        """Files shared by a completed upload (in `channel`, by ID or name, when given)."""
        with self._lock:
            target = self.workspace.channel(channel) if channel else None
            return self._uploaded(target.id if target else channel)

    def _upload_base(self) -> str:
        return self.url

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
        if parts.path.startswith("/upload/"):
            with self._lock:
                return self._receive_upload(parts.path[len("/upload/") :], body)
        return 404, {}, {"ok": False, "error": "not_found"}

    def _api_call(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        handler = self._methods.get(method)
        early = self._take_hold(method, peek_args(query, headers, body), before=True)
        if early is not None:  # the caller waits and, if it gives up (or dies), nothing was done
            early.reached.set()
            early.release.wait(timeout=120)
            return (503, {}, {"ok": False, "error": "service_unavailable"})
        with self._lock:
            at = self.clock()
            args: Args = {}
            try:
                if handler is None:
                    raise ApiError("unknown_method", status=404)
                args = parse_args(query, headers.get("Content-Type", ""), body)
                self._before_call(method, headers, args)
                outcome: Outcome = (200, {}, {"ok": True, **handler(args)})
            except ApiError as e:
                outcome = e.outcome
            except Exception:  # an emulator bug must surface as a failed call, not a hang
                log.exception("emulator crashed on %s", method)
                outcome = (500, {}, {"ok": False, "error": "emulator_internal_error"})
            args.pop("token", None)
            self._calls.append(Call(method, copy.deepcopy(args), outcome[0], copy.deepcopy(outcome[2]), at))
            hold = self._take_hold(method, args, before=False)
        if hold is not None:  # done in Slack, but the answer is late (outside the lock: others go on)
            hold.reached.set()
            hold.release.wait(timeout=120)
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
            raise invalid_arguments(*(f"missing required field: {name}" for name in missing))
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
        """A token bucket per channel: `post_burst` posts at once, refilled at the rate."""
        rate = self.post_rate_per_channel or 0.0
        target = self.workspace.channel(channel_arg)
        key = target.id if target else channel_arg
        now = self.clock()
        tokens, at = self._post_tokens.get(key, (float(self.post_burst), now))
        tokens = min(float(self.post_burst), tokens + (now - at) * rate)
        if tokens < 1.0:
            self._post_tokens[key] = (tokens, now)
            retry_after = max(1, math.ceil((1.0 - tokens) / rate))
            raise ApiError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        self._post_tokens[key] = (tokens - 1.0, now)

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
        if not (payload.get("text") or payload.get("blocks") or flag(payload.get("delete_original"))):
            return 400, {}, {"ok": False, "error": "no_text"}
        entry.uses += 1
        return 200, {}, {"ok": True}


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
