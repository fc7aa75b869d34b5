"""`/cdo roadmap <function> <function>` and the couples' roadmaps on a lead's App Home, through
signed requests against the emulator, on SQLite and Postgres."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.sandbox.emulator import block_problems
from tests.scenario import steps
from tests.scenario.test_home import home_hub, open_home, text_of  # noqa: F401 (a fixture)
from tests.scenario.test_who_sees import MARKETING_IT, answer, private_hub  # noqa: F401 (a fixture)


def test_roadmap_answers_only_the_person_after_the_ack_with_links_to_the_threads(hub):
    soon = date.today() + timedelta(days=20)
    initiative = steps.propose(hub, title="Customer 360 <!channel> & *more*", functions=["marketing", "it"], target=soon)
    steps.submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="API <@U0CEO>", due=soon)
    before = len(hub.emulator.responses)
    acked = hub.command("roadmap #marketing IT", user_id="U0IT1")
    assert acked.status == 200 and not acked.body_text.strip()  # read after the answer
    [told] = hub.emulator.responses[before:]
    assert told.json["response_type"] == "ephemeral"
    assert not block_problems(told.json["blocks"], 50)
    shown = json.dumps(told.json["blocks"], ensure_ascii=False)
    assert "Roadmap: Marketing × IT" in shown
    assert "Customer 360 &lt;!channel&gt; &amp; *more*" in shown and "<!channel>" not in shown
    assert "&lt;@U0CEO&gt;" in shown and "<@U0CEO>" not in shown
    assert f"/archives/{initiative.hub_channel}/p{initiative.hub_ts.replace('.', '')}" in shown  # the thread's link
    assert f"target {soon.isoformat()}" in shown and f"due {soon.isoformat()}" in shown
    assert not hub.emulator.dms("U0IT1")  # told through the response URL only


def test_roadmap_says_how_to_name_two_functions(hub):
    for text in ("roadmap", "roadmap marketing", "roadmap marketing marketing", "roadmap <!here> it"):
        acked = hub.command(text, user_id="U0IT1")
        told = json.dumps(acked.json)
        assert acked.status == 200 and "two different functions" in told and "<!here>" not in told, text


def test_roadmap_shows_nothing_the_person_may_not_see(private_hub):  # noqa: F811
    # Both initiatives have no target date: the roadmap counts them, for those who may see them.
    told = answer(private_hub, "roadmap marketing it", "U0HR1")
    assert MARKETING_IT not in told and "is private" in told and "without a target date" not in told
    assert "1 initiative without a target date" in answer(private_hub, "roadmap marketing it", "U0MKT1")


def test_a_lead_sees_the_roadmap_of_each_couple_of_their_function_on_the_home_tab(home_hub):  # noqa: F811
    hub = home_hub
    steps.propose(hub, user_id="U0CMO", title="Customer 360", functions=["marketing", "it"], target=date(2030, 4, 2))
    view = open_home(hub, "U0CIO")
    assert len(view["blocks"]) <= 100 and not block_problems(view["blocks"], 100)
    text = text_of(view)
    assert "Your couples' roadmaps" in text
    assert "*Marketing × IT* (1)" in text and "Customer 360" in text and "target 2030-04-02" in text
    assert "Nothing planned together yet: IT × HR" in text
    assert "Your couples' roadmaps" not in text_of(open_home(hub, "U0IT1"))  # a member, not a lead
