"""The function × function matrix as a heatmap: one cell per pair of configured functions,
coloured by their joint initiatives, with the pairs that stall (stalled or escalated) framed
in red and those that never meet hatched. Which pair stalls or never meets is the matrix's own
word (`digest.pair_rows`), never decided here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.config import Settings
from bot.core import health
from bot.core.digest import NEVER_MET, PairRow
from bot.pictures import canvas

STALLED, NEVER = "stalled", "never-met"
ALT_TEXT_LIMIT = 1000  # Slack's limit on a file's alt text


@dataclass(frozen=True)
class MatrixPicture:
    png: bytes
    title: str
    labels: tuple[str, ...]  # the functions' names, in the configuration's order
    cells: dict[tuple[str, str], int]  # joint initiatives, for each pair of keys (both orders)
    marks: dict[tuple[str, str], str]  # STALLED or NEVER, for the pairs so marked (both orders)
    legend: tuple[str, ...]
    alt_text: str


def mark_of(row: PairRow) -> str | None:
    if row.state in (health.STALLED, health.ESCALATED):
        return STALLED
    if row.state == NEVER_MET:
        return NEVER
    return None


def draw(rows: Sequence[PairRow], settings: Settings, today: date) -> MatrixPicture:
    keys = list(settings.functions)
    names = tuple(canvas.short(settings.functions[key].name, 18) for key in keys)
    cells: dict[tuple[str, str], int] = {}
    marks: dict[tuple[str, str], str] = {}
    for row in rows:
        a, b = row.functions
        mark = mark_of(row)
        for pair in ((a, b), (b, a)):
            cells[pair] = row.initiatives
            if mark:
                marks[pair] = mark
    title = f"Who works with whom — {today:%d %b %Y}"
    legend = (
        "joint initiatives (darker: more)",
        "stalled pair (red frame)",
        f"never met in {settings.digest.never_met_days} days (hatched)",
    )
    png = _render(keys, names, cells, marks, title, legend)
    return MatrixPicture(png, title, names, cells, marks, legend, alt_text(rows, settings, today))


def _render(
    keys: list[str],
    names: tuple[str, ...],
    cells: dict[tuple[str, str], int],
    marks: dict[tuple[str, str], str],
    title: str,
    legend: tuple[str, ...],
) -> bytes:
    import matplotlib
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch, Rectangle

    count = len(keys)
    top = max(cells.values(), default=0) or 1
    shade = matplotlib.colormaps["Blues"]
    norm = Normalize(vmin=0, vmax=top)
    size = 11 if count <= 4 else 9 if count <= 8 else 7.5
    with canvas.figure(8.0) as fig:
        ax = fig.add_axes((0.26, 0.24, 0.70, 0.64))
        for i, row_key in enumerate(keys):
            for j, column_key in enumerate(keys):
                if i == j:
                    ax.add_patch(Rectangle((j, i), 1, 1, facecolor=canvas.LIGHT, edgecolor="white", linewidth=1))
                    continue
                value = cells.get((row_key, column_key), 0)
                mark = marks.get((row_key, column_key))
                colour = shade(0.15 + 0.85 * norm(value)) if value else "white"
                ax.add_patch(
                    Rectangle((j, i), 1, 1, facecolor=colour, edgecolor=canvas.GREY, linewidth=0.5, hatch="///" if mark == NEVER else None)
                )
                if mark == STALLED:
                    ax.add_patch(Rectangle((j + 0.06, i + 0.06), 0.88, 0.88, fill=False, edgecolor=canvas.RED, linewidth=2.5))
                dark = value and norm(value) > 0.55
                ax.text(
                    j + 0.5,
                    i + 0.5,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=size,
                    color="white" if dark else "black",
                    parse_math=False,
                )
        ax.set_xlim(0, count)
        ax.set_ylim(count, 0)
        ax.set_aspect("equal")
        ticks = [k + 0.5 for k in range(count)]
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
        ax.set_xticklabels(names, rotation=45, ha="right", rotation_mode="anchor", fontsize=size, parse_math=False)
        ax.set_yticklabels(names, fontsize=size, parse_math=False)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        fig.suptitle(title, fontsize=14, fontweight="bold", y=0.97)
        fig.text(0.5, 0.915, "Joint initiatives of each pair of functions", ha="center", fontsize=10, color="#444444", parse_math=False)
        handles = [
            Patch(facecolor=shade(0.7), edgecolor=canvas.GREY, label=legend[0]),
            Patch(facecolor="white", edgecolor=canvas.RED, linewidth=2.5, label=legend[1]),
            Patch(facecolor="white", edgecolor=canvas.GREY, hatch="///", label=legend[2]),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=1, frameon=False, fontsize=10, bbox_to_anchor=(0.5, 0.0))
        return canvas.png_bytes(fig)


def alt_text(rows: Sequence[PairRow], settings: Settings, today: date) -> str:
    """The picture in words: the troubled pairs first, each pair once."""

    def name(key: str) -> str:
        return settings.functions[key].name if key in settings.functions else key

    order = {STALLED: 0, NEVER: 1, None: 2}
    ranked = sorted(rows, key=lambda row: (order[mark_of(row)], -row.initiatives))
    stalled = sum(1 for row in rows if mark_of(row) == STALLED)
    never = sum(1 for row in rows if mark_of(row) == NEVER)
    head = (
        f"Collaboration matrix of {len(settings.functions)} functions on {today:%d %b %Y}: "
        f"{stalled} stalled pair{'s' if stalled != 1 else ''}, {never} never met."
    )
    parts = [head]
    for shown, row in enumerate(ranked):
        mark = mark_of(row)
        what = f"{row.initiatives} joint initiative{'s' if row.initiatives != 1 else ''}"
        line = f" {name(row.functions[0])} × {name(row.functions[1])}: {what}" + (f", {mark.replace('-', ' ')}" if mark else "") + "."
        rest = len(ranked) - shown
        if len("".join(parts)) + len(line) > ALT_TEXT_LIMIT - 40:
            parts.append(f" …and {rest} more pairs.")
            break
        parts.append(line)
    return "".join(parts)
