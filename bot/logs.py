"""Logging: plain text or one JSON object a line, with what the line is about, and no secrets.

What a line is about lives in context variables: the Slack request being handled (`event_id`,
`user`, set by the app's dispatch), the initiative a use case works on (`initiative_id`) and the
Web API method being called (`slack_method`, set by the gateway). Listener threads inherit them
(bot/slack/listener_threads.py copies the request's context into each listener's thread).

`Redacting` is the backstop: every secret of the settings is replaced by `[redacted]` in each
line, whatever wrote it (a URL with a password, a token in an exception from a library).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import make_url

CONTEXT: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"cdo_hub_{name}", default=None) for name in ("event_id", "initiative_id", "slack_method", "user")
}
FORMATS = ("text", "json")
REDACTED = "[redacted]"


@contextmanager
def about(**values: object) -> Iterator[None]:
    """Log lines written inside carry these fields (event_id, initiative_id, slack_method, user)."""
    tokens = [(CONTEXT[name], CONTEXT[name].set(str(value))) for name, value in values.items() if value is not None]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def slack_method(method: str) -> Any:
    return about(slack_method=method)


def current() -> dict[str, str]:
    return {name: value for name, variable in CONTEXT.items() if (value := variable.get()) is not None}


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, the context that is known, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(current())
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        known = current()
        return text + ("  [" + " ".join(f"{k}={v}" for k, v in known.items()) + "]" if known else "")


class Redacting(logging.Formatter):
    """Another formatter's finished line (message, arguments and traceback), with each secret
    replaced. The record itself is left alone: other handlers see it as it was."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def secrets_of(settings: Any) -> list[str]:
    """The bot token, signing secret, app token and database password of `settings`."""
    found = [settings.slack.bot_token, settings.slack.signing_secret, settings.slack.app_token]
    with contextlib.suppress(Exception):  # a URL SQLAlchemy cannot read has no password to hide from it
        password = make_url(settings.database_url).password
        if password:
            # As read, and as written in a URL: "p@ss/word" shows as "p%40ss%2Fword" there.
            found += [str(password), quote(str(password), safe="")]
    return list(dict.fromkeys(str(s) for s in found if s))


class _HubHandler(logging.StreamHandler):
    """The handler `configure` installs, told apart from anyone else's."""


def configure(log_format: str, level: int) -> None:
    """The root handler, in `log_format`; `protect` adds the secrets once settings are known.
    Like logging.basicConfig, it leaves a root logger that already has someone else's
    handlers (a test runner's) as it is."""
    root = logging.getLogger()
    foreign = [h for h in root.handlers if not isinstance(h, _HubHandler)]
    if foreign:
        return
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = _HubHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def protect(secrets: Iterable[str]) -> None:
    """The hub's handler redacts `secrets` from now on."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _HubHandler) and handler.formatter is not None:
            inner = handler.formatter.inner if isinstance(handler.formatter, Redacting) else handler.formatter
            handler.setFormatter(Redacting(inner, secrets))
