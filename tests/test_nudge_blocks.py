"""A thread's pair nudge when many pairs of one initiative stall at once: within Slack's
limits (50 blocks, 3000 characters a section), every pair named with its leads."""

from __future__ import annotations

import itertools
import json
from datetime import date

from bot.config import parse
from bot.core.health import Health, Overdue
from bot.core.nudge_claims import PairView
from bot.sandbox.emulator.validation import MESSAGE_BLOCK_LIMIT, block_problems
from bot.slack.nudges import BUTTONED_PAIRS, pair_nudge

FUNCTIONS = ("marketing", "it", "hr", "finance", "legal", "sales", "retail", "logistics")


def settings_with_eight_functions():
    tables = "\n".join(f'[functions.{key}]\nchannel = "#{key}"\nleads = ["U0LEAD{n}", "U0DEPUTY{n}"]\n' for n, key in enumerate(FUNCTIONS))
    return parse(f'[hub]\nchannel = "#cdo-hub"\n{tables}', env={})


def view(n: int, functions: tuple[str, str], settings) -> PairView:
    overdue = tuple(
        Overdue(100 * n + k, functions[0], functions[1], "U0LEAD0", "<!channel> " + "a very long promise " * 20, date(2026, 3, 1), 8)
        for k in range(7)
    )
    health = Health(functions, (6, 9), (False, True), overdue, True, False, None)
    leads = tuple(lead for key in functions for lead in settings.functions[key].leads)
    return PairView(n, 1, n, 0, 42, "Everything at once", functions, health, "U0CEO", "C0HUB", "1.0", None, None, leads)


def test_twenty_eight_pairs_fit_one_message_and_each_is_named_with_its_leads():
    settings = settings_with_eight_functions()
    views = [view(n, pair, settings) for n, pair in enumerate(itertools.combinations(FUNCTIONS, 2), start=1)]
    assert len(views) == 28
    text, blocks = pair_nudge(views, settings)
    assert block_problems(blocks, MESSAGE_BLOCK_LIMIT) == []  # what Slack would refuse
    assert all(len(block["text"]["text"]) <= 3000 for block in blocks if "text" in block and block["type"] == "section")
    assert len([block for block in blocks if block["type"] == "actions"]) == BUTTONED_PAIRS
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "28 pairs of functions" in shown and "28 pairs" in text
    for v in views[BUTTONED_PAIRS:]:  # the rest listed, with their leads
        names = " × ".join(settings.functions[key].name for key in v.functions)
        assert f"*{names}* — " + " ".join(f"<@{lead}>" for lead in v.recipients) in shown
    assert "<!channel>" not in shown  # user text escaped


def test_one_pair_keeps_its_own_layout():
    settings = settings_with_eight_functions()
    text, blocks = pair_nudge([view(1, ("marketing", "it"), settings)], settings)
    assert blocks[0]["text"]["text"].startswith(":wave: <@U0LEAD0> <@U0DEPUTY0> <@U0LEAD1> <@U0DEPUTY1> — *Marketing × IT*")
    assert text == "Marketing × IT: no joint activity on #42 for 9 working days"
    assert [block["type"] for block in blocks] == ["section", "section", "context", "actions"]
