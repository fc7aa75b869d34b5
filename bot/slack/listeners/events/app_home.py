"""The Home tab was opened: publish the person's initiatives, commitments and, for
executives and hub staff, the collaboration matrix."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from bot.app.home import publish_home


def handle_app_home_opened(event: dict[str, Any], context: BoltContext) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return  # the Messages tab needs nothing
    publish_home(context["hub"], event["user"])
