"""files.*: external uploads as Slack takes them, in three steps.

1. `files.getUploadURLExternal` (filename, length in bytes, optional alt_txt) gives a file ID
   and an upload URL on the emulator (`/upload/<file id>`);
2. the bytes are POSTed to that URL: exactly `length` of them, else HTTP 400;
3. `files.completeUploadExternal` (files: JSON list of `{id, title}`, optional channel_id and
   thread_ts) shares them: a message carrying the files in the channel (or the thread). An
   unknown file, or one whose bytes never arrived, is `file_not_found`; a channel the bot
   cannot see is `channel_not_found`; without a channel the file stays private.

`files.list` (channel, ts_from) lists the files shared in a channel, newest first.
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.emulator.base import EmulatorBase, Methods
from bot.sandbox.emulator.records import ApiError, Args, Outcome, invalid_arguments
from bot.sandbox.workspace import Message

MAX_BYTES = 1_000_000_000  # Slack's limit on one file


@dataclass
class StoredFile:
    id: str
    name: str
    length: int
    alt_txt: str | None
    created: float
    data: bytes | None = None  # None until the bytes are uploaded
    title: str | None = None
    channels: list[str] = field(default_factory=list)
    shares: list[tuple[str, str]] = field(default_factory=list)  # (channel, ts of its message)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title or self.name,
            "size": self.length,
            "alt_txt": self.alt_txt,
            "created": int(self.created),
            "channels": list(self.channels),
            "mimetype": "image/png" if self.name.endswith(".png") else "application/octet-stream",
        }


class FileMethods(EmulatorBase):
    def _file_methods(self) -> Methods:
        self._files: dict[str, StoredFile] = {}
        return {
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "files.list": self._files_list,
        }

    def _upload_base(self) -> str:  # the server's address (server.py)
        raise NotImplementedError

    def _get_upload_url(self, args: Args) -> dict[str, Any]:
        name = str(args.get("filename") or "")
        raw = str(args.get("length") or "")
        if not name:
            raise invalid_arguments("missing required field: filename")
        if not raw.isdigit() or not 0 < int(raw) <= MAX_BYTES:
            raise invalid_arguments("length must be a positive number of bytes [json-pointer:/length]")
        alt = str(args.get("alt_txt") or "") or None
        if alt is not None and len(alt) > 1000:
            raise invalid_arguments("alt_txt must be at most 1000 characters [json-pointer:/alt_txt]")
        file_id = f"F{secrets.token_hex(5).upper()}"
        self._files[file_id] = StoredFile(file_id, name, int(raw), alt, self.clock())
        return {"upload_url": f"{self._upload_base()}/upload/{file_id}", "file_id": file_id}

    def _receive_upload(self, file_id: str, body: bytes) -> Outcome:
        """Step 2, the POST of the bytes (called by the server, lock held)."""
        stored = self._files.get(file_id)
        if stored is None or stored.channels:
            return 404, {}, {"ok": False, "error": "file_not_found"}
        if len(body) != stored.length:
            return 400, {}, {"ok": False, "error": f"expected {stored.length} bytes, got {len(body)}"}
        stored.data = body
        return 200, {}, {"ok": True}

    def _complete_upload(self, args: Args) -> dict[str, Any]:
        try:
            wanted = json.loads(str(args.get("files") or ""))
        except ValueError:
            raise invalid_arguments("files must be a JSON list [json-pointer:/files]") from None
        if not isinstance(wanted, list) or not wanted or not all(isinstance(item, dict) and item.get("id") for item in wanted):
            raise invalid_arguments("files must be a list of {id, title} [json-pointer:/files]")
        found = []
        for item in wanted:
            stored = self._files.get(str(item["id"]))
            if stored is None or stored.data is None:
                raise ApiError("file_not_found")
            found.append((stored, item.get("title")))
        channel = self._channel_by_id(args, "channel_id") if args.get("channel_id") else None
        thread_ts = str(args.get("thread_ts") or "") or None
        if channel is not None and thread_ts and self._find_message(channel, thread_ts) is None:
            raise ApiError("thread_not_found")
        for stored, title in found:
            stored.title = str(title) if title else stored.name
        if channel is not None:
            ts = self._next_ts()
            files = [stored.to_api() for stored, _ in found]
            message = Message(channel.id, ts, self.workspace.bot_user_id, str(args.get("initial_comment") or ""), thread_ts=thread_ts)
            message.files = files
            self.workspace.messages[channel.id].append(message)
            for stored, _ in found:
                stored.channels.append(channel.id)
                stored.shares.append((channel.id, ts))
        return {"files": [stored.to_api() for stored, _ in found]}

    def _files_list(self, args: Args) -> dict[str, Any]:
        channel = self._channel_by_id(args) if args.get("channel") else None
        since = float(str(args.get("ts_from") or 0) or 0)
        listed = [
            stored.to_api()
            for stored in sorted(self._files.values(), key=lambda f: f.created, reverse=True)
            if stored.channels and (channel is None or channel.id in stored.channels) and stored.created >= since
        ]
        return {"files": listed, "paging": {"count": len(listed), "total": len(listed), "page": 1, "pages": 1}}

    # ---- inspection (server.py takes the lock) ------------------------------

    def _uploaded(self, channel_id: str | None = None) -> list[StoredFile]:
        return [copy.deepcopy(f) for f in self._files.values() if f.channels and (channel_id is None or channel_id in f.channels)]
