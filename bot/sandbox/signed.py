"""Send requests to the bot exactly as Slack would: signed, with Slack's payload shapes.

Each helper returns a Response; ``event()`` also sets ``Response.event_id`` so
tests can replay the same delivery as a retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.workspace import Workspace

APP_ID = "A0CDOHUB"
VERIFICATION_TOKEN = "sandbox-verification-token"  # deprecated by Slack but still sent
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body_text: str
    json: Any  # parsed body, or None when it is not JSON
    event_id: str | None = None


class SignedSender:
    """Posts signed requests to the bot's /slack/events URL.

    ``workspace`` (default: the demo workspace) only supplies user and channel
    names and the team domain, so payloads look like Slack's.
    """

    def __init__(
        self,
        url: str,
        signing_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        workspace: Workspace | None = None,
        timeout: float = 10.0,
    ):
        self.url = url
        self.signing_secret = signing_secret
        self.clock = clock
        self.workspace = workspace or Workspace.default()
        self.timeout = timeout

    # ---- low level -----------------------------------------------------------

    def sign(self, body: bytes, timestamp: int) -> str:
        base = b"v0:" + str(timestamp).encode() + b":" + body
        return "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send `body`; pass timestamp/signature to forge stale or bad requests."""
        ts = int(self.clock()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature if signature is not None else self.sign(body, ts),
            **(headers or {}),
        }
        request = urllib.request.Request(self.url, data=body, headers=all_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                return _response(reply.status, dict(reply.headers.items()), reply.read())
        except urllib.error.HTTPError as error:  # 4xx/5xx are answers too, not failures of the sender
            return _response(error.code, dict(error.headers.items()), error.read())

    def post_form(self, fields: dict[str, str]) -> Response:
        return self.post(urlencode(fields).encode(), FORM)

    def post_json(self, payload: dict[str, Any], **kwargs: Any) -> Response:
        return self.post(json.dumps(payload).encode(), "application/json", **kwargs)

    # ---- slash commands and interactivity -----------------------------------

    def command(
        self,
        command: str = "/cdo",
        text: str = "",
        *,
        user_id: str,
        trigger_id: str,
        response_url: str,
        channel_id: str = "C0HUB",
        channel_name: str | None = None,
        team_id: str = "T0CDOHUB",
        user_name: str | None = None,
    ) -> Response:
        return self.post_form(
            {
                "token": VERIFICATION_TOKEN,
                "team_id": team_id,
                "team_domain": self.workspace.domain,
                "channel_id": channel_id,
                "channel_name": channel_name or self._channel_name(channel_id),
                "user_id": user_id,
                "user_name": user_name or self._user_name(user_id),
                "command": command,
                "text": text,
                "api_app_id": APP_ID,
                "is_enterprise_install": "false",
                "response_url": response_url,
                "trigger_id": trigger_id,
            }
        )

    def interactive(self, payload: dict[str, Any]) -> Response:
        """Any interactivity payload, form-encoded as `payload=<json>`."""
        return self.post_form({"payload": json.dumps(payload)})

    def block_action(
        self,
        *,
        user_id: str,
        action_id: str,
        trigger_id: str,
        value: str | None = None,
        block_id: str = "b",
        response_url: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        selected_option: dict[str, Any] | None = None,
        container: dict[str, Any] | None = None,
        action_type: str | None = None,
    ) -> Response:
        """A block_actions payload; action_type defaults to button or static_select."""
        message_ts = message_ts or (message or {}).get("ts")
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type or ("static_select" if selected_option else "button"),
            "action_ts": self._action_ts(),
        }
        if selected_option is not None:
            action["selected_option"] = selected_option
        if value is not None:
            action["value"] = value
        payload = self._base_payload("block_actions", user_id)
        payload.update(
            trigger_id=trigger_id,
            container=container or _container(view, channel_id, message_ts),
            actions=[action],
        )
        if channel_id:
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
        optional = {"message": message, "view": view, "response_url": response_url}
        payload.update({k: v for k, v in optional.items() if v is not None})
        if message is not None:
            payload["state"] = {"values": {}}
        return self.interactive(payload)

    def view_submission(
        self,
        *,
        user_id: str,
        callback_id: str,
        values: dict[str, Any],
        private_metadata: str = "",
        view_id: str | None = None,
        trigger_id: str | None = None,
    ) -> Response:
        """values: Slack's state.values shape, {block_id: {action_id: {type, value...}}}.
        Each call is a new modal unless `view_id` names one (the same form submitted again)."""
        view_id = view_id or f"V{secrets.token_hex(5).upper()}"
        payload = self._base_payload("view_submission", user_id)
        payload.update(
            trigger_id=trigger_id or f"trg.{secrets.token_hex(8)}",
            view={
                "id": view_id,
                "team_id": self.workspace.team_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
                "app_id": APP_ID,
                "bot_id": self.workspace.bot_id,
                "root_view_id": view_id,
                "previous_view_id": None,
            },
            response_urls=[],
        )
        return self.interactive(payload)

    def message_shortcut(
        self,
        *,
        user_id: str,
        callback_id: str,
        channel_id: str,
        message: dict[str, Any],
        trigger_id: str,
        response_url: str,
    ) -> Response:
        payload = self._base_payload("message_action", user_id)
        payload.update(
            callback_id=callback_id,
            trigger_id=trigger_id,
            action_ts=self._action_ts(),
            message_ts=message.get("ts"),
            message=message,
            channel={"id": channel_id, "name": self._channel_name(channel_id)},
            response_url=response_url,
        )
        return self.interactive(payload)

    # ---- Events API ------------------------------------------------------------

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        event_time: int | None = None,
    ) -> Response:
        """Deliver an event_callback; the Response carries the event_id used."""
        event_id = event_id or f"Ev{secrets.token_hex(5).upper()}"
        ws = self.workspace
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": ws.team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(self.clock()) if event_time is None else event_time,
            "authorizations": [{"team_id": ws.team_id, "user_id": ws.bot_user_id, "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        response = self.post_json(envelope, headers=headers)
        return Response(response.status, response.headers, response.body_text, response.json, event_id)

    def url_verification(self, challenge: str) -> Response:
        return self.post_json({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})

    # ---- helpers -----------------------------------------------------------------

    def _base_payload(self, kind: str, user_id: str) -> dict[str, Any]:
        ws = self.workspace
        name = self._user_name(user_id)
        return {
            "type": kind,
            "user": {"id": user_id, "username": name, "name": name, "team_id": ws.team_id},
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "team": {"id": ws.team_id, "domain": ws.domain},
            "is_enterprise_install": False,
        }

    def _action_ts(self) -> str:
        return f"{self.clock():.6f}"

    def _user_name(self, user_id: str) -> str:
        user = self.workspace.user(user_id)
        return user.name if user else user_id.lower()

    def _channel_name(self, channel_id: str) -> str:
        channel = self.workspace.channel(channel_id)
        if channel_id.startswith("D") or (channel and channel.is_im):
            return "directmessage"  # what Slack sends for DMs
        return channel.name if channel else channel_id.lower()


def _container(view: dict[str, Any] | None, channel_id: str | None, message_ts: str | None) -> dict[str, Any]:
    if view is not None:
        return {"type": "view", "view_id": view.get("id")}
    if message_ts is not None:
        return {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False}
    return {}


def _response(status: int, headers: dict[str, str], raw: bytes) -> Response:
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return Response(status, headers, text, parsed)
