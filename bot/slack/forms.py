"""Opening and updating modals with Bolt's per-request client: at once, since a trigger
lives three seconds and can be used once."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.gateway import error_of


def open_view(client: WebClient, trigger_id: str, view: dict[str, Any]) -> str | None:
    """Open the modal; the error Slack gave when it could not be opened, else None."""
    return open_view_to_update(client, trigger_id, view)[0]


def open_view_to_update(client: WebClient, trigger_id: str, view: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Open the modal: the error Slack gave, or None and the opened view (its `id` and `hash`
    let it be updated while it is open)."""
    try:
        opened = client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as failure:
        return error_of(failure), {}
    except (SlackClientError, OSError):
        return "connection_error", {}
    found = opened.get("view")
    return None, found if isinstance(found, dict) else {}


def update_view(client: WebClient, view_id: str, view_hash: str | None, view: dict[str, Any]) -> str | None:
    """Replace an open modal; `view_hash` makes Slack refuse it if the person changed it meanwhile."""
    try:
        client.views_update(view_id=view_id, hash=view_hash, view=view)
    except SlackApiError as failure:
        return error_of(failure)
    except (SlackClientError, OSError):
        return "connection_error"
    return None


def open_form(client: WebClient, trigger_id: str, view: dict[str, Any] | None, problem: str | None, what: str) -> str | None:
    """Open a use case's form; what to tell the person when there is none or it will not open."""
    error = open_view(client, trigger_id, view) if view else None
    return problem or (f"The {what} could not be opened ({error}). Please try again." if error else None)
