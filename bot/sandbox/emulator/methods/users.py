"""users.*: one user's profile (by ID or by email) and the member list."""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator.base import EmulatorBase, Methods
from bot.sandbox.emulator.records import ApiError, Args


class UserMethods(EmulatorBase):
    def _user_methods(self) -> Methods:
        return {
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
        }

    def _users_info(self, args: Args) -> dict[str, Any]:
        user = self.workspace.user(str(args.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": user.to_api()}

    def _users_list(self, args: Args) -> dict[str, Any]:
        users = [u.to_api() for u in sorted(self.workspace.users.values(), key=lambda u: u.id)]
        return self._page(users, args, "members")

    def _users_lookup_by_email(self, args: Args) -> dict[str, Any]:
        """As Slack answers: users_not_found for an address nobody has, and a deactivated
        account is returned like any other, with deleted=true."""
        user = self.workspace.user_by_email(str(args.get("email") or ""))
        if user is None:
            raise ApiError("users_not_found")
        return {"user": user.to_api()}
