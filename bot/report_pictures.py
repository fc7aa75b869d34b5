"""`cdo-hub report matrix` and `cdo-hub report roadmap --pair KEY,KEY`: the reports that
have a picture.

- matrix: the function × function heatmap as PNG (`--format png`), or its figures as a
  table or JSON (those of `report pairs`);
- roadmap: a couple's open initiatives and commitments month by month, as a table, JSON (one
  object per month: `month`, `initiatives`, `commitments`) or a PNG timeline.
"""

from __future__ import annotations

import sys
from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import roadmap as roadmaps
from bot.core.calendar import local_day
from bot.core.digest import pair_rows
from bot.core.naming import find_pair
from bot.reports import render

PICTURED = ("matrix", "roadmap")
FORMATS = {"matrix": ("png", "table", "json"), "roadmap": ("table", "json", "png")}


class ReportError(ValueError):
    """Arguments that make no report: said in one line."""


def pair_of(settings: Settings, text: str | None) -> tuple[str, str]:
    known = ", ".join(settings.functions)
    if not text:
        raise ReportError(f"report roadmap needs --pair KEY,KEY (functions: {known})")
    pair = find_pair(settings, text, ",")
    if pair is None:
        raise ReportError(f"--pair {text!r} does not name two different functions (functions: {known})")
    return pair


def produce(session: Session, settings: Settings, now: datetime, subject: str, fmt: str, pair_text: str | None = None) -> bytes | str:
    """The report: PNG bytes, or text."""
    if fmt not in FORMATS[subject]:
        raise ReportError(f"report {subject} has no --format {fmt} (choose {', '.join(FORMATS[subject])})")
    if subject == "matrix":
        rows = pair_rows(session, settings, now)
        if fmt == "png":
            from bot.pictures import matrix

            return matrix.draw(rows, settings, local_day(now, settings.tz)).png
        return render([row.as_report() for row in rows], fmt)
    pair = pair_of(settings, pair_text)
    found = roadmaps.build(session, settings, now, pair)
    if fmt == "png":
        from bot.pictures import roadmap

        return roadmap.draw(found, settings).png
    if fmt == "json":
        return render(found.as_report(), "json")
    return roadmap_table(found, settings)


def roadmap_table(found: roadmaps.Roadmap, settings: Settings) -> str:
    names = [settings.functions[key].name for key in found.functions]
    lines = [f"Roadmap of {names[0]} × {names[1]} as of {found.today.isoformat()}"]
    for month in found.months:
        lines.append("")
        lines.append(f"{month.key}:")
        if month.empty:
            lines.append("  (nothing)")
        for item in month.initiatives:
            lines.append(f"  initiative #{item.id}  target {item.target_date.isoformat()}  {item.status:<8}  {item.title[:70]}")
        for c in month.commitments:
            ends = f"{c.from_function} -> {c.to_function}"
            lines.append(
                f"  commitment #{c.id}  due {c.due.isoformat()}  {c.status:<9}  {ends}: {c.what[:60]}  (initiative #{c.initiative_id})"
            )
    if found.later or found.undated:
        lines += ["", f"Not shown: {found.later} dated after these months, {found.undated} initiatives without a target date."]
    return "\n".join(lines)


def write_output(output: bytes | str, path: str | None) -> None:
    """To FILE (said on stderr), else to stdout as it is."""
    data = output if isinstance(output, bytes) else (output + "\n").encode()
    if path is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        with open(path, "wb") as out:
            out.write(data)
    except OSError as error:
        raise ReportError(f"could not write {path}: {error.strerror or error}") from None
    print(f"wrote {path} ({len(data)} bytes)", file=sys.stderr)
