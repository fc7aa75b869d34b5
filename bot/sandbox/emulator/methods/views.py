"""views.*: modals (open, push, update) and the Home tab (publish).

A trigger_id is good once, within TRIGGER_TTL seconds of the emulator clock.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from bot.sandbox.emulator.base import EmulatorBase, Methods
from bot.sandbox.emulator.records import ApiError, Args, ViewRecord, invalid_arguments
from bot.sandbox.emulator.validation import view_problems

TRIGGER_TTL = 3.0
APP_ID = "A0CDOHUB"


class ViewMethods(EmulatorBase):
    def _view_methods(self) -> Methods:
        return {
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }

    def _views_open(self, args: Args) -> dict[str, Any]:
        return {"view": self._open_modal(args, "views.open")}

    def _views_push(self, args: Args) -> dict[str, Any]:
        return {"view": self._open_modal(args, "views.push")}

    def _open_modal(self, args: Args, method: str) -> dict[str, Any]:
        trigger_id = str(args.get("trigger_id") or "")
        self._check_trigger(trigger_id)
        view = self._valid_view(args.get("view"), "modal")
        self._triggers[trigger_id] = (self._triggers[trigger_id][0], True)
        stored = self._store_view(view, None)
        self._view_log.append(ViewRecord(method, stored["id"], copy.deepcopy(stored)))
        return stored

    def _views_update(self, args: Args) -> dict[str, Any]:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not view_id and not external_id:
            raise invalid_arguments("view_id or external_id is required")
        key, wanted = ("id", view_id) if view_id else ("external_id", external_id)
        current = next((v for v in self._views.values() if v[key] == wanted), None)
        if current is None:
            raise ApiError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = self._valid_view(args.get("view"), current["type"])
        stored = self._store_view(view, current)
        self._view_log.append(ViewRecord("views.update", stored["id"], copy.deepcopy(stored)))
        return {"view": stored}

    def _views_publish(self, args: Args) -> dict[str, Any]:
        user_id = str(args.get("user_id") or "")
        if self.workspace.user(user_id) is None:
            raise ApiError("user_not_found")
        view = self._valid_view(args.get("view"), "home")
        current = self._homes.get(user_id)
        if current and args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        stored = self._store_view(view, current)
        self._homes[user_id] = stored
        return {"view": stored}

    def _check_trigger(self, trigger_id: str) -> None:
        entry = self._triggers.get(trigger_id)
        if entry is None:
            raise ApiError("invalid_trigger_id")
        issued_at, used = entry
        if used:
            raise ApiError("exchanged_trigger_id")
        if self.clock() - issued_at > TRIGGER_TTL:
            raise ApiError("expired_trigger_id")

    def _valid_view(self, view: Any, kind: str) -> dict[str, Any]:
        problems = view_problems(view, kind)
        if problems:
            raise invalid_arguments(*problems)
        return view

    def _store_view(self, view: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        """Give the view Slack's server-side fields; updates keep the view id."""
        if current is None:
            self._view_seq += 1
            view_id = f"V0EMU{self._view_seq:05d}"
        else:
            view_id = current["id"]
        ws = self.workspace
        stored = {
            "callback_id": "",
            "external_id": "",
            "private_metadata": "",
            **copy.deepcopy(view),
            "id": view_id,
            "team_id": ws.team_id,
            "app_id": APP_ID,
            "bot_id": ws.bot_id,
            "state": {"values": {}},
            "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "root_view_id": view_id,
            "previous_view_id": None,
        }
        self._views[view_id] = stored
        return copy.deepcopy(stored)
