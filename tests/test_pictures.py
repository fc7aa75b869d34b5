"""The pictures: what they draw (cells, marks, labels, rows), not their pixels; that they are
PNGs of a sensible size, the same bytes for the same data, for 2 and for 12 functions."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import date
from itertools import combinations

import pytest

from bot.core import health
from bot.core.digest import NEVER_MET, PairRow
from bot.core.roadmap import OVERDUE, Month, Roadmap, RoadmapCommitment, RoadmapInitiative, month_keys
from bot.pictures import canvas, matrix, roadmap
from bot.sandbox.harness import demo_settings

TODAY = date(2026, 11, 23)


def settings_with(count: int):
    base = demo_settings("sqlite://")
    template = next(iter(base.functions.values()))
    functions = {
        f"f{i}": dataclasses.replace(template, key=f"f{i}", name=f"Function number {i} with a long name $x$", channel=f"#f{i}")
        for i in range(count)
    }
    return dataclasses.replace(base, functions=functions)


STATES = (health.ACTIVE, health.STALLED, NEVER_MET, health.ESCALATED, health.QUIET, health.SNOOZED)


def rows_for(settings) -> list[PairRow]:
    pairs = combinations(settings.functions, 2)
    return [PairRow((a, b), index % 4, 0, 0, 0, None, STATES[index % len(STATES)]) for index, (a, b) in enumerate(pairs)]


def check_png(data: bytes, height_at_least: int = 400) -> tuple[int, int]:
    width, height = canvas.png_size(data)
    assert width == 1080 and height >= height_at_least  # phone width
    assert 5_000 < len(data) < 600_000
    return width, height


@pytest.mark.parametrize("count", [2, 12])
def test_the_matrix_draws_every_pair_with_its_marks_and_names(count):
    settings = settings_with(count)
    rows = rows_for(settings)
    drawn = matrix.draw(rows, settings, TODAY)
    check_png(drawn.png)
    assert len(drawn.labels) == count and all(len(label) <= 18 for label in drawn.labels)
    assert drawn.labels[0].startswith("Function number 0")
    assert len(drawn.cells) == count * (count - 1)  # both orders of every pair, no diagonal
    for row in rows:
        a, b = row.functions
        assert drawn.cells[(a, b)] == drawn.cells[(b, a)] == row.initiatives
        expected = "stalled" if row.state in (health.STALLED, health.ESCALATED) else "never-met" if row.state == NEVER_MET else None
        assert drawn.marks.get((a, b)) == expected
    assert drawn.title == "Who works with whom — 23 Nov 2026"
    assert any("stalled" in entry for entry in drawn.legend) and any("never met" in entry for entry in drawn.legend)
    assert len(drawn.alt_text) <= 1000 and drawn.alt_text.startswith(f"Collaboration matrix of {count} functions")


def test_the_same_data_makes_the_same_picture():
    settings = settings_with(5)
    first = matrix.draw(rows_for(settings), settings, TODAY)
    again = matrix.draw(rows_for(settings), settings, TODAY)
    assert first.png == again.png
    changed = matrix.draw([dataclasses.replace(rows_for(settings)[0], initiatives=9), *rows_for(settings)[1:]], settings, TODAY)
    assert changed.png != first.png


def test_the_alt_text_names_troubled_pairs_first_and_fits_slack():
    settings = settings_with(12)
    text = matrix.alt_text(rows_for(settings), settings, TODAY)
    assert len(text) <= matrix.ALT_TEXT_LIMIT
    assert "more pairs." in text  # 66 pairs do not fit: the rest is counted
    first = text.split(". ")[1]
    assert "stalled" in first


def a_roadmap(items: int = 3) -> Roadmap:
    keys = month_keys(TODAY)
    late = RoadmapCommitment(7, 1, "it", "marketing", "API spec $money$", date(2026, 11, 2), "open", True, "C1", "1.2", "1.1")
    soon = RoadmapInitiative(1, "Customer 360 <!here>", date(2026, 12, 15), "active", False, "C1", "1.1")
    later = [
        RoadmapCommitment(10 + i, 1, "marketing", "it", f"Step {i}", date(2027, 2, 1 + i % 28), "requested", False, None, None, None)
        for i in range(items)
    ]
    months = [Month(OVERDUE, (), (late,))] + [Month(key) for key in keys]
    months[2] = Month(keys[1], (soon,), ())
    months[4] = Month(keys[3], (), tuple(later))
    return Roadmap(("marketing", "it"), TODAY, tuple(months), later=2, undated=1)


def test_the_roadmap_timeline_draws_overdue_first_then_by_date():
    settings = demo_settings("sqlite://")
    drawn = roadmap.draw(a_roadmap(), settings)
    check_png(drawn.png, 300)
    assert drawn.title == "Roadmap of Marketing × IT — 23 Nov 2026"
    assert [(row.kind, row.day, row.overdue) for row in drawn.rows] == [
        ("commitment", date(2026, 11, 2), True),
        ("initiative", date(2026, 12, 15), False),
        ("commitment", date(2027, 2, 1), False),
        ("commitment", date(2027, 2, 2), False),
        ("commitment", date(2027, 2, 3), False),
    ]
    assert drawn.rows[0].label == "IT → Marketing: API spec $money$"
    assert drawn.left_out == 3  # two dated later, one without a date
    assert drawn.months[0] == "Nov 2026" and drawn.months[2] == "Jan 2027" and len(drawn.months) == 6
    assert roadmap.draw(a_roadmap(), settings).png == drawn.png


def test_a_long_roadmap_draws_what_reads_on_a_phone_and_counts_the_rest():
    drawn = roadmap.draw(a_roadmap(items=40), demo_settings("sqlite://"))
    assert len(drawn.rows) == roadmap.ROWS_SHOWN
    assert drawn.left_out == 42 + 2 - roadmap.ROWS_SHOWN + 1
    check_png(drawn.png, 1000)


def test_an_empty_roadmap_still_draws():
    empty = Roadmap(("hr", "it"), TODAY, tuple(Month(key) for key in [OVERDUE, *month_keys(TODAY)]))
    drawn = roadmap.draw(empty, demo_settings("sqlite://"))
    assert drawn.rows == () and drawn.left_out == 0
    check_png(drawn.png, 300)


def test_a_request_that_draws_nothing_does_not_import_matplotlib():
    # The pictures' modules import matplotlib only when drawing: the rest of the hub never pays for it.
    code = "import sys, bot.app.digest_picture, bot.pictures.matrix, bot.slack.app; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
