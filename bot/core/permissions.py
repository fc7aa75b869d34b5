"""Who may do what. Everyone may propose; promises, requests and changes are guarded here.

`functions` is always the person's functions as activity counts them
(`bot.core.activity.functions_of`: leads and members in the configuration, and the members of
each function's channel; none for hub staff)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from bot.config import Settings
from bot.models import Commitment, Initiative


class Way(str, Enum):
    """What the commitment form records for the person who sends it."""

    PROMISE = "promise"  # a member or lead of the giving function: their own promise
    ON_BEHALF = "on behalf"  # hub staff or an admin records the giving function's promise
    REQUEST = "request"  # anyone else on the initiative asks the giving function
    REFUSED = "refused"  # someone outside the initiative's functions


def _hub_power(user_id: str, settings: Settings) -> bool:
    return settings.is_staff(user_id) or settings.is_admin(user_id)


def may_change_commitment(user_id: str, commitment: Commitment, initiative: Initiative, settings: Settings) -> bool:
    """The owner, a lead of the owner's function, the sponsor, hub staff and admins."""
    function = settings.functions.get(commitment.from_function)
    return (
        user_id == commitment.owner
        or (function is not None and user_id in function.leads)
        or user_id == initiative.sponsor
        or _hub_power(user_id, settings)
    )


def may_change_initiative(user_id: str, initiative: Initiative, settings: Settings) -> bool:
    """The proposer, the sponsor, hub staff and admins."""
    return user_id in (initiative.proposer, initiative.sponsor) or _hub_power(user_id, settings)


def may_act_on_pair(user_id: str, functions: tuple[str, str], initiative: Initiative, settings: Settings) -> bool:
    """The leads of the pair's two functions, the sponsor, hub staff and admins."""
    leads = {lead for key in functions if key in settings.functions for lead in settings.functions[key].leads}
    return user_id in leads or user_id == initiative.sponsor or _hub_power(user_id, settings)


def may_act_for_hub(user_id: str, settings: Settings) -> bool:
    """Hub staff and admins, who may record a promise on a function's behalf."""
    return _hub_power(user_id, settings)


def may_ask(user_id: str, initiative: Initiative, functions: Iterable[str], settings: Settings) -> bool:
    """Anyone in one of the initiative's functions, its sponsor, hub staff and admins."""
    return any(key in initiative.function_keys for key in functions) or user_id == initiative.sponsor or _hub_power(user_id, settings)


def way_to_commit(
    user_id: str, from_function: str, initiative: Initiative, functions: Iterable[str], settings: Settings, *, on_behalf: bool = False
) -> Way:
    """A function's promise is made by that function; anyone else on the initiative asks it."""
    functions = list(functions)
    if from_function in functions:
        return Way.PROMISE
    if on_behalf and _hub_power(user_id, settings):
        return Way.ON_BEHALF
    if may_ask(user_id, initiative, functions, settings):
        return Way.REQUEST
    return Way.REFUSED


def may_answer_request(commitment: Commitment, functions: Iterable[str]) -> bool:
    """Accept, propose another date, decline: the members and leads of the function asked."""
    return commitment.from_function in functions


def may_take_other_date(user_id: str, commitment: Commitment) -> bool:
    """Another date proposed goes back to the person who asked."""
    return user_id == commitment.requested_by


def may_decline_request(user_id: str, commitment: Commitment, functions: Iterable[str]) -> bool:
    """The function asked; and the asker, while another date waits for them."""
    return may_answer_request(commitment, functions) or (commitment.proposed_due is not None and may_take_other_date(user_id, commitment))
