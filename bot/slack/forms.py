"""Opening and updating modals with Bolt's per-request client: at once, since a trigger
lives three seconds and can be used once."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError


def _error(failure: SlackApiError) -> str:
    data = failure.response.data
    error = data.get("error") if isinstance(data, dict) else None
    return error or f"http_{failure.response.status_code}"


def open_view(client: WebClient, trigger_id: str, view: dict[str, Any]) -> str | None:
    """Open the modal; the error Slack gave when it could not be opened, else None."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as failure:
        return _error(failure)
    except (SlackClientError, OSError):
        return "connection_error"
    return None


def update_view(client: WebClient, view_id: str, view_hash: str | None, view: dict[str, Any]) -> str | None:
    """Replace an open modal; `view_hash` makes Slack refuse it if the person changed it meanwhile."""
    try:
        client.views_update(view_id=view_id, hash=view_hash, view=view)
    except SlackApiError as failure:
        return _error(failure)
    except (SlackClientError, OSError):
        return "connection_error"
    return None
