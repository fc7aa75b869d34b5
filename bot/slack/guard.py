"""The shape of what Slack sends, checked before any listener runs.

A request that passes the signature check comes from Slack, but it can still be damaged or of
a shape no listener expects: a button of an older version of the hub, a value cut short, an
action list that is empty, an event without its channel. Listeners read payloads directly
(`body["actions"][0]`, `load(CommitmentRef, value)`) because everything here has made sure they
can: a request that does not fit gets a polite answer where the person can see one, and one
warning line in the log, never an exception.

- interactivity with a `response_url` (buttons, message shortcuts): an ephemeral "sorry",
  sent after the answer to Slack; without one, a 400;
- a form (view_submission): the modal is replaced by one saying it could not be read;
- a slash command: the answer itself is the ephemeral "sorry";
- an event, or a kind of request the hub does not handle: a 400.

`web.py` runs the same check before Bolt, because some of Bolt's own middleware trips over a
malformed body before any global middleware of ours would run; the middleware here covers
Socket Mode. Listeners that raise `BadValue` themselves (a value type the table below does not
know yet) end in `on_error`, which answers the same way.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.context.respond import Respond
from slack_bolt.middleware import Middleware

from bot.config import Settings
from bot.slack import blocks as bk
from bot.slack.ids import (
    MESSAGE_TS,
    SLACK_ID,
    Action,
    BadValue,
    CommitmentRef,
    DateOffer,
    IntroductionRef,
    NudgeRef,
    ObstacleMenu,
    ObstaclesMeta,
    StatusChoice,
    View,
    load,
    load_first,
)
from bot.slack.listener_threads import answered
from bot.slack.listeners.events.thread_reply import REPLY_SUBTYPES
from bot.slack.messages import InitiativeRef
from bot.slack.modals import ChangeMeta, CommitMeta, ProposeMeta

log = logging.getLogger(__name__)

PRINTABLE = re.compile(r"[!-~]{1,300}")  # trigger and view IDs: printable ASCII, no spaces
EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # kept as the claim's key (String(64))

# The typed value each button carries, and the metadata of each form (see ids.py).
BUTTON_VALUES: dict[str, type] = {
    Action.COMMIT.value: InitiativeRef,
    Action.COMMITMENT_DONE.value: CommitmentRef,
    Action.COMMITMENT_SLIP.value: CommitmentRef,
    Action.COMMITMENT_BLOCKED.value: CommitmentRef,
    Action.REQUEST_ACCEPT.value: CommitmentRef,
    Action.REQUEST_OTHER_DATE.value: CommitmentRef,
    Action.REQUEST_DECLINE.value: CommitmentRef,
    Action.REQUEST_ACCEPT_DATE.value: DateOffer,
    Action.NUDGE_ON_IT.value: NudgeRef,
    Action.NUDGE_SNOOZE.value: NudgeRef,
    Action.NUDGE_BLOCKED.value: NudgeRef,
    Action.NUDGE_AGAIN.value: NudgeRef,
    Action.INTRODUCTION_PROPOSE.value: IntroductionRef,
    Action.INTRODUCTION_NOT_NOW.value: IntroductionRef,
}
# The hub card's menu carries a status chosen, or the wish to change the obstacles.
OPTION_VALUES: dict[str, tuple[type, ...]] = {Action.INITIATIVE_STATUS.value: (StatusChoice, ObstacleMenu)}
FORM_METADATA: dict[str, type] = {
    View.PROPOSE.value: ProposeMeta,
    View.COMMIT.value: CommitMeta,
    View.SLIP.value: ChangeMeta,
    View.BLOCKED.value: ChangeMeta,
    View.OTHER_DATE.value: ChangeMeta,
    View.DECLINE.value: ChangeMeta,
    View.OBSTACLES.value: ObstaclesMeta,
}


def option_value(action_id: str, raw: object) -> object:
    """The typed value of a menu option: the first of its action's types that reads it."""
    return load_first(OPTION_VALUES[action_id], raw)


# Actions taken inside a modal: they read the modal's metadata too.
IN_FORM_ACTIONS: dict[str, type] = {Action.JOURNEY_CHANGED.value: ProposeMeta}

# Top-level keys Bolt itself reads before any middleware of ours, with the types it copes with
# (Slack sends `"enterprise": null` and, for org-wide installs, `"team": null`).
NONE = type(None)
ENVELOPE: dict[str, type | tuple[type, ...]] = {
    "event": dict,
    "user": (dict, NONE),
    "team": (dict, str, NONE),
    "enterprise": (dict, str, NONE),
    "channel": (dict, NONE),
    "view": (dict, NONE),
    "message": (dict, NONE),
    "container": (dict, NONE),
    "actions": (list, NONE),
    "authorizations": (list, NONE),
    "response_urls": list,
    "response_url": (str, NONE),
    "type": str,
}
# Kinds Bolt answers on its own, or that the hub leaves unanswered on purpose.
PASSED_THROUGH = frozenset({"url_verification", "ssl_check", "view_closed", "block_suggestion", "app_rate_limited"})


@dataclass(frozen=True)
class Refusal:
    kind: str  # "block_actions", "view_submission", "command", "event_callback"…
    problem: str  # for the log line: what did not fit


def kind_of(body: dict[str, Any]) -> str:
    if "command" in body:
        return "command"
    if body.get("ssl_check"):
        return "ssl_check"
    kind = body.get("type")
    return kind if isinstance(kind, str) else "unknown"


def inspect(body: object) -> Refusal | None:
    """What does not fit in `body`, or None when every listener can read it."""
    if not isinstance(body, dict):
        return Refusal("unknown", "not a JSON object")
    kind = kind_of(body)
    if kind in PASSED_THROUGH:
        problem = _envelope(body)
    else:
        check = CHECKS.get(kind)
        problem = _envelope(body) or (check(body) if check else "not a kind of request the hub handles")
    return Refusal(kind, problem) if problem else None


# --- checks, one per kind -------------------------------------------------------------------


def _envelope(body: dict[str, Any]) -> str | None:
    for key, expected in ENVELOPE.items():
        if key in body and not isinstance(body[key], expected):
            return f"{key} is not of the expected type"
    for url in body.get("response_urls") or []:
        if not (isinstance(url, dict) and isinstance(url.get("response_url"), str)):
            return "response_urls is not a list of URLs"
    for authorization in body.get("authorizations") or []:
        if not isinstance(authorization, dict):
            return "authorizations is not a list of objects"
    return None


def _text(mapping: dict[str, Any], *keys: str) -> str | None:
    """The first of `keys` present in `mapping` whose value is not text."""
    return next((key for key in keys if mapping.get(key) is not None and not isinstance(mapping[key], str)), None)


def _user(body: dict[str, Any]) -> bool:
    return isinstance(body.get("user"), dict) and _matches(SLACK_ID, body["user"].get("id"))


def _matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _typed(cls: type, raw: object) -> str | None:
    try:
        load(cls, raw)
    except BadValue as error:
        return f"a damaged value ({error})"
    return None


def _message(body: dict[str, Any]) -> str | None:
    message = body.get("message")
    if message is None:
        return None
    if _text(message, "text"):
        return "message text is not text"
    if message.get("ts") is not None and not _matches(MESSAGE_TS, message["ts"]):
        return "a message ts that is not a timestamp"
    blocks = message.get("blocks")
    if blocks is not None and not (isinstance(blocks, list) and all(isinstance(block, dict) for block in blocks)):
        return "message blocks are not a list of blocks"
    return None


def _block_actions(body: dict[str, Any]) -> str | None:
    if not _user(body):
        return "no user id"
    actions = body.get("actions")
    if not actions:
        return "no actions"
    action = actions[0]
    if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
        return "an action without an action_id"
    if not _matches(PRINTABLE, body.get("trigger_id")):
        return "no trigger_id"
    wrong = _text(action, "value", "block_id", "type", "action_ts")
    if wrong:
        return f"the action's {wrong} is not text"
    problem = _message(body)
    if problem:
        return problem
    action_id = action["action_id"]
    selected = action.get("selected_option")
    if selected is not None and not (isinstance(selected, dict) and isinstance(selected.get("value"), str)):
        return "a selected option without a value"
    if action_id in BUTTON_VALUES:
        return _typed(BUTTON_VALUES[action_id], action.get("value"))
    if action_id in OPTION_VALUES:
        try:
            option_value(action_id, (selected or {}).get("value"))
        except BadValue as error:
            return f"a damaged value ({error})"
        return None
    if action_id in IN_FORM_ACTIONS:
        view = body.get("view")
        if view is None or not _matches(PRINTABLE, view.get("id")) or _text(view, "hash", "private_metadata"):
            return "an action in a form without the form"
        return _typed(IN_FORM_ACTIONS[action_id], view.get("private_metadata"))
    return None


def _view_submission(body: dict[str, Any]) -> str | None:
    if not _user(body):
        return "no user id"
    view = body.get("view")
    if view is None:
        return "no view"
    if not isinstance(view.get("callback_id"), str) or _text(view, "id", "hash", "private_metadata"):
        return "a view without a callback_id"
    if view.get("type") != "modal":  # the hub's forms are modals; Bolt reads other types as workflow steps
        return "a view that is not a modal"
    if view.get("state") is not None and not isinstance(view["state"], dict):
        return "a view state that is not an object"
    metadata = FORM_METADATA.get(view["callback_id"])
    return _typed(metadata, view.get("private_metadata")) if metadata else None


def _shortcut(body: dict[str, Any]) -> str | None:
    if not _user(body):
        return "no user id"
    if not _matches(PRINTABLE, body.get("trigger_id")) or not isinstance(body.get("callback_id"), str):
        return "no trigger_id or callback_id"
    channel = body.get("channel")
    if channel is not None and not _matches(SLACK_ID, channel.get("id")):
        return "a channel without an id"
    return _message(body)


def _command(body: dict[str, Any]) -> str | None:
    if not _matches(SLACK_ID, body.get("user_id")):
        return "no user id"
    if not _matches(PRINTABLE, body.get("trigger_id")):
        return "no trigger_id"
    wrong = _text(body, "command", "text", "channel_id", "response_url")
    return f"{wrong} is not text" if wrong else None


def _event(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    if event is None or not isinstance(event.get("type"), str):
        return "no event, or an event without a type"
    if body.get("event_id") is not None and not _matches(EVENT_ID, body["event_id"]):
        return "an event_id that is not an ID"
    wrong = _text(event, "subtype", "channel_type", "tab", "text")
    if wrong:
        return f"the event's {wrong} is not text"
    if event["type"] == "message" and event.get("subtype") in REPLY_SUBTYPES:
        if not _matches(SLACK_ID, event.get("channel")) or not _matches(MESSAGE_TS, event.get("ts")):
            return "a message without its channel or ts"
        if event.get("thread_ts") is not None and not _matches(MESSAGE_TS, event["thread_ts"]):
            return "a thread_ts that is not a timestamp"
        if event.get("user") is not None and not _matches(SLACK_ID, event["user"]):
            return "a message user that is not an ID"
        if event.get("files") is not None and not isinstance(event["files"], list):
            return "files that are not a list"
    if event["type"] == "app_home_opened" and not _matches(SLACK_ID, event.get("user")):
        return "app_home_opened without a user"
    return None


CHECKS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "block_actions": _block_actions,
    "view_submission": _view_submission,
    "message_action": _shortcut,
    "shortcut": _shortcut,
    "command": _command,
    "event_callback": _event,
}


# --- answers ----------------------------------------------------------------------------------


def response_url(body: dict[str, Any]) -> str | None:
    url = body.get("response_url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


class Guard:
    """Answers requests that do not fit, politely where a person can see the answer."""

    def __init__(self, command: str, executor: Executor) -> None:
        self.command = command
        self.executor = executor  # where the ephemeral "sorry" is sent from, after the answer

    @classmethod
    def for_app(cls, app: App, settings: Settings) -> Guard:
        return cls(settings.slack.command, app.listener_runner.listener_executor)

    def refuse(self, refusal: Refusal, body: dict[str, Any]) -> BoltResponse:
        log.warning("refused a malformed %s: %s", refusal.kind, refusal.problem)
        return self.answer(refusal.kind, body)

    def answer(self, kind: str, body: dict[str, Any]) -> BoltResponse:
        if kind == "view_submission":
            return BoltResponse(status=200, body={"response_action": "update", "view": self.unreadable_form()})
        if kind == "command":
            text = f"Sorry, I could not read that command. `{self.command} help` shows what I can do."
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
        url = response_url(body)
        if url and kind in ("block_actions", "message_action"):
            self.say_sorry(url)
            return BoltResponse(status=200, body="")
        return BoltResponse(status=400, body={"error": "malformed request"})

    def say_sorry(self, url: str) -> None:
        text = (
            "Sorry, I could not read that button: it may belong to an older version of the hub. "
            f"Nothing was changed. `{self.command} status <id>` shows where an initiative stands."
        )

        def send() -> None:
            answered()  # the request was answered already: this is work after it
            try:
                Respond(response_url=url)(text=text, response_type="ephemeral", replace_original=False)
            except Exception as error:  # best effort: the person then sees nothing happen
                log.warning("the apology for a malformed request could not be sent: %s", error)

        self.executor.submit(send)

    def unreadable_form(self) -> dict[str, Any]:
        return {
            "type": "modal",
            "title": bk.plain("Sorry", bk.MODAL_TITLE_LIMIT),
            "close": bk.plain("Close", 24),
            "blocks": [
                bk.section(
                    "I could not read this form: it may belong to an older version of the hub. Nothing was saved. "
                    f"Please close it and start again (`{self.command} help` shows how)."
                )
            ],
        }

    def on_error(self, error: Exception, body: dict[str, Any], response: BoltResponse | None) -> BoltResponse | None:
        """Bolt's error handler: a listener (or middleware) raised."""
        kind = kind_of(body) if isinstance(body, dict) else "unknown"
        if not isinstance(error, BadValue):
            # A bug of ours: one line, with where it happened; the traceback only with --verbose.
            frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
            where = f" at {frame.filename}:{frame.lineno}" if frame else ""
            log.error("a listener failed on a %s: %s: %s%s", kind, type(error).__name__, error, where)
            log.debug("the failure in full", exc_info=error)
            return None
        log.warning("refused a damaged value in a %s: %s", kind, error)
        if kind == "event_callback":
            return None
        if response is None:  # already acknowledged: the ephemeral answer is all there is
            url = response_url(body)
            if url:
                self.say_sorry(url)
            return None
        return self.answer(kind, body)


SCREENED = "screened"  # in a request's context: web.py ran `inspect` on it before Bolt


class GuardMiddleware(Middleware):
    """The check as a global middleware (for Socket Mode, where no web.py runs; a request
    web.py checked already is not checked twice)."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        if req.context.get(SCREENED):
            return next()
        refusal = inspect(req.body)
        if refusal is None:
            return next()
        return self.guard.refuse(refusal, req.body)


def register(app: App, settings: Settings) -> Guard:
    guard = Guard.for_app(app, settings)
    app.use(GuardMiddleware(guard))
    app.error(guard.on_error)
    return guard
