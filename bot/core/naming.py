"""Functions as people name them: by key (`marketing`), name (`Marketing`) or channel
(`#marketing`, its ID, or the `<#C123|marketing>` Slack sends for a typed channel)."""

from __future__ import annotations

import re

from bot.config import FunctionConfig, Settings

CHANNEL_MENTION = re.compile(r"^<#(?P<id>[a-z0-9]+)(?:\|(?P<name>[^>]*))?>$")


def find_function(settings: Settings, argument: str) -> FunctionConfig | None:
    wanted = argument.strip().lower()
    escaped = CHANNEL_MENTION.match(wanted)
    if escaped:
        wanted = escaped.group("name") or escaped.group("id")
    for function in settings.functions.values():
        channel = function.channel.lower()
        if wanted in (function.key, function.name.lower(), channel, channel.lstrip("#"), "#" + channel.lstrip("#")):
            return function
        if escaped and escaped.group("id") == channel:
            return function
    return None


def find_pair(settings: Settings, text: str, separator: str | None = None) -> tuple[str, str] | None:
    """Two different functions named in `text`: split at `separator` (`a,b`), or at any space
    (names may hold spaces: `Customer Service it`). None when no split names two functions."""
    if separator is not None:
        parts = [part for part in text.split(separator)]
        splits = [(parts[0], separator.join(parts[1:]))] if len(parts) >= 2 else []
    else:
        words = text.split()
        splits = [(" ".join(words[:cut]), " ".join(words[cut:])) for cut in range(1, len(words))]
    for left, right in splits:
        a, b = find_function(settings, left), find_function(settings, right)
        if a is not None and b is not None and a.key != b.key:
            return a.key, b.key
    return None
