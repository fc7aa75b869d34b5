"""Modal views (pure builders) and reading their submitted state back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.config import USER_ID, Settings
from bot.core.audience import Barrier
from bot.core.initiatives import OBSTACLES_LIMIT, PROBLEM_LIMIT, TITLE_LIMIT
from bot.slack import blocks as bk
from bot.slack.ids import MESSAGE_TS, SLACK_ID, Action, Block, View, dump

VALUE = "value"  # the action_id of every input: the block_id says which field it is
JOURNEY_LABELS = {"customer": "Customer journey", "employee": "Employee journey", "both": "Both journeys"}


@dataclass(frozen=True)
class ProposeMeta:
    """private_metadata of the proposal modal: the message it came from, if any, what keeps
    that message's words from the hub channel (a `Barrier`: the form warns of it), and the
    version of the functions block (a new block id makes Slack apply new initial options)."""

    channel: str | None = None
    message_ts: str | None = None
    functions_version: int = 0
    barrier: str | None = None
    introduction: int | None = None  # the introduction it comes from ("Propose this")

    def __post_init__(self) -> None:  # a ValueError makes `ids.load` refuse the metadata
        if self.channel is not None and not SLACK_ID.fullmatch(self.channel):
            raise ValueError("channel is not a channel ID")
        if self.message_ts is not None and not MESSAGE_TS.fullmatch(self.message_ts):
            raise ValueError("message_ts is not a message timestamp")
        if self.barrier is not None and self.barrier not in {barrier.value for barrier in Barrier}:
            raise ValueError("barrier is not one the hub knows")


# Why the words of the message a proposal comes from do not belong in the hub channel.
SOURCE_WARNINGS = {
    Barrier.PRIVATE.value: "This message is from a private channel.",
    Barrier.SHARED_SOURCE.value: "This message is from a channel shared with another organisation.",
    Barrier.SHARED_TARGET.value: "The hub channel is shared with another organisation.",
    Barrier.UNKNOWN.value: "The hub could not tell who can read the channel this message is from.",
}


def source_warning(barrier: str, hub_channel: str) -> dict[str, Any]:
    """The form's warning that what it proposes will be read by a wider audience."""
    where = bk.channel_ref(hub_channel)
    return bk.section(
        f":warning: *{SOURCE_WARNINGS.get(barrier, SOURCE_WARNINGS[Barrier.UNKNOWN.value])}* What you submit here, "
        f"prefilled words included, will be visible to everyone in {where} and in the channels of the functions "
        "you choose: leave out what must stay where it was written."
    )


def functions_block(version: int) -> str:
    return Block.FUNCTIONS.value if version == 0 else f"{Block.FUNCTIONS.value}.{version}"


def _input(
    block_id: Block | str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str | None = None
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id if isinstance(block_id, str) else block_id.value,
        "label": bk.plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = bk.plain(hint, 2000)
    return block


def _text_input(
    *, initial: str = "", multiline: bool = False, max_length: int | None = None, placeholder: str | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE, "multiline": multiline}
    if initial:
        element["initial_value"] = initial[: max_length or 3000]
    if max_length:
        element["max_length"] = max_length
    if placeholder:
        element["placeholder"] = bk.plain(placeholder, 150)
    return element


def default_sponsor(settings: Settings) -> str | None:
    """The sponsor a new proposal's form suggests: the first executive, if any."""
    return settings.hub.executives[0] if settings.hub.executives else None


def propose_modal(
    settings: Settings,
    *,
    title: str = "",
    problem: str = "",
    journey: str | None = None,
    preselected: Iterable[str] = (),
    obstacles: str = "",
    sponsor: str | None = None,
    meta: ProposeMeta = ProposeMeta(),
) -> dict[str, Any]:
    function_options = [bk.option(function.name, function.key) for function in settings.functions.values()]
    functions_element: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": VALUE,
        "placeholder": bk.plain("Choose at least two functions"),
        "options": function_options[:100],
    }
    chosen = set(preselected)
    initial = [option for option in function_options if option["value"] in chosen]
    if initial:
        functions_element["initial_options"] = initial
    journey_options = [bk.option(label, key) for key, label in JOURNEY_LABELS.items()]
    sponsor_element: dict[str, Any] = {"type": "users_select", "action_id": VALUE, "placeholder": bk.plain("The executive who owns it")}
    if sponsor:
        sponsor_element["initial_user"] = sponsor
    view_blocks = [
        _input(
            Block.TITLE,
            "Title",
            _text_input(initial=title, max_length=TITLE_LIMIT, placeholder="One customer view across our ERP instances"),
        ),
        _input(
            Block.PROBLEM, "Problem or opportunity", _text_input(initial=problem, multiline=True, max_length=PROBLEM_LIMIT), optional=True
        ),
        {
            **_input(
                Block.JOURNEY,
                "Journey",
                {
                    "type": "static_select",
                    "action_id": Action.JOURNEY_CHANGED.value,
                    "placeholder": bk.plain("Whose journey does it change?"),
                    "options": journey_options,
                    **({"initial_option": next(o for o in journey_options if o["value"] == journey)} if journey else {}),
                },
            ),
            # Choosing a journey pre-selects the functions the configuration ties to it.
            "dispatch_action": True,
        },
        _input(
            functions_block(meta.functions_version),
            "Functions that must collaborate",
            functions_element,
            hint="Pre-selected from the words of your proposal; change them freely.",
        ),
        _input(Block.SPONSOR, "Sponsor", sponsor_element, optional=True),
        _input(Block.TARGET_DATE, "Target date", {"type": "datepicker", "action_id": VALUE}, optional=True),
        _input(
            Block.OBSTACLES,
            "Known obstacles",
            _text_input(
                initial=obstacles,
                multiline=True,
                max_length=OBSTACLES_LIMIT,
                placeholder="Several ERP instances, no DAM, no workflow tool…",
            ),
            optional=True,
        ),
    ]
    if meta.message_ts:
        view_blocks.insert(0, bk.context("Prefilled from a message; a link to it is kept with the initiative."))
    if meta.introduction is not None:
        view_blocks.insert(0, bk.context("Prefilled from the hub's introduction: change anything you like."))
    if meta.barrier:
        view_blocks.insert(0, source_warning(meta.barrier, settings.hub.channel))
    return {
        "type": "modal",
        "callback_id": View.PROPOSE.value,
        "title": bk.plain("Propose an initiative", bk.MODAL_TITLE_LIMIT),
        "submit": bk.plain("Propose", 24),
        "close": bk.plain("Cancel", 24),
        "private_metadata": dump(meta),
        "blocks": view_blocks,
    }


# --- reading submissions ------------------------------------------------------------------


class State:
    """view.state.values, read by block id. Slack sends each input in its own shape; anything
    else (a missing block, a value of another type, a date that is not one) reads as empty, and
    the core's validation then asks the person for it."""

    def __init__(self, view: object) -> None:
        state = view.get("state") if isinstance(view, dict) else None
        values = state.get("values") if isinstance(state, dict) else None
        self.values: dict[str, dict[str, Any]] = (
            {key: value for key, value in values.items() if isinstance(key, str) and isinstance(value, dict)}
            if isinstance(values, dict)
            else {}
        )

    def _element(self, block: Block) -> dict[str, Any]:
        # Match "functions" and its re-versioned ids ("functions.2"); each input has one element.
        for block_id, elements in self.values.items():
            if block_id == block.value or block_id.startswith(block.value + "."):
                element = next(iter(elements.values()), None)
                return element if isinstance(element, dict) else {}
        return {}

    def text(self, block: Block) -> str:
        value = self._element(block).get("value")
        return value if isinstance(value, str) else ""

    def option(self, block: Block) -> str | None:
        return _option_value(self._element(block).get("selected_option"))

    def options(self, block: Block) -> list[str]:
        selected = self._element(block).get("selected_options")
        values = [_option_value(option) for option in selected] if isinstance(selected, list) else []
        return [value for value in values if value is not None]

    def ticked(self, block: Block, value: str) -> bool:
        """Whether the checkbox option `value` is ticked."""
        return value in self.options(block)

    def user(self, block: Block) -> str | None:
        value = self._element(block).get("selected_user")
        return value if isinstance(value, str) and USER_ID.fullmatch(value) and SLACK_ID.fullmatch(value) else None

    def date(self, block: Block) -> date | None:
        raw = self._element(block).get("selected_date")
        if not isinstance(raw, str):
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None


def _option_value(option: object) -> str | None:
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


# --- commitments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitMeta:
    initiative: int


@dataclass(frozen=True)
class ChangeMeta:
    """private_metadata of the Slip and Blocked modals: the due date the person saw."""

    commitment: int
    seen_due: str | None = None

    def __post_init__(self) -> None:
        if self.seen_due is not None:
            date.fromisoformat(self.seen_due)  # a ValueError makes `ids.load` refuse the metadata


def _function_select(settings: Settings, keys: Iterable[str], initial: str | None) -> dict[str, Any]:
    options = [bk.option(settings.functions[key].name, key) for key in keys if key in settings.functions]
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": VALUE,
        "options": options,
        "placeholder": bk.plain("Choose a function"),
    }
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen:
        element["initial_option"] = chosen
    return element


ON_BEHALF = "yes"  # the value of the one option of the "on its behalf" checkbox


def _who_commits(settings: Settings, mine: Sequence[str]) -> str:
    """How the form's choice of "From" decides between a promise and a request."""
    if mine:
        names = ", ".join(bk.user_text(settings.functions[key].name, 80) for key in mine if key in settings.functions)
        return (
            f"You are in {names}: from your function, this is your promise. "
            "From another function, it is a request: that function accepts it, proposes another date or declines."
        )
    return "From any function, this is a request: that function accepts it, proposes another date or declines."


def commit_modal(
    settings: Settings,
    initiative_id: int,
    title: str,
    functions: list[str],
    from_default: str | None,
    *,
    mine: Sequence[str] = (),
    on_behalf: bool = False,
) -> dict[str, Any]:
    """The form of a promise or a request: `mine` are the person's functions on the
    initiative; `on_behalf` offers hub staff and admins to record a function's promise."""
    others = [key for key in functions if key != from_default]
    to_default = others[0] if len(others) == 1 else None
    view_blocks = [
        bk.section(f"Initiative *#{initiative_id} {bk.user_text(title, 300)}*"),
        bk.context(_who_commits(settings, mine)),
        _input(Block.FROM_FUNCTION, "From (the function that promises)", _function_select(settings, functions, from_default)),
        _input(Block.TO_FUNCTION, "To (the function that receives)", _function_select(settings, functions, to_default)),
        _input(Block.WHAT, "What", _text_input(multiline=True, max_length=1000, placeholder="A golden customer record API")),
        _input(Block.DUE, "Due date", {"type": "datepicker", "action_id": VALUE}),
    ]
    if on_behalf:
        option = bk.option("Record it as the function's promise, on its behalf", ON_BEHALF)
        view_blocks.append(
            _input(
                Block.ON_BEHALF,
                "Hub staff and admins",
                {"type": "checkboxes", "action_id": VALUE, "options": [option]},
                optional=True,
                hint="Unticked, it is a request that the function answers. The owner of a promise made on its behalf is its lead.",
            )
        )
    return {
        "type": "modal",
        "callback_id": View.COMMIT.value,
        "title": bk.plain("Promise or request", bk.MODAL_TITLE_LIMIT),
        "submit": bk.plain("Send", 24),
        "close": bk.plain("Cancel", 24),
        "private_metadata": dump(CommitMeta(initiative_id)),
        "blocks": view_blocks,
    }


def change_modal(kind: View, commitment_id: int, what: str, seen_due: str) -> dict[str, Any]:
    """Slip (new date and a reason) or Blocked (a reason)."""
    slip = kind is View.SLIP
    view_blocks = [bk.section(f"Commitment *#{commitment_id}*: {bk.user_text(what, 500)}\nDue {seen_due}.")]
    if slip:
        view_blocks.append(_input(Block.DUE, "New due date", {"type": "datepicker", "action_id": VALUE}))
    view_blocks.append(_input(Block.REASON, "Why it slips" if slip else "What blocks it", _text_input(multiline=True, max_length=1000)))
    return {
        "type": "modal",
        "callback_id": kind.value,
        "title": bk.plain("Slip a commitment" if slip else "Blocked", bk.MODAL_TITLE_LIMIT),
        "submit": bk.plain("Slip" if slip else "Mark blocked", 24),
        "close": bk.plain("Cancel", 24),
        "private_metadata": dump(ChangeMeta(commitment_id, seen_due)),
        "blocks": view_blocks,
    }


def answer_modal(kind: View, commitment_id: int, what: str, seen_due: str) -> dict[str, Any]:
    """Propose another date (a date and, if they wish, why) or Decline (why)."""
    other_date = kind is View.OTHER_DATE
    view_blocks = [bk.section(f"Request *#{commitment_id}*: {bk.user_text(what, 500)}\nWanted by {seen_due}.")]
    if other_date:
        view_blocks.append(_input(Block.DUE, "The date you can promise", {"type": "datepicker", "action_id": VALUE}))
    view_blocks.append(
        _input(
            Block.REASON,
            "Why (the asker will read it)" if other_date else "Why you decline",
            _text_input(multiline=True, max_length=1000),
            optional=other_date,
        )
    )
    return {
        "type": "modal",
        "callback_id": kind.value,
        "title": bk.plain("Propose another date" if other_date else "Decline a request", bk.MODAL_TITLE_LIMIT),
        "submit": bk.plain("Propose" if other_date else "Decline", 24),
        "close": bk.plain("Cancel", 24),
        "private_metadata": dump(ChangeMeta(commitment_id, seen_due)),
        "blocks": view_blocks,
    }
