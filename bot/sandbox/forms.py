"""Build `view.state.values` the way Slack sends them for the hub's modals (tests and demo)."""

from __future__ import annotations

from datetime import date
from typing import Any


def text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def select(value: str | None) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}} if value else None}


def multi(values: list[str]) -> dict[str, Any]:
    return {"type": "multi_static_select", "selected_options": [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values]}


def user(value: str | None) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": value}


def day(value: date | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value.isoformat() if value else None}


def proposal(
    *,
    title: str = "One customer view across our three ERP instances",
    problem: str = "Sales, service and billing each see a different customer.",
    journey: str = "customer",
    functions: list[str] = ("marketing", "it"),  # type: ignore[assignment]
    sponsor: str | None = "U0CEO",
    target: date | None = None,
    obstacles: str = "Three ERP instances, no DAM",
    functions_block: str = "functions",
) -> dict[str, Any]:
    return {
        "title": {"value": text(title)},
        "problem": {"value": text(problem)},
        "journey": {"journey_changed": select(journey)},
        functions_block: {"value": multi(list(functions))},
        "sponsor": {"value": user(sponsor)},
        "target_date": {"value": day(target)},
        "obstacles": {"value": text(obstacles)},
    }


def ticked(values: list[str]) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values]}


def commitment(*, giver: str | None, taker: str | None, what: str, due: date | None, on_behalf: bool = False) -> dict[str, Any]:
    values = {
        "from_function": {"value": select(giver)},
        "to_function": {"value": select(taker)},
        "what": {"value": text(what)},
        "due": {"value": day(due)},
    }
    if on_behalf:  # the box hub staff and admins tick to record a function's promise
        values["on_behalf"] = {"value": ticked(["yes"])}
    return values
