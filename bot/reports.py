"""`cdo-hub report initiatives|pairs|commitments|obstacles --format table|csv|json`.

Each report is a list of plain dicts (the JSON fields README lists); table and CSV flatten
nested values. A row that cannot be reported is logged with its ID and left out: one bad row
never stops a report."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.config import Settings
from bot.core import initiatives, introductions, obstacles, rules
from bot.core.calendar import local_day
from bot.core.digest import pairs_report
from bot.core.pairs import ordered_pair
from bot.models import Commitment, Initiative, Nudge

log = logging.getLogger(__name__)

Report = Callable[[Session, Settings, datetime], list[dict[str, Any]]]


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def commitment_row(commitment: Commitment) -> dict[str, Any]:
    return {
        "id": commitment.id,
        "initiative_id": commitment.initiative_id,
        "from": commitment.from_function,
        "to": commitment.to_function,
        "owner": commitment.owner,
        "what": commitment.what,
        "due": _iso(commitment.due),
        "status": commitment.status,
        "requested_by": commitment.requested_by,
    }


def initiatives_report(session: Session, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    sent = dict(
        session.execute(
            select(Nudge.pair_id, func.count()).where(Nudge.status == "sent", Nudge.pair_id.is_not(None)).group_by(Nudge.pair_id)
        ).all()
    )
    rows = []
    for initiative in initiatives.everything(session):
        try:
            rows.append(_initiative_row(initiative, sent))
        except Exception:  # this initiative, not the report
            log.exception("initiative %s left out of the report", initiative.id)
    return rows


def _initiative_row(initiative: Initiative, sent: dict[int | None, int]) -> dict[str, Any]:
    return {
        "id": initiative.id,
        "title": initiative.title,
        "status": initiative.status,
        "journey": initiative.journey,
        "functions": initiative.function_keys,
        "proposer": initiative.proposer,
        "sponsor": initiative.sponsor,
        "target_date": _iso(initiative.target_date),
        "created_at": _iso(initiative.created_at),
        "routes": {f.function_key: f.route_status for f in initiative.functions},
        "pairs": [
            {
                "functions": list(pair.functions),
                "state": pair.state,
                "last_joint_activity_at": _iso(pair.last_joint_activity_at),
                "nudges": sent.get(pair.id, 0),
            }
            for pair in initiative.pairs
        ],
        "commitments": [commitment_row(c) for c in initiative.commitments],
    }


def commitments_report(session: Session, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    today = local_day(now, settings.tz)  # the hub's day, as in the digest
    rows = []
    for commitment in session.scalars(select(Commitment).options(selectinload(Commitment.initiative)).order_by(Commitment.id)):
        try:
            rows.append({**commitment_row(commitment), "overdue": rules.is_overdue(commitment, today)})
        except Exception:  # this commitment, not the report
            log.exception("commitment %s left out of the report", commitment.id)
    return rows


def pairs_with_introductions(session: Session, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """`report pairs`, each pair with when it was last introduced and the idea it was offered."""
    introduced = introductions.latest_by_pair(session)
    rows = []
    for row in pairs_report(session, settings, now):
        found = introduced.get(ordered_pair(*row["functions"]), {})
        rows.append({**row, "introduced_at": found.get("introduced_at"), "introduction": found.get("introduction")})
    return rows


REPORTS: dict[str, Report] = {
    "initiatives": initiatives_report,
    "pairs": pairs_with_introductions,
    "commitments": commitments_report,
    "obstacles": obstacles.report,
}


# --- rendering -----------------------------------------------------------------------------


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "+".join(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False)
    if not rows:
        return "" if fmt == "csv" else "(nothing to report)"
    columns = list(rows[0])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_flat(row.get(c)) for c in columns] for row in rows])
        return out.getvalue().rstrip("\n")
    # A table shows the scalar columns; nested details are for JSON and CSV.
    # A list of IDs (an obstacle's initiatives) shows as how many there are.
    counted = {c for c in columns if c == "initiatives" and isinstance(rows[0][c], list)}
    columns = [c for c in columns if not isinstance(rows[0][c], (list, dict)) or c in ("functions", "journeys") or c in counted]
    cells = [[(str(len(row[c])) if c in counted else _flat(row.get(c)))[:60] for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)
