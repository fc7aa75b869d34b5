"""Which functions an initiative needs, and why. Rules are configuration: each function's
keywords (matched as whole words, in any case) and the journeys that call for it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.config import Settings

CHOSEN_BY_PROPOSER = "chosen by the proposer"


@dataclass(frozen=True)
class ProposalText:
    title: str = ""
    problem: str = ""
    obstacles: str = ""

    def parts(self) -> tuple[tuple[str, str], ...]:
        return (("title", self.title), ("problem", self.problem), ("obstacles", self.obstacles))


@lru_cache(maxsize=512)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # \b fails next to non-word characters at the keyword's ends ("C++"), so use lookarounds.
    return re.compile(rf"(?<!\w){re.escape(keyword)}(?!\w)", re.IGNORECASE)


def keyword_reason(keywords: Iterable[str], text: ProposalText) -> str | None:
    """The first of `keywords` found in the text, as the reason kept: "keyword 'ERP' in obstacles".
    The one keyword rule of the hub, for functions and obstacles alike."""
    for keyword in keywords:
        where = next((part for part, value in text.parts() if _keyword_pattern(keyword).search(value)), None)
        if where:
            return f"keyword '{keyword}' in {where}"
    return None


def suggest(settings: Settings, text: ProposalText, journey: str | None = None) -> dict[str, str]:
    """Function key → the first reason it is called for, in configuration order."""
    reasons: dict[str, str] = {}
    for function in settings.functions.values():
        reason = keyword_reason(function.keywords, text)
        if reason:
            reasons[function.key] = reason
        if function.key not in reasons and journey and _journey_calls_for(journey, function.journeys):
            reasons[function.key] = f"{journey} journey"
    return reasons


def _journey_calls_for(journey: str, function_journeys: tuple[str, ...]) -> bool:
    if journey == "both":
        return bool(function_journeys)
    return journey in function_journeys or "both" in function_journeys


def decide(settings: Settings, selected: list[str], text: ProposalText, journey: str | None) -> dict[str, str]:
    """The reasons kept for audit: a rule that matched, else the proposer's own choice."""
    rules = suggest(settings, text, journey)
    return {key: rules.get(key, CHOSEN_BY_PROPOSER) for key in selected if key in settings.functions}
