"""The matrix picture that follows each weekly digest into its recipient's DM.

It is owed in the outbox (bot/core/outbox.py) in the transaction that claims the digest, under
`digest-picture:{ISO week}:{user}`, with the matrix the digest's text was written from: so it
is recorded once, sent once, and a kill delays it, never doubles it (an upload Slack completed
before its sender died is found by its file name, `files.list`). It waits until the digest's
text is out, so it comes after the words; when the text is never sent, neither is the picture.
Its upload failing never touches the text, which went out on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app.hub import Hub
from bot.app.owed import Kind, Message, Upload, Wait
from bot.config import Settings
from bot.core import nudge_claims as claims
from bot.core import outbox as box
from bot.core.digest import Digest, PairRow
from bot.models import Nudge, Outbox

if TYPE_CHECKING:
    from bot.pictures.matrix import MatrixPicture

PICTURE = "digest_picture"


def picture_key(week: str, user: str) -> str:
    return f"digest-picture:{week}:{user}"


def filename(week: str) -> str:
    return f"cdo-hub-matrix-{week}.png"


def owe_picture(session: Session, digest: Digest, user: str, digest_key: str, now: datetime) -> list[str]:
    """Record the picture for `user`'s digest (claimed under `digest_key`) in this transaction."""
    key = picture_key(digest.week, user)
    matrix = [[row.functions[0], row.functions[1], row.initiatives, row.state] for row in digest.matrix]
    box.record(session, key, PICTURE, now, week=digest.week, user=user, digest=digest_key, day=digest.today.isoformat(), matrix=matrix)
    return [key]


def _rows(payload: dict[str, Any]) -> list[PairRow]:
    return [PairRow((str(a), str(b)), int(count), 0, 0, 0, None, str(state)) for a, b, count, state in payload.get("matrix") or []]


def _prepare(hub: Hub, session: Session, row: Outbox) -> Message | None:
    payload = row.payload or {}
    text = session.scalar(select(Nudge).where(Nudge.key == str(payload.get("digest"))))
    if text is None or text.status in (claims.FAILED, claims.CANCELLED):
        return None  # no digest went out: no picture either
    if text.status == claims.CLAIMED:  # after the words: when the digest's turn comes
        raise Wait(max(text.not_before, hub.clock.now() + timedelta(seconds=5)))
    week = str(payload.get("week"))
    drawn = _drawing.draw(_rows(payload), hub.settings, date.fromisoformat(str(payload.get("day"))))
    upload = Upload(drawn.png, filename(week), f"Who works with whom — week {week}", drawn.alt_text)
    return Message(str(payload.get("user")), drawn.alt_text, upload=upload)


class LastDrawn:
    """Every recipient of a week's digest gets the same matrix: it is drawn once in a process
    (0.07 s of CPU for three functions, more with more), not once per DM. The last picture is
    kept, under what it was drawn from: the matrix, the day, and the functions' names and the
    never-met days it shows. One drawing at a time: two DMs prepared at once wait for one
    picture rather than draw it twice."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[Hashable, MatrixPicture] | None = None

    def draw(self, rows: list[PairRow], settings: Settings, day: date) -> MatrixPicture:
        from bot.pictures import matrix

        names = tuple((key, function.name) for key, function in settings.functions.items())
        key = (tuple(rows), day, names, settings.digest.never_met_days)
        with self._lock:
            if self._last is None or self._last[0] != key:
                self._last = (key, matrix.draw(rows, settings, day))
            return self._last[1]


_drawing = LastDrawn()

KINDS = {PICTURE: Kind(_prepare)}
