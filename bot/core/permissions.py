"""Who may change what. Everyone may propose and commit; changes are guarded here."""

from __future__ import annotations

from bot.config import Settings
from bot.models import Commitment, Initiative


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
