"""The benchmark's one table: a row per figure, per size and per database, with the anchor's
figure (or the goal) next to the hub's and their ratio. Built from what a stage measured."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.measure import Results, Timing

HEADER = ("what", "size", "database", "hub", "anchor or goal", "ratio")
KINDS = ("/cdo list", "/cdo help", "Done click", "commitment form", "thread reply")
ACK_GOAL = 1.5  # × the anchor
ANSWER_GOAL, SWEEP_GOAL, RSS_GOAL = 1.0, 2.0, 120.0  # seconds, seconds, MB
PROPOSAL_FUNCTIONS = 5


@dataclass(frozen=True)
class Row:
    what: str
    size: int
    database: str
    hub: str
    reference: str  # the anchor's figure, or the goal
    ratio: float
    met: bool

    def cells(self) -> tuple[str, ...]:
        ratio = f"{self.ratio:.2f}×" + ("" if self.met else " over")
        return (self.what, f"{self.size:,}", self.database, self.hub, self.reference, ratio)


def labels() -> list[str]:
    """What each stage's rows are called, in the order they are printed."""
    acks = [f"ack {p} {kind} (≤ {ACK_GOAL}× anchor)" for kind in KINDS for p in ("p50", "p99")]
    return [
        *acks,
        "/cdo pairs answer",
        "App Home publish, executive",
        "digest --dry-run",
        "report pairs",
        "nudge --dry-run, all due pairs",
        "messages one sweep sends, all due pairs",
        f"Slack calls per proposal, {PROPOSAL_FUNCTIONS} functions",
        f"serve RSS (≤ {RSS_GOAL:.0f} MB)",
    ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def rows(results: Results, size: int, database: str) -> list[Row]:
    names = iter(labels())
    found = []
    for kind in KINDS:
        hub, anchor = results.acks[kind]
        failed = f" ({hub.failed} not 200)" if hub.failed else ""
        for p in ("p50", "p99"):
            ratio = getattr(hub, p) / getattr(anchor, p)
            met = ratio <= ACK_GOAL and not hub.failed
            found.append(Row(next(names), size, database, _ms(getattr(hub, p)) + failed, _ms(getattr(anchor, p)), ratio, met))

    def against_goal(timing: Timing, goal: float) -> Row:
        hub = _s(timing.seconds) + (f" ({timing.problem})" if timing.problem else "")
        return Row(
            next(names), size, database, hub, f"goal < {goal:.0f} s", timing.seconds / goal, timing.seconds < goal and not timing.problem
        )

    found.append(against_goal(results.pairs_answer, ANSWER_GOAL))
    found.append(against_goal(results.home_publish, ANSWER_GOAL))
    found.append(against_goal(results.commands["digest"], ANSWER_GOAL))
    found.append(against_goal(results.commands["report"], ANSWER_GOAL))
    found.append(against_goal(results.commands["nudge"], SWEEP_GOAL))
    sweep = results.sweep  # batched: one message per thread and person, never more than one per nudge
    batched = sweep.messages / sweep.nudges if sweep.nudges else 0.0
    found.append(Row(next(names), size, database, f"{sweep.messages:,} messages", f"{sweep.nudges:,} nudges", batched, batched <= 1))
    calls, allowed = sum(results.proposal_calls.values()), PROPOSAL_FUNCTIONS + 2
    found.append(Row(next(names), size, database, f"{calls} calls", f"goal ≤ {allowed} calls", calls / allowed, calls <= allowed))
    hub_mb, anchor_mb = results.rss
    found.append(Row(next(names), size, database, f"{hub_mb:.0f} MB", f"{anchor_mb:.0f} MB", hub_mb / anchor_mb, hub_mb <= RSS_GOAL))
    return found


def render(rows: Iterable[Row]) -> str:
    """A Markdown table, aligned so that it also reads in a terminal."""
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADER))]
    right = {1, 3, 4, 5}  # numbers

    def cell(text: str, column: int) -> str:
        return text.rjust(widths[column]) if column in right else text.ljust(widths[column])

    out = ["| " + " | ".join(cell(text, column) for column, text in enumerate(line)) + " |" for line in lines]
    rule = (
        "|" + "|".join(("-" * (width + 1) + ":") if column in right else ("-" * (width + 2)) for column, width in enumerate(widths)) + "|"
    )
    return "\n".join([out[0], rule, *out[1:]])
