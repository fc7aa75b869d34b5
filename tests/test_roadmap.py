"""A couple's joint roadmap: what goes in which month, what is overdue, what one may see, and
`cdo-hub report roadmap` / `report matrix` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

from bot import cli
from bot.app.propose import deliver
from bot.core import initiatives
from bot.core import roadmap as roadmaps
from bot.core.audience import Viewer
from bot.db import transaction
from bot.models import Commitment
from bot.pictures.canvas import png_size
from bot.sandbox.harness import DEMO_CONFIG
from tests.nudge_world import World, paris, sqlite_only


def propose(world: World, title: str, target: date | None, functions=("marketing", "it")) -> int:
    proposal = initiatives.Proposal(proposer="U0CMO", title=title, functions=tuple(functions), sponsor="U0CEO", target_date=target)
    with transaction(world.hub.sessions) as session:
        initiative_id = initiatives.create(session, proposal, world.hub.settings, world.clock.now()).id
    deliver(world.hub, initiative_id)
    return initiative_id


def a_couple(world: World) -> dict[str, int]:
    """As of 2 March 2026: one initiative late, one in April, one after August, one undated,
    and one of HR with IT that is not the couple's."""
    ids = {
        "late": propose(world, "Late launch", date(2026, 2, 20)),
        "april": propose(world, "Customer 360 <!channel>", date(2026, 4, 10)),
        "december": propose(world, "Far away", date(2026, 12, 1)),
        "undated": propose(world, "Someday", None),
        "other": propose(world, "Onboarding", date(2026, 4, 1), functions=("hr", "it")),
    }
    ids["overdue"] = world.commit(ids["late"], paris(2, 11), date(2026, 2, 25))
    ids["may"] = world.commit(ids["april"], paris(2, 11), date(2026, 5, 5), ends=("marketing", "it"), owner="U0CMO", what="Brief")
    ids["asked"] = world.ask(ids["april"], paris(2, 12), date(2026, 3, 20))
    ids["blocked"] = world.commit(ids["april"], paris(2, 12), date(2026, 2, 1), what="Waiting on the vendor")
    ids["hr"] = world.commit(ids["other"], paris(2, 12), date(2026, 3, 9), ends=("it", "hr"))
    with transaction(world.hub.sessions) as session:
        blocked = session.get(Commitment, ids["blocked"])
        assert blocked is not None
        blocked.status = "blocked"
    return ids


def test_the_roadmap_puts_each_item_in_its_month_overdue_first(world):
    ids = a_couple(world)
    with world.hub.sessions() as session:
        found = roadmaps.build(session, world.hub.settings, paris(2, 15), ("it", "marketing"))
    report = found.as_report()
    assert [month["month"] for month in report] == ["overdue", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    by_month = {m["month"]: ([i["id"] for i in m["initiatives"]], [c["id"] for c in m["commitments"]]) for m in report}
    assert by_month["overdue"] == ([ids["late"]], [ids["overdue"]])
    # A blocked commitment is never late, and a request is never overdue: this month's business.
    assert by_month["2026-03"] == ([], [ids["blocked"], ids["asked"]])
    assert by_month["2026-04"] == ([ids["april"]], [])
    assert by_month["2026-05"] == ([], [ids["may"]])
    assert found.later == 1 and found.undated == 1
    assert report[2]["initiatives"][0] == {
        "id": ids["april"],
        "title": "Customer 360 <!channel>",
        "target_date": "2026-04-10",
        "status": "active",
    }
    commitment = report[0]["commitments"][0]
    assert {key: commitment[key] for key in ("from", "to", "what", "due", "status")} == {
        "from": "it",
        "to": "marketing",
        "what": "API spec",
        "due": "2026-02-25",
        "status": "open",
    }


def test_a_shortened_roadmap_reads_the_first_items_and_counts_them_all(world):
    ids = a_couple(world)
    with world.hub.sessions() as session:
        whole = roadmaps.build(session, world.hub.settings, paris(2, 15), ("marketing", "it"))
        short = roadmaps.build(session, world.hub.settings, paris(2, 15), ("marketing", "it"), limit=1)
    assert (short.items, short.later, short.undated) == (whole.items, whole.later, whole.undated) == (6, 1, 1)
    read = {m.key: ([i.id for i in m.initiatives], [c.id for c in m.commitments]) for m in short.months if not m.empty}
    # The first of each kind, overdue and coming: the Home's first lines are among them.
    assert read == {"overdue": ([ids["late"]], [ids["overdue"]]), "2026-03": ([], [ids["blocked"]]), "2026-04": ([ids["april"]], [])}
    assert short.unread == 2


def test_couples_read_together_are_each_read_as_alone(world):
    ids = a_couple(world)
    couples = [("it", "marketing"), ("hr", "it"), ("marketing", "hr"), ("marketing", "it"), ("it", "marketing")]
    hr_lead = Viewer("U0HR1", everything=False, functions=("hr",))
    with world.hub.sessions() as session:
        for limit, seen in ((None, None), (1, None), (None, hr_lead.condition()), (1, hr_lead.condition())):
            together = roadmaps.build_many(session, world.hub.settings, paris(2, 15), couples, seen, limit=limit)
            alone = [roadmaps.build(session, world.hub.settings, paris(2, 15), couple, seen, limit=limit) for couple in couples]
            assert together == alone
            assert [roadmap.functions for roadmap in together] == couples  # each in the order asked
        outsider = roadmaps.build_many(session, world.hub.settings, paris(2, 15), couples, hr_lead.condition())
        assert [roadmap.items for roadmap in outsider] == [0, 2, 0, 0, 0]  # HR sees its own couple only
        together = roadmaps.build_many(session, world.hub.settings, paris(2, 15), couples)
    it_hr = {m.key: [c.id for c in m.commitments] for m in together[1].months if m.commitments}
    assert it_hr == {"2026-03": [ids["hr"]]}  # only the couple's own: none of marketing's
    assert together[2].items == 0


def test_the_roadmap_shows_only_what_the_viewer_may_see(world):
    a_couple(world)
    outsider = Viewer("U0HR1", everything=False, functions=("hr",))
    with world.hub.sessions() as session:
        found = roadmaps.build(session, world.hub.settings, paris(2, 15), ("marketing", "it"), outsider.condition())
    assert found.items == 0 and found.later == 0 and found.undated == 0


@sqlite_only
def test_report_roadmap_and_matrix_from_the_command_line(world, tmp_path, monkeypatch, capsys):
    ids = a_couple(world)
    config = tmp_path / "config.toml"
    config.write_text(DEMO_CONFIG.read_text())
    env = {"DATABASE_URL": world.hub.settings.database_url, "PATH": "/usr/bin:/bin"}

    # Once as a person runs it: a process of its own.
    run = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "report", "roadmap", "--pair", "Marketing,it", "--format", "json"],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    months = json.loads(run.stdout)
    assert months[0]["month"] == "overdue" and len(months) == 7  # as of today: everything of March 2026 is late by now
    assert {i["id"] for m in months for i in m["initiatives"]} >= {ids["late"], ids["april"]}

    # Then the same entry point in this process, without starting Python each time.
    monkeypatch.setenv("DATABASE_URL", world.hub.settings.database_url)
    for name in ("SLACK_BOT_TOKEN", "SLACK_API_URL", "CDO_HUB_CONFIG"):
        monkeypatch.delenv(name, raising=False)

    def cdo_hub(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(["--config", str(config), "report", *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _err = cdo_hub("roadmap", "--pair", "marketing,it")
    assert code == 0 and "Roadmap of Marketing × IT" in out and "overdue:" in out
    picture = tmp_path / "roadmap.png"
    assert cdo_hub("roadmap", "--pair", "marketing,it", "--format", "png", "--output", str(picture))[0] == 0
    assert png_size(picture.read_bytes())[0] == 1080
    heatmap = tmp_path / "matrix.png"
    code, _out, err = cdo_hub("matrix", "--format", "png", "--output", str(heatmap))
    assert code == 0 and str(heatmap) in err
    assert png_size(heatmap.read_bytes())[0] == 1080
    for wrong, said in (
        (("roadmap", "--pair", "marketing"), "does not name two different functions"),
        (("roadmap",), "needs --pair"),
        (("roadmap", "--pair", "it,it"), "does not name two different functions"),
        (("pairs", "--format", "png"), "has no picture"),
        (("matrix", "--format", "csv"), "has no --format csv"),
        (("matrix", "--output", str(tmp_path / "missing" / "m.png")), "could not write"),
    ):
        code, _out, err = cdo_hub(*wrong)
        assert code != 0 and said in err and "Traceback" not in err, (wrong, err)
