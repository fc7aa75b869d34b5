"""When the weekly digest is owed, read from the hub's own claims so that any process can tell.

The digest's moment is `[digest] day` at `[digest] time` in the hub's time zone, in the ISO
week that `now` falls in there. From that moment until the week ends the digest is due while
some recipient (each executive and hub staff member) has no claim `digest:{week}:{user}` in
`nudges`. A claim is taken before the message is sent and the sender completes it later, so a
claimed digest is no longer due even if it waits for its recipient's working hours.

Recipients that Slack reported as deactivated or bots (the `slack_users` cache) are not
counted: the digest is never claimed for them, and they would keep it due all week.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.config import DAYS, Settings
from bot.core.calendar import local_day, local_moment
from bot.core.digest import iso_week
from bot.models import Nudge, SlackUser


def digest_recipients(settings: Settings) -> list[str]:
    """Executives, then hub staff, each once."""
    return list(dict.fromkeys([*settings.hub.executives, *settings.hub.staff]))


def digest_key(week: str, user: str) -> str:
    return f"digest:{week}:{user}"


def digest_moment(settings: Settings, now: datetime) -> datetime:
    """This week's digest moment (aware UTC); the week runs Monday to Sunday in the hub's zone."""
    today = local_day(now, settings.tz)
    day = today - timedelta(days=today.weekday()) + timedelta(days=DAYS.index(settings.digest.day))
    return local_moment(day, settings.digest.time, settings.tz)


def digest_due(session: Session, settings: Settings, now: datetime) -> bool:
    """This week's moment has passed and some recipient has no claim on this week's digest."""
    if now < digest_moment(settings, now):
        return False
    recipients = digest_recipients(settings)
    gone = set(
        session.scalars(select(SlackUser.user_id).where(SlackUser.user_id.in_(recipients), or_(SlackUser.deleted, SlackUser.is_bot)))
    )
    week = iso_week(now, settings)
    keys = {digest_key(week, user) for user in recipients if user not in gone}
    if not keys:
        return False
    claimed = session.scalar(select(func.count()).select_from(Nudge).where(Nudge.key.in_(keys))) or 0
    return claimed < len(keys)
