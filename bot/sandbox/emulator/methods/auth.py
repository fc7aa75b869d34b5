"""auth.test: who the bot token belongs to."""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator.base import EmulatorBase, Methods
from bot.sandbox.emulator.records import Args


class AuthMethods(EmulatorBase):
    def _auth_methods(self) -> Methods:
        return {
            "auth.test": self._auth_test,
        }

    def _auth_test(self, args: Args) -> dict[str, Any]:
        ws = self.workspace
        return {
            "url": f"https://{ws.domain}.slack.com/",
            "team": ws.team_name,
            "user": ws.users[ws.bot_user_id].name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }
