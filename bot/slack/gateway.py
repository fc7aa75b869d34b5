"""Every outbound Web API call goes through here: retries, error classes, install health,
pacing per channel.

slack_sdk's retry handlers wait out 429s (Retry-After), server errors and dropped
connections, except in a sending pass (`turns`, bot/slack/pacing.py), which keeps to about a
message a second per channel itself and answers a 429 instead of waiting it out, so that one
channel told to wait holds up no other. What still fails is sorted into kinds of error:
- per target (a channel or user that is missing, archived, or without the bot): a person
  must fix it, the other targets go on;
- per install (the token no longer works): nothing more is sent, /healthz reports it, and
  `auth.test` is asked again at most every RECHECK_SECONDS: once it answers, sending resumes;
- a scope the app lacks (`missing_scope`, `no_permission`): that call fails, logged once with
  the scope Slack says it needs; every other method goes on;
- anything else (transient failures that outlived the retries, or a bug of ours).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.app.port import Blocks, ErrorKind, InstallBroken, Result
from bot.logs import slack_method
from bot.metrics import Metrics
from bot.slack.listener_threads import lending_the_turn
from bot.slack.pacing import Pacer, Turns, retry_after_of

log = logging.getLogger(__name__)

METADATA_TYPE = "cdo_hub_message"  # message metadata naming the outbox key a message was sent for

TARGET_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_not_in_channel",
        "users_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "message_not_found",
        "thread_not_found",
        "method_not_supported_for_channel_type",
        "restricted_action",
    }
)
INSTALL_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "team_disabled"})
SCOPE_ERRORS = frozenset({"missing_scope", "no_permission"})
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


def classify(error: str) -> ErrorKind:
    if error in TARGET_ERRORS:
        return ErrorKind.TARGET
    if error in INSTALL_ERRORS:
        return ErrorKind.INSTALL
    if error in TRANSIENT_ERRORS or error.startswith("http_5"):
        return ErrorKind.TRANSIENT
    return ErrorKind.OTHER  # scope errors too: that call fails, like any other it cannot retry


RECHECK_SECONDS = 30.0  # while the token fails, how often auth.test is asked whether it works again


def make_client(token: str | None, base_url: str | None = None, *, max_retries: int = 5) -> WebClient:
    client = WebClient(token=token, base_url=base_url or WebClient.BASE_URL, timeout=15)
    client.retry_handlers.extend(
        [
            RateLimitErrorRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(max_retry_count=2),
        ]
    )
    # WebClient ships with one ConnectionErrorRetryHandler; give it a few more tries.
    client.retry_handlers[:] = [h for h in client.retry_handlers if not isinstance(h, ConnectionErrorRetryHandler)]
    client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=3))
    return client


class Gateway:
    """The Slack port's Web API side (`bot.app.port.SlackPort`)."""

    def __init__(
        self,
        client: WebClient,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        recheck_seconds: float = RECHECK_SECONDS,
        pacer: Pacer | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.metrics = metrics  # counts every call by method and error
        # The same client without the 429 handler, for sending passes: they pace themselves.
        self._paced_client = copy.copy(client)
        self._paced_client.retry_handlers = [h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)]
        self.pacer = pacer or Pacer()
        self._monotonic = monotonic
        self._recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self.install_error: str | None = None
        self._checked_at = 0.0  # when the token was last found failing, or asked about
        self._scopes_logged: set[tuple[str, str, str]] = set()
        self._url: str | None = None  # the workspace's address, for permalinks; "" when unknown

    def check_install(self) -> str | None:
        """The install error, if the token still fails; asks auth.test again when the last
        word on it is older than the recheck interval. One caller asks; callers meanwhile get
        the last word at once instead of waiting for Slack."""
        with self._lock:
            error = self.install_error
            if error is None or self._monotonic() - self._checked_at < self._recheck_seconds:
                return error
            self._checked_at = self._monotonic()
        try:
            self.client.auth_test()  # raises unless ok
            still = None
        except SlackApiError as failure:
            still = error_of(failure)
        except (SlackClientError, OSError) as failure:
            still = f"connection_error: {failure}"
        self._count("auth.test", still.partition(":")[0] if still else None)
        with self._lock:
            if still is None:
                if self.install_error is not None:
                    log.warning("auth.test answers again: the bot token works, sending resumes")
                self.install_error = None
            elif classify(still) is not ErrorKind.INSTALL:
                log.warning("could not ask Slack whether the bot token works again (%s); asking again later", still)
            elif still != self.install_error:
                log.error("the bot token still does not work: auth.test answers %s", still)
                self.install_error = still
            return self.install_error

    def call(self, method: str, **params: Any) -> Result:
        """Call a Web API method; never raises for Slack errors, except a broken install."""
        return self._call(self.client, method, params)

    def _call(self, client: WebClient, method: str, params: dict[str, Any]) -> Result:
        broken = self.check_install()
        if broken:
            raise InstallBroken(broken)
        params = {key: value for key, value in params.items() if value is not None}
        with slack_method(method):
            try:
                # The named methods know which endpoints take JSON and which take form fields.
                with lending_the_turn():
                    response = getattr(client, method.replace(".", "_"))(**params)
                self._count(method, None)
                return Result(True, dict(response.data) if isinstance(response.data, dict) else {})
            except SlackApiError as failure:
                self._count(method, error_of(failure))
                return self._failed(method, failure)
            except (SlackClientError, OSError) as failure:
                self._count(method, "connection_error")
                error = f"connection_error: {failure}"
                log.warning("slack %s failed: %s", method, error)
                return Result(False, {}, error, ErrorKind.TRANSIENT)

    def _count(self, method: str, error: str | None) -> None:
        if self.metrics is not None:
            self.metrics.slack_call(method, error)

    def _failed(self, method: str, failure: SlackApiError) -> Result:
        error = error_of(failure)
        kind = classify(error)
        if kind is ErrorKind.INSTALL:
            with self._lock:
                self.install_error, self._checked_at = error, self._monotonic()
            log.error(
                "slack %s failed with %s: the bot token no longer works; nothing more is sent until auth.test answers again",
                method,
                error,
            )
            raise InstallBroken(error)
        if error in SCOPE_ERRORS:
            self._log_scope(method, error, failure.response.data if isinstance(failure.response.data, dict) else {})
        else:
            log.warning("slack %s failed: %s (%s)", method, error, kind.value)
        retry_after = retry_after_of(failure.response.headers) if failure.response.status_code == 429 else None
        return Result(False, {}, error, kind, retry_after=retry_after)

    def _log_scope(self, method: str, error: str, data: dict[str, Any]) -> None:
        needed, provided = str(data.get("needed") or "unknown"), str(data.get("provided") or "unknown")
        with self._lock:
            first = (method, error, needed) not in self._scopes_logged
            self._scopes_logged.add((method, error, needed))
        if first:
            log.error(
                "slack %s failed with %s: the app lacks the scope %s (it has %s). This method fails until the scope "
                "is added and the app reinstalled; every other call goes on (logged once per method and scope)",
                method,
                error,
                needed,
                provided,
            )
        else:
            log.debug("slack %s failed again with %s (needs %s)", method, error, needed)

    # The calls the hub makes, named as Slack names them.

    def post_message(
        self, channel: str, text: str, blocks: list[dict] | None = None, *, thread_ts: str | None = None, key: str | None = None
    ) -> Result:
        """Post; `key` is carried in the message's metadata so the message can be found again
        (`find_posted`) when a sender died before recording that Slack accepted it."""
        result = self._call(self.client, "chat.postMessage", _post_params(channel, text, blocks, thread_ts, [key] if key else []))
        self.pacer.note(str(result.get("channel") or channel))  # what sending passes must leave room for
        return result

    def turns(self, seconds: float) -> Turns:
        """A sending pass of at most `seconds`, paced per channel (bot/slack/pacing.py)."""
        return Turns(self.pacer, self._post_once, seconds)

    def _post_once(
        self, channel: str, text: str, blocks: Blocks | None = None, *, thread_ts: str | None = None, keys: Sequence[str] = ()
    ) -> Result:
        """chat.postMessage in a turn already taken: a 429 is answered, not waited out."""
        return self._call(self._paced_client, "chat.postMessage", _post_params(channel, text, blocks, thread_ts, keys))

    def find_posted(self, channel: str, key: str, *, thread_ts: str | None = None, oldest: float | None = None) -> str | None:
        """The ts of the hub's message carrying `key` in its metadata (alone, or among the
        keys of a message sent for several), if Slack has it."""
        if thread_ts:
            result = self.call("conversations.replies", channel=channel, ts=thread_ts, include_all_metadata=True, limit=200)
        else:
            result = self.call(
                "conversations.history", channel=channel, oldest=f"{oldest:.6f}" if oldest else None, include_all_metadata=True, limit=200
            )
        if not result.ok:
            return None
        for message in result.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_TYPE and (payload.get("key") == key or key in (payload.get("keys") or ())):
                return str(message.get("ts"))
        return None

    def upload_file(self, channel: str, data: bytes, *, filename: str, title: str, alt_text: str) -> Result:
        """Share a file in a channel, or in a person's DM (a user ID), with slack_sdk's
        files_upload_v2: upload URL, the bytes, completion. Its `channel` is where it went."""
        if channel[:1] in ("U", "W"):
            opened = self.call("conversations.open", users=channel)
            if not opened.ok:
                return opened
            channel = str((opened.get("channel") or {}).get("id") or channel)
        params = {"channel": channel, "content": data, "filename": filename, "title": title, "alt_txt": alt_text}
        result = self._call(self.client, "files.upload_v2", params)
        return Result(True, {**result.data, "channel": channel}) if result.ok else result

    def find_upload(self, channel: str, filename: str, *, oldest: float | None = None) -> str | None:
        """The ID of a file named `filename` shared in the channel (or a person's DM) since
        `oldest`, if Slack has it: an upload whose sender died before recording it."""
        if channel[:1] in ("U", "W"):
            opened = self.call("conversations.open", users=channel)
            if not opened.ok:
                return None
            channel = str((opened.get("channel") or {}).get("id") or channel)
        found = self.call("files.list", channel=channel, ts_from=int(oldest) if oldest else None, count=100)
        if not found.ok:
            return None
        return next((str(f.get("id")) for f in found.get("files") or [] if f.get("name") == filename), None)

    def update_message(self, channel: str, ts: str, text: str, blocks: list[dict] | None = None) -> Result:
        return self.call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)

    def permalink(self, channel: str, ts: str, *, thread_ts: str | None = None) -> str | None:
        """A message's link, written from the workspace's address as Slack writes it
        (`…/archives/C…/p<ts without its dot>`, and the thread of a reply): one `auth.test` per
        process instead of a `chat.getPermalink` per message. Asked of Slack when the address
        is not known."""
        base = self._workspace_url()
        if base and channel[:1] in ("C", "G", "D") and ts.replace(".", "").isdigit():
            link = f"{base}archives/{channel}/p{ts.replace('.', '')}"
            return f"{link}?thread_ts={thread_ts}&cid={channel}" if thread_ts and thread_ts != ts else link
        result = self.call("chat.getPermalink", channel=channel, message_ts=ts)
        return result.get("permalink") if result.ok else None

    def _workspace_url(self) -> str | None:
        if self._url is None:
            found = self.call("auth.test")
            url = str(found.get("url") or "") if found.ok else ""
            self._url = url if url.startswith("https://") and url.endswith("/") else ""
        return self._url or None

    def join(self, channel: str) -> Result:
        return self.call("conversations.join", channel=channel)

    def channel_info(self, channel: str) -> Result:
        return self.call("conversations.info", channel=channel)

    def user_info(self, user: str) -> Result:
        return self.call("users.info", user=user)

    def publish_home(self, user: str, view: dict) -> Result:
        return self.call("views.publish", user_id=user, view=view)


def _post_params(channel: str, text: str, blocks: Blocks | None, thread_ts: str | None, keys: Sequence[str]) -> dict[str, Any]:
    """chat.postMessage's arguments. The keys of what the message was sent for go into its
    metadata: the first as `key`, and all of them as `keys` when there are several."""
    payload: dict[str, Any] = {"key": keys[0]} if keys else {}
    if len(keys) > 1:
        payload["keys"] = list(keys)
    return {
        "channel": channel,
        "text": text,
        "blocks": blocks,
        "thread_ts": thread_ts,
        "metadata": {"event_type": METADATA_TYPE, "event_payload": payload} if keys else None,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def error_of(failure: SlackApiError) -> str:
    data = failure.response.data
    error = data.get("error") if isinstance(data, dict) else None
    return str(error or f"http_{failure.response.status_code}")
