"""Words shared by the nudges, the digest and the answers to nudge buttons (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.slack import blocks as bk


def function_name(settings: Settings, key: str) -> str:
    return bk.user_text(settings.functions[key].name if key in settings.functions else key, 100)


def in_order(settings: Settings, keys: Iterable[str]) -> list[str]:
    """Functions as the configuration lists them (pairs store theirs alphabetically)."""
    order = list(settings.functions)
    return sorted(keys, key=lambda key: order.index(key) if key in order else len(order))


def pair_name(settings: Settings, functions: Iterable[str]) -> str:
    return " × ".join(function_name(settings, key) for key in in_order(settings, functions))


def initiative_label(initiative_id: int, title: str, limit: int = 200) -> str:
    return f"#{initiative_id} {bk.user_text(title, limit)}"


def working_days(count: int) -> str:
    return f"{count} working day{'' if count == 1 else 's'}"


def short_day(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def fit_lines(lines: Sequence[str], more: str, limit: int = bk.SECTION_TEXT_LIMIT) -> str:
    """As many whole lines as fit in one section, then how many were left out."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit - 120:
            return "\n".join(kept + [f"…and {len(lines) - len(kept)} more: {more}."])
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)
