"""A local HTTP emulator of the Slack Web API.

It answers like Slack does (ok/error bodies, 404 for unknown methods, 429 with
Retry-After, 5xx) so code under test meets real failure modes, and it records
every call so tests can assert on what the bot did. Point slack_sdk at it with
``WebClient(token="xoxb-sandbox", base_url=emu.base_url)``.

The bot token acts as the bot user ``UBOT`` / bot ``BBOT`` of the workspace.
Conversation methods take channel IDs; chat.postMessage and chat.postEphemeral
also take "#name"/"name" and a user ID (meaning the bot's DM with that user).

Where things live:
  server.py      Emulator: HTTP server, lifecycle, auth, injected faults, rate
                 limits, response URLs, seeding and inspection helpers
  methods/       the Web API methods, one module per family (auth, chat,
                 conversations, users, views)
  base.py        state the families share and their common helpers
  validation.py  block and view checks, request argument parsing
  records.py     Call, Ephemeral, ViewRecord, ResponsePost and ApiError
"""

from bot.sandbox.emulator.holds import Hold
from bot.sandbox.emulator.records import ApiError, Args, Call, Ephemeral, Outcome, ResponsePost, ViewRecord
from bot.sandbox.emulator.server import Emulator
from bot.sandbox.emulator.validation import MESSAGE_BLOCK_LIMIT, VIEW_BLOCK_LIMIT, block_problems

__all__ = [
    "MESSAGE_BLOCK_LIMIT",
    "VIEW_BLOCK_LIMIT",
    "ApiError",
    "Args",
    "Call",
    "Emulator",
    "Ephemeral",
    "Hold",
    "Outcome",
    "ResponsePost",
    "ViewRecord",
    "block_problems",
]
