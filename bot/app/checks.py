"""`cdo-hub check-config` against Slack: do the channels and users of the file exist? Each
email that matches nobody, or a deactivated account, is named with its line."""

from __future__ import annotations

from bot.app.emails import EmailBook, problem_of
from bot.app.hub import Hub
from bot.config import is_email


class SlackUnreachable(Exception):
    """Slack did not answer (connection refused, timed out, server errors after the retries):
    every other check would only wait as long again, so the check stops at the first one."""


def check_workspace(hub: Hub) -> list[str]:
    settings = hub.settings
    directory = hub.directory
    problems: list[str] = []
    channels = {"hub.channel": settings.hub.channel}
    channels.update({f"functions.{f.key}.channel": f.channel for f in settings.functions.values()})
    for key, channel in channels.items():
        found = directory.channel(channel)
        if found is None:
            problems.append(f"{key}: channel {channel} was not found in the workspace")
        elif found.get("is_archived"):
            problems.append(f"{key}: channel {channel} is archived")
        elif not found.get("is_member") and found.get("is_private"):
            problems.append(f"{key}: the bot is not in private channel {channel}: invite it with /invite @CDO Hub")
    book = EmailBook(hub.gateway)
    users = set()
    for key, person in settings.people():
        if not is_email(person):
            users.add((key, person))
            continue
        problem = problem_of(book.find(person))
        if problem:
            problems.append(f"{settings.where(key)}: {key}: {problem}")
    for key, user in sorted(users):
        info = directory.user(user)
        if info is None:
            problems.append(f"{key}: user {user} was not found in the workspace")
        elif info.deleted:
            problems.append(f"{key}: user {user} is deactivated")
    return problems
