"""A couple's roadmap as a timeline: one row per initiative (a diamond at its target date) and
per commitment (a dot at its due date), overdue first in red, then by date, with today marked
and the next months along the bottom. The rows are the roadmap's (bot.core.roadmap): nothing
is decided here but how it looks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.config import Settings
from bot.core.roadmap import Roadmap
from bot.pictures import canvas

ROWS_SHOWN = 24  # more would not read on a phone: the rest is counted under the picture
INITIATIVE, COMMITMENT = "initiative", "commitment"


@dataclass(frozen=True)
class Row:
    label: str
    day: date
    kind: str  # INITIATIVE or COMMITMENT
    status: str
    overdue: bool


@dataclass(frozen=True)
class RoadmapPicture:
    png: bytes
    title: str
    today: date
    rows: tuple[Row, ...]  # as drawn, top to bottom
    left_out: int  # rows not drawn (beyond ROWS_SHOWN, later than the months, without a date)
    months: tuple[str, ...]  # the month labels along the bottom


def rows_of(roadmap: Roadmap, settings: Settings) -> list[Row]:
    def name(key: str) -> str:
        return settings.functions[key].name if key in settings.functions else key

    rows = []
    for month in roadmap.months:
        items = [Row(canvas.short(f"#{i.id} {i.title}", 38), i.target_date, INITIATIVE, i.status, i.overdue) for i in month.initiatives]
        items += [
            Row(canvas.short(f"{name(c.from_function)} → {name(c.to_function)}: {c.what}", 38), c.due, COMMITMENT, c.status, c.overdue)
            for c in month.commitments
        ]
        rows += sorted(items, key=lambda row: (row.day, row.kind))
    return rows


def draw(roadmap: Roadmap, settings: Settings) -> RoadmapPicture:
    a, b = (settings.functions[key].name if key in settings.functions else key for key in roadmap.functions)
    title = f"Roadmap of {a} × {b} — {roadmap.today:%d %b %Y}"
    every = rows_of(roadmap, settings)
    rows = tuple(every[:ROWS_SHOWN])
    left_out = len(every) - len(rows) + roadmap.later + roadmap.undated
    png, months = _render(rows, roadmap.today, title, left_out)
    return RoadmapPicture(png, title, roadmap.today, rows, left_out, months)


def _month_starts(today: date, count: int) -> list[date]:
    starts, day = [], today.replace(day=1)
    for _ in range(count + 1):
        starts.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return starts


def _x(day: date) -> float:
    return float(day.toordinal())


def _render(rows: tuple[Row, ...], today: date, title: str, left_out: int) -> tuple[bytes, tuple[str, ...]]:
    from matplotlib.lines import Line2D

    starts = _month_starts(today, 6)
    first = min([starts[0], *(row.day for row in rows)])
    start, end = first - timedelta(days=5), starts[-1]
    height = 2.4 + 0.34 * max(len(rows), 2)
    months = tuple(f"{day:%b %Y}" if day.month == 1 or index == 0 else f"{day:%b}" for index, day in enumerate(starts[:-1]))
    with canvas.figure(height) as fig:
        top = 1 - 1.0 / height
        bottom = 1.1 / height
        ax = fig.add_axes((0.43, bottom, 0.54, top - bottom))
        ax.set_xlim(_x(start), _x(end))
        ax.set_ylim(len(rows) - 0.5 if rows else 0.5, -0.5)
        for index, row in enumerate(rows):
            colour = canvas.RED if row.overdue else canvas.GREEN if row.kind == INITIATIVE else canvas.BLUE
            marker = "D" if row.kind == INITIATIVE else "o"
            ax.axhline(index, color=canvas.LIGHT, linewidth=0.8, zorder=0)
            ax.plot([_x(row.day)], [index], marker=marker, markersize=9, color=colour, linestyle="none", zorder=3)
            ax.text(-0.02, index, row.label, transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=9, parse_math=False)
            ax.text(_x(row.day), index, f"  {row.status}", ha="left", va="center", fontsize=7.5, color="#555555", parse_math=False)
        for day in starts:
            ax.axvline(_x(day), color=canvas.LIGHT, linewidth=0.8, zorder=0)
        ax.axvline(_x(today), color="#333333", linestyle="--", linewidth=1.2, zorder=1)
        ax.text(_x(today), 1.0, "today", transform=ax.get_xaxis_transform(), ha="center", va="bottom", color="#333333", fontsize=9)
        ax.set_xticks([_x(day) for day in starts[:-1]])
        ax.set_xticklabels(months, fontsize=9)
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        if not rows:
            ax.text(
                0.5, 0.5, "Nothing planned together yet", transform=ax.transAxes, ha="center", va="center", fontsize=11, color="#555555"
            )
        fig.suptitle(title, fontsize=12, fontweight="bold", y=1 - 0.25 / height, parse_math=False)
        handles = [
            Line2D([], [], marker="D", color=canvas.GREEN, linestyle="none", label="initiative (target date)"),
            Line2D([], [], marker="o", color=canvas.BLUE, linestyle="none", label="commitment (due date)"),
            Line2D([], [], marker="o", color=canvas.RED, linestyle="none", label="overdue"),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=8.5, bbox_to_anchor=(0.5, 0.0))
        if left_out:
            fig.text(0.02, 0.35 / height, f"+{left_out} more not drawn", fontsize=8, color="#555555")
        return canvas.png_bytes(fig), months
