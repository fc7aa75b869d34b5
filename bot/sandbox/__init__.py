"""Local stand-ins for Slack: a Web API emulator and a signed-request sender."""

from bot.sandbox.emulator import Call, Emulator
from bot.sandbox.signed import Response, SignedSender
from bot.sandbox.workspace import Channel, Message, User, Workspace

__all__ = ["Call", "Channel", "Emulator", "Message", "Response", "SignedSender", "User", "Workspace"]
