"""Every outbound Web API call goes through here: retries, error classes, install health.

slack_sdk's retry handlers wait out 429s (Retry-After), server errors and dropped
connections; what still fails is sorted into three kinds of error:
- per target (a channel or user that is missing, archived, or without the bot): a person
  must fix it, the other targets go on;
- per install (the token no longer works): nothing more is sent, /healthz reports it;
- anything else (transient failures that outlived the retries, or a bug of ours).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.app.port import ErrorKind, InstallBroken, Result

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
INSTALL_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "team_disabled", "no_permission", "missing_scope"}
)
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


def classify(error: str) -> ErrorKind:
    if error in TARGET_ERRORS:
        return ErrorKind.TARGET
    if error in INSTALL_ERRORS:
        return ErrorKind.INSTALL
    if error in TRANSIENT_ERRORS or error.startswith("http_5"):
        return ErrorKind.TRANSIENT
    return ErrorKind.OTHER


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

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self.install_error: str | None = None

    def call(self, method: str, **params: Any) -> Result:
        """Call a Web API method; never raises for Slack errors, except a broken install."""
        if self.install_error:
            raise InstallBroken(self.install_error)
        params = {key: value for key, value in params.items() if value is not None}
        try:
            # The named methods know which endpoints take JSON and which take form fields.
            response = getattr(self.client, method.replace(".", "_"))(**params)
            return Result(True, dict(response.data) if isinstance(response.data, dict) else {})
        except SlackApiError as failure:
            status = failure.response.status_code
            error = (failure.response.data or {}).get("error") if isinstance(failure.response.data, dict) else None
            error = error or f"http_{status}"
        except (SlackClientError, OSError) as failure:
            error = f"connection_error: {failure}"
            log.warning("slack %s failed: %s", method, error)
            return Result(False, {}, error, ErrorKind.TRANSIENT)
        kind = classify(error)
        if kind is ErrorKind.INSTALL:
            with self._lock:
                self.install_error = error
            log.error("slack %s failed with %s: the bot token no longer works; nothing more will be sent", method, error)
            raise InstallBroken(error)
        log.warning("slack %s failed: %s (%s)", method, error, kind.value)
        return Result(False, {}, error, kind)

    # The calls the hub makes, named as Slack names them.

    def post_message(
        self, channel: str, text: str, blocks: list[dict] | None = None, *, thread_ts: str | None = None, key: str | None = None
    ) -> Result:
        """Post; `key` is carried in the message's metadata so the message can be found again
        (`find_posted`) when a sender died before recording that Slack accepted it."""
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"key": key}} if key else None
        return self.call(
            "chat.postMessage",
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            metadata=metadata,
            unfurl_links=False,
            unfurl_media=False,
        )

    def find_posted(self, channel: str, key: str, *, thread_ts: str | None = None, oldest: float | None = None) -> str | None:
        """The ts of the hub's message carrying `key` in its metadata, if Slack has it."""
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
            if metadata.get("event_type") == METADATA_TYPE and (metadata.get("event_payload") or {}).get("key") == key:
                return str(message.get("ts"))
        return None

    def update_message(self, channel: str, ts: str, text: str, blocks: list[dict] | None = None) -> Result:
        return self.call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)

    def permalink(self, channel: str, ts: str) -> str | None:
        result = self.call("chat.getPermalink", channel=channel, message_ts=ts)
        return result.get("permalink") if result.ok else None

    def join(self, channel: str) -> Result:
        return self.call("conversations.join", channel=channel)

    def channel_info(self, channel: str) -> Result:
        return self.call("conversations.info", channel=channel)

    def user_info(self, user: str) -> Result:
        return self.call("users.info", user=user)

    def open_view(self, trigger_id: str, view: dict) -> Result:
        return self.call("views.open", trigger_id=trigger_id, view=view)

    def publish_home(self, user: str, view: dict) -> Result:
        return self.call("views.publish", user_id=user, view=view)
