"""`[introductions]` and `[[ideas]]`: read, defaulted, and refused with the idea, key and line;
the starter ideas of a pair are offered in turn."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, IdeaConfig, parse
from bot.core.ideas import BUILT_IN, ideas_for, next_idea
from tests.test_config import MINIMAL


def test_defaults_without_the_sections():
    settings = parse(MINIMAL, env={})
    assert settings.introductions.enabled is True and settings.introductions.quiet_days == 90
    assert settings.ideas is None


def test_ideas_are_read_in_one_order_of_their_functions():
    settings = parse(
        MINIMAL + '\n[introductions]\nenabled = false\nquiet_days = 30\n\n[[ideas]]\nfunctions = ["it", "marketing"]\n'
        'title = "  A shared backlog  "\njourney = "customer"\n',
        env={},
    )
    assert settings.introductions.enabled is False and settings.introductions.quiet_days == 30
    assert settings.ideas == (IdeaConfig(("it", "marketing"), "A shared backlog", "", "customer"),)


@pytest.mark.parametrize(
    ("idea", "key", "problem"),
    [
        ('functions = ["hr", "marketing"]\ntitle = "x"', "functions", "'hr' is not a configured function"),
        ('functions = ["it", "it"]\ntitle = "x"', "functions", "must name two different functions"),
        ('functions = ["it", "marketing"]', "title", "is required for every idea"),
        ('functions = ["it", "marketing"]\ntitle = "x"\njourney = "partner"', "journey", "must be one of customer, employee, both"),
        ('functions = ["it", "marketing"]\ntitle = "x"\ncolour = "red"', "colour", "unknown key"),
        ('functions = ["it", "marketing"]\ntitle = "' + "t" * 151 + '"', "title", "at most 150 characters"),
    ],
)
def test_a_bad_idea_is_refused_with_its_key_and_line(idea, key, problem):
    text = MINIMAL + '\n[[ideas]]\nfunctions = ["it", "marketing"]\ntitle = "fine"\n\n[[ideas]]\n' + idea + "\n"
    with pytest.raises(ConfigError) as refused:
        parse(text, source="cfg.toml", env={})
    message = str(refused.value)
    assert f"ideas[1].{key}: " in message and problem in message
    if key in idea:
        lines = text.splitlines()
        expected = max(n for n, line in enumerate(lines, start=1) if line.startswith(f"{key} ="))
        assert message.startswith(f"cfg.toml:{expected}: "), message


def test_the_built_in_ideas_cover_the_three_couples():
    covered = {idea.functions for idea in BUILT_IN}
    assert {("it", "marketing"), ("hr", "it"), ("hr", "marketing")} <= covered
    assert all(len([i for i in BUILT_IN if i.functions == pair]) >= 2 for pair in covered)


def test_ideas_are_offered_in_turn_never_twice_in_a_row():
    settings = parse(MINIMAL, env={})
    ideas = ideas_for(settings, ("marketing", "it"))
    first = next_idea(ideas, None)
    second = next_idea(ideas, first.title)
    assert first != second and next_idea(ideas, second.title) == first
    assert next_idea(ideas, "an idea since removed") == ideas[0]
