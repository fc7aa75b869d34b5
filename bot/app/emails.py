"""People given by email in the configuration become member IDs once, at start.

Each address is asked of Slack (`users.lookupByEmail`) once per process and remembered. The
settings handed to the rest of the hub name members by ID only: an address that matches
nobody is left out (and said in the log; `cdo-hub check-config` names it with its line), and
a deactivated account stays in by its ID, as if the file had named it so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from types import MappingProxyType

from bot.app.port import InstallBroken, SlackPort
from bot.config import Settings, is_email

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    email: str
    user: str | None  # the member ID, None when the address matches nobody
    deleted: bool = False
    error: str | None = None  # why Slack could not say (a transient failure, a broken install)


class EmailBook:
    """Member IDs by email, asked of Slack once each."""

    def __init__(self, gateway: SlackPort) -> None:
        self.gateway = gateway
        self._found: dict[str, Found] = {}

    def find(self, email: str) -> Found:
        key = email.strip().lower()
        if key not in self._found:
            found = self._ask(email)
            if found.error is not None and found.error != "users_not_found":
                return found  # not remembered: asked again next time
            self._found[key] = found
        return self._found[key]

    def _ask(self, email: str) -> Found:
        try:
            result = self.gateway.call("users.lookupByEmail", email=email)
        except InstallBroken as error:
            return Found(email, None, error=f"the bot token does not work ({error})")
        if not result.ok:
            if result.error == "users_not_found":
                return Found(email, None, error="users_not_found")
            return Found(email, None, error=result.error or "no answer")
        user = result.get("user") or {}
        return Found(email, str(user.get("id") or "") or None, deleted=bool(user.get("deleted")))


def problem_of(found: Found) -> str | None:
    """What check-config says of an address, or None when it names an active member."""
    if found.user and found.deleted:
        return f"email {found.email} belongs to a deactivated account ({found.user})"
    if found.user:
        return None
    if found.error == "users_not_found":
        return f"email {found.email} matches nobody in the workspace"
    return f"email {found.email} could not be looked up: {found.error}"


def resolve(settings: Settings, book: EmailBook) -> Settings:
    """`settings` with every email replaced by its member ID (see the module's docstring)."""
    if not any(is_email(person) for _, person in settings.people()):
        return settings

    def ids(key: str, people: tuple[str, ...]) -> tuple[str, ...]:
        resolved: list[str] = []
        for person in people:
            if not is_email(person):
                resolved.append(person)
                continue
            found = book.find(person)
            if found.user:
                resolved.append(found.user)
            else:
                level = logging.WARNING if found.error == "users_not_found" else logging.ERROR
                log.log(level, "%s: %s: %s; left out (run `cdo-hub check-config`)", settings.where(key), key, problem_of(found))
        return tuple(dict.fromkeys(resolved))

    hub = replace(
        settings.hub,
        staff=ids("hub.staff", settings.hub.staff),
        executives=ids("hub.executives", settings.hub.executives),
        admins=ids("hub.admins", settings.hub.admins),
    )
    functions = {
        name: replace(
            function,
            leads=ids(f"functions.{name}.leads", function.leads),
            members=ids(f"functions.{name}.members", function.members),
        )
        for name, function in settings.functions.items()
    }
    for name, function in functions.items():
        if not function.leads:
            log.error("functions.%s.leads: no lead could be found in Slack; the pair nudges of %s reach nobody", name, function.name)
    return replace(settings, hub=hub, functions=MappingProxyType(functions))
