"""The App Home builder: pure, within Block Kit's limits whatever it is given."""

from __future__ import annotations

import json
from datetime import date, timedelta
from itertools import combinations

from slack_sdk.models.views import View

from bot.config import parse
from bot.core.digest import NEVER_MET, PairRow
from bot.core.home import CommitmentItem, HomeData, InitiativeItem
from bot.core.listing import Listed
from bot.sandbox.emulator import block_problems
from bot.sandbox.harness import DEMO_CONFIG
from bot.slack import blocks as bk
from bot.slack.home import fit_view, home_view

SETTINGS = parse(DEMO_CONFIG.read_text(encoding="utf-8"), env={})
TODAY = date(2030, 3, 14)
HOSTILE = "<!channel> <@U0CEO> <https://evil.example|bank> & "


def commitment(number: int, due: date, *, status: str = "open", what: str = "Open the CRM API", title: str = "One view") -> CommitmentItem:
    return CommitmentItem(number, 7, title, "it", "marketing", "U0IT1", what, due, status)


def pair(a: str, b: str, state: str, initiatives: int = 0, open_: int = 0, overdue: int = 0) -> PairRow:
    return PairRow((a, b), initiatives, open_, overdue, 0, None, state)


def valid(view: dict) -> None:
    assert block_problems(view["blocks"], 100) == []
    View(**view).validate_json()
    for block in view["blocks"]:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000


def rendered(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_an_empty_home_invites_a_proposal_and_has_no_matrix():
    view = home_view(HomeData(user="U0IT1", today=TODAY, functions=("it",)), SETTINGS)
    valid(view)
    text = rendered(view)
    assert view["type"] == "home"
    assert "*Your open initiatives* (0)" in text and "`/cdo propose`" in text
    assert "you owe no open commitment" in text and "*Owed to IT* (0)" in text
    assert "Collaboration matrix" not in text


def test_due_dates_read_in_the_persons_calendar():
    data = HomeData(
        user="U0IT1",
        today=TODAY,
        functions=("it",),
        overdue=Listed((commitment(1, TODAY - timedelta(days=1)), commitment(7, TODAY - timedelta(days=2))), 2),
        due_soon=Listed(
            (commitment(3, TODAY), commitment(4, TODAY + timedelta(days=1)), commitment(5, TODAY + timedelta(days=6), status="slipped")), 3
        ),
        later=Listed((commitment(6, TODAY + timedelta(days=40)),), 1),
        blocked=Listed((commitment(2, TODAY - timedelta(days=5), status="blocked"),), 1),
    )
    text = rendered(home_view(data, SETTINGS))
    assert "*#1* IT → Marketing: Open the CRM API — due 2030-03-13, *1 day late*" in text
    # A blocked commitment waits on someone else: listed apart, never counted late.
    assert "*#2* IT → Marketing: Open the CRM API — due 2030-03-09 · :no_entry: blocked" in text
    assert "5 days late" not in text
    assert "*#3* IT → Marketing: Open the CRM API — due *today*" in text
    assert "*#4* IT → Marketing: Open the CRM API — due tomorrow" in text
    assert "due Wed 2030-03-20 · :arrows_counterclockwise: slipped" in text
    assert "due 2030-04-23" in text
    assert "*Commitments you owe* (7)" in text
    assert text.index("*Overdue* (2)") < text.index("*Due within 7 days* (3)") < text.index("*Later* (1)") < text.index("*Blocked")


def test_user_text_is_escaped_everywhere():
    data = HomeData(
        user="U0IT1",
        today=TODAY,
        functions=("it",),
        initiatives=Listed((InitiativeItem(3, HOSTILE, "active", ("marketing", "it"), ("proposer", "it")),), 1),
        overdue=Listed((commitment(1, TODAY - timedelta(days=1), what=HOSTILE, title=HOSTILE),), 1),
        owed_to_me=Listed((commitment(2, TODAY, what=HOSTILE),), 1),
    )
    view = home_view(data, SETTINGS)
    valid(view)
    text = rendered(view)
    for forbidden in ("<!channel>", "<@U0CEO>", "<https://evil"):
        assert forbidden not in text
    assert "&lt;!channel&gt;" in text
    assert "you: proposer, IT" in text
    sections = [b for b in view["blocks"] if b["type"] == "section"]
    assert all(b["text"]["verbatim"] is True for b in sections)


def test_the_most_a_home_can_hold_stays_within_block_kit_limits():
    long_text = "<&>" * 1000
    many = tuple(commitment(n, TODAY - timedelta(days=n), what=long_text, title=long_text) for n in range(1, 11))
    initiatives = tuple(
        InitiativeItem(n, long_text, "blocked", ("marketing", "it", "hr"), ("proposer", "sponsor", "it", "commitment owner"))
        for n in range(10)
    )
    functions = {f"f{n}": f"Function {n} " + "<" * 60 for n in range(30)}
    toml = '[hub]\nchannel = "#hub"\nstaff = ["U0CDO"]\n' + "".join(
        f'[functions.{key}]\nname = "{name}"\nchannel = "#c{key}"\nleads = ["U0L{key.upper()}"]\n' for key, name in functions.items()
    )
    settings = parse(toml, env={})
    cells = tuple(pair(a, b, "stalled" if a < b else "quiet", 3, 2, int(a < b)) for a, b in combinations(functions, 2))
    data = HomeData(
        user="U0CDO",
        today=TODAY,
        functions=tuple(functions),
        initiatives=Listed(initiatives, 5000),
        overdue=Listed(many, 900),
        due_soon=Listed(many, 900),
        later=Listed(many, 900),
        owed_to_me=Listed(many, 900),
        matrix=cells,
        roles=("hub staff",),
    )
    view = home_view(data, settings)
    valid(view)
    text = rendered(view)
    assert "and 4990 more — `/cdo list mine`" in text
    assert "and 890 more — `/cdo list mine`" in text
    assert f"and {len(cells) - 40} more pairs" in text


def test_the_matrix_leads_with_trouble_and_names_pairs_that_never_meet():
    cells = (
        pair("marketing", "it", "active", initiatives=2, open_=3),
        pair("marketing", "hr", NEVER_MET),
        pair("it", "hr", "stalled", initiatives=1, open_=1, overdue=1),
    )
    view = home_view(HomeData(user="U0CEO", today=TODAY, functions=(), matrix=cells, roles=("executive",)), SETTINGS)
    valid(view)
    text = rendered(view)
    assert ":warning: *IT × HR*: stalled · 1 joint initiative · 1 open commitment (1 overdue)" in text
    assert "*Marketing × IT*: 2 joint initiatives · 3 open commitments" in text  # active goes without saying
    assert ":warning: *Marketing × IT*" not in text
    assert text.index("IT × HR") < text.index("Marketing × IT")
    assert "No joint initiative yet: Marketing × HR" in text
    assert "*Marketing × HR*" not in text  # named once, among the pairs with nothing together
    assert "Owed to" not in text  # an executive in no function


def test_the_matrix_orders_pairs_by_state_and_says_it():
    cells = (
        pair("marketing", "it", "active", initiatives=5, open_=4),
        pair("marketing", "hr", "quiet", initiatives=1),
        pair("it", "hr", NEVER_MET, initiatives=2),  # old initiatives, and no meeting for long
    )
    text = rendered(home_view(HomeData(user="U0CEO", today=TODAY, functions=(), matrix=cells, roles=("executive",)), SETTINGS))
    assert "*IT × HR*: never-met · 2 joint initiatives" in text
    assert "*Marketing × HR*: quiet · 1 joint initiative" in text
    assert text.index("IT × HR") < text.index("Marketing × HR") < text.index("Marketing × IT")
    assert "No joint initiative yet" not in text
    escalated = pair("marketing", "hr", "escalated", initiatives=1)
    text = rendered(
        home_view(HomeData(user="U0CEO", today=TODAY, functions=(), matrix=(cells[0], escalated), roles=("executive",)), SETTINGS)
    )
    assert ":warning: *Marketing × HR*: escalated · 1 joint initiative" in text  # troubled without anything overdue
    assert text.index("Marketing × HR") < text.index("Marketing × IT")


def test_fit_view_says_what_was_left_out():
    blocks = [bk.section(str(n)) for n in range(130)]
    fitted = fit_view(blocks)
    assert len(fitted) == 100 and fitted[:99] == blocks[:99]
    assert "31 more not shown" in fitted[-1]["elements"][0]["text"]
    assert fit_view(blocks[:100]) == blocks[:100]
