"""The Block Kit renderer handed to the use cases (`bot.app.port.Renderer`): each method is
one of the pure builders of this package."""

from __future__ import annotations

from typing import Any

from bot.core import requests as answers
from bot.slack import blocks as bk
from bot.slack import digest as digest_words
from bot.slack import home as home_tab
from bot.slack import introductions, messages, modals, nudges, requests
from bot.slack import mirror as mirrors
from bot.slack.ids import View


def status_changed(user: str | None, status: str) -> str:
    return f"{messages.STATUS_EMOJI.get(status, '')} {bk.person(user, nobody='Someone')} set the status to *{status}*."


def change_form(action: str, commitment_id: int, what: str, seen_due: str) -> dict[str, Any]:
    return modals.change_modal(View.SLIP if action == "slip" else View.BLOCKED, commitment_id, what, seen_due)


def answer_form(action: str, commitment_id: int, what: str, seen_due: str) -> dict[str, Any]:
    return modals.answer_modal(View.OTHER_DATE if action == answers.OTHER_DATE else View.DECLINE, commitment_id, what, seen_due)


class BlockKit:
    card = staticmethod(messages.card)
    routed_post = staticmethod(messages.routed_post)
    confirmation = staticmethod(messages.confirmation)
    route_failures = staticmethod(messages.route_failures)
    status_changed = staticmethod(status_changed)
    commitment = staticmethod(requests.message)
    announcement = staticmethod(requests.announcement)
    commit_form = staticmethod(modals.commit_modal)
    change_form = staticmethod(change_form)
    answer_form = staticmethod(answer_form)
    mirror = staticmethod(mirrors.mirror_message)
    mirror_needs_permalink = staticmethod(mirrors.needs_permalink)
    reply_elsewhere = staticmethod(mirrors.reply_elsewhere)
    pair_nudge = staticmethod(nudges.pair_nudge)
    executive_nudge = staticmethod(nudges.executive_nudge)
    digest = staticmethod(digest_words.digest_message)
    home = staticmethod(home_tab.home_view)
    introduction = staticmethod(introductions.introduction_message)
