"""Starter ideas for two functions that never meet: `[[ideas]]` from the configuration, else
a built-in set, and the one to offer next (in turn, never the same twice in a row)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import IdeaConfig, Settings
from bot.core.pairs import ordered_pair

BUILT_IN = (
    IdeaConfig(
        ("it", "marketing"),
        "One customer view across our systems",
        "Marketing sees a customer in the CRM, IT in the ERP instances: nobody sees the whole journey.",
        "customer",
    ),
    IdeaConfig(
        ("it", "marketing"),
        "A content workflow from brief to publication",
        "Campaign content moves by email and shared drives; a workflow and a DAM would let it flow.",
        "customer",
    ),
    IdeaConfig(
        ("hr", "it"),
        "An onboarding journey ready on day one",
        "Newcomers wait days for accounts and equipment: HR knows who arrives, IT what they need.",
        "employee",
    ),
    IdeaConfig(
        ("hr", "it"),
        "A digital workplace people like to use",
        "Tools are chosen for infrastructure reasons; the employee experience is nobody's brief.",
        "employee",
    ),
    IdeaConfig(
        ("hr", "marketing"),
        "A candidate journey as good as our customer journey",
        "Candidates meet our brand long before they meet HR, and the two experiences do not match.",
        "employee",
    ),
    IdeaConfig(
        ("hr", "marketing"),
        "An employer brand our own people recognise",
        "Marketing knows how to tell a story; HR knows the one employees live. Together they make it true.",
        "both",
    ),
)


def ideas_for(settings: Settings, functions: tuple[str, str]) -> list[IdeaConfig]:
    """The ideas for this pair, in the order they are offered."""
    pair = ordered_pair(*functions)
    ideas = BUILT_IN if settings.ideas is None else settings.ideas
    found = [idea for idea in ideas if ordered_pair(*idea.functions) == pair]
    if found:
        return found
    a, b = (settings.functions[key].name for key in pair)
    return [
        IdeaConfig(pair, f"A first project between {a} and {b}", f"{a} and {b} have not worked together lately: what could they start?")
    ]


def next_idea(ideas: Sequence[IdeaConfig], last_title: str | None) -> IdeaConfig:
    """The idea after the one offered last time (the first when none was, or it is gone)."""
    titles = [idea.title for idea in ideas]
    if last_title in titles:
        return ideas[(titles.index(last_title) + 1) % len(ideas)]
    return ideas[0]
