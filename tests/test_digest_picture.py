"""The matrix picture that follows each weekly digest into its recipient's DM: once, after the
text, with its words as alt text; a failed upload never stops or doubles the text, and an
upload Slack completed before its sender died is not sent again."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.app import digest_picture, outbox
from bot.app.delivery import send_due
from bot.app.digest_picture import PICTURE
from bot.core import outbox as box
from bot.db import transaction
from bot.models import Outbox
from bot.pictures import matrix
from tests.nudge_world import World, paris

READERS = ("U0CEO", "U0CDO")


def files_in(world: World, user: str) -> list[dict]:
    return [f for m in world.emulator.dms(user) for f in m.files or ()]


def picture_rows(world: World) -> list[Outbox]:
    with world.hub.sessions() as session:
        return list(session.scalars(select(Outbox).where(Outbox.kind == PICTURE).order_by(Outbox.id)))


def test_each_digest_is_followed_by_its_matrix_picture_once(world):
    world.propose(paris(2, 10))  # Monday 2 March 2026, in working hours
    world.digest(paris(2, 10, 5))
    for user in READERS:
        messages = world.emulator.dms(user)
        assert len(world.digests(user)) == 1
        assert messages[-1].files and not messages[0].files  # the words first, then the picture
        [shared] = files_in(world, user)
        assert shared["name"] == "cdo-hub-matrix-2026-W10.png"
        assert shared["alt_txt"].startswith("Collaboration matrix of 3 functions on 02 Mar 2026")
        assert "Marketing × IT: 1 joint initiative" in shared["alt_txt"]
    [stored] = world.emulator.uploads(world.emulator.dms("U0CEO")[0].channel)
    assert stored.data is not None and stored.data.startswith(b"\x89PNG")
    world.digest(paris(2, 11))  # run again the same week: nothing more
    assert all(len(files_in(world, user)) == 1 and len(world.digests(user)) == 1 for user in READERS)
    assert [row.status for row in picture_rows(world)] == ["sent", "sent"]


def test_the_week_s_matrix_is_drawn_once_for_all_its_readers(world, monkeypatch):
    drawn: list[date] = []
    real_draw = matrix.draw

    def draw(rows, settings, day):
        drawn.append(day)
        return real_draw(rows, settings, day)

    monkeypatch.setattr(matrix, "draw", draw)
    monkeypatch.setattr(digest_picture, "_drawing", digest_picture.LastDrawn())
    world.propose(paris(2, 10))
    world.digest(paris(2, 10, 5))
    pictures = [world.emulator.uploads(world.emulator.dms(user)[0].channel) for user in READERS]
    assert [len(files) for files in pictures] == [1, 1] and pictures[0][0].data == pictures[1][0].data
    assert drawn == [date(2026, 3, 2)]
    # The next week's matrix is another picture, drawn once again for both.
    world.propose(paris(9, 10))
    world.digest(paris(9, 10, 5))
    assert drawn == [date(2026, 3, 2), date(2026, 3, 9)]
    assert all(len(files_in(world, user)) == 2 for user in READERS)


def test_a_failed_upload_leaves_the_text_digest_alone(world):
    world.emulator.fail("files.completeUploadExternal", "channel_not_found", times=10)
    world.digest(paris(2, 10, 5))
    world.digest(paris(2, 11))
    for user in READERS:
        assert len(world.digests(user)) == 1 and files_in(world, user) == []
    assert [row.status for row in picture_rows(world)] == ["failed", "failed"]


def test_an_upload_completed_before_its_sender_died_is_not_sent_again(world):
    world.digest(paris(2, 10, 5))
    with transaction(world.hub.sessions) as session:  # as if the sender died before writing it down
        for row in session.scalars(select(Outbox).where(Outbox.kind == PICTURE)):
            row.status, row.error, row.sent_at = box.PENDING, box.IN_FLIGHT, None
    world.clock.set(paris(2, 10, 10))
    outbox.drain(world.hub)
    assert all(len(files_in(world, user)) == 1 for user in READERS)
    assert [row.status for row in picture_rows(world)] == ["sent", "sent"]
    assert world.emulator.calls_to("files.list")


def test_a_digest_deferred_to_working_hours_takes_its_picture_along(world):
    world.digest(paris(7, 10))  # Saturday: both wait for Monday
    assert all(world.emulator.dms(user) == [] for user in READERS)
    assert [row.status for row in picture_rows(world)] == ["pending", "pending"]
    outbox.drain(world.hub)  # the picture does not go before its text
    assert all(files_in(world, user) == [] for user in READERS)
    world.clock.set(paris(9, 9, 30))
    send_due(world.hub)
    outbox.drain(world.hub)
    for user in READERS:
        messages = world.emulator.dms(user)
        assert len(messages) == 2 and not messages[0].files and messages[1].files
