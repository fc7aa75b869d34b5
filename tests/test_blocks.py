"""Escaping and shortening of untrusted text, and Block Kit limits."""

import pytest
from slack_sdk.models.blocks import Block

from bot.slack import blocks as bk


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U0CEO> & <!here>", "&lt;@U0CEO&gt; &amp; &lt;!here&gt;"),
        ("<https://evil.example|your bank>", "&lt;https://evil.example|your bank&gt;"),
        ("&amp;", "&amp;amp;"),
    ],
)
def test_user_text_escapes_the_three_characters(raw, shown):
    assert bk.user_text(raw) == shown


def test_user_text_shortens_after_escaping_and_never_splits_an_entity():
    text = bk.user_text("a" * 2997 + "&&&&")
    assert len(text) <= 3000 and text.endswith("…")
    body = text[:-1]
    assert not body.endswith("&") and body.count("&") == body.count("&amp;")


def test_links_keep_their_label_inside():
    rendered = bk.link("https://cdo-hub.slack.com/archives/C1/p1", "x|<!channel>")
    assert rendered == "<https://cdo-hub.slack.com/archives/C1/p1|x¦&lt;!channel&gt;>"


def test_sections_are_verbatim_and_within_limits():
    block = bk.section("x" * 5000)
    assert block["text"]["verbatim"] is True and len(block["text"]["text"]) == 3000
    Block.parse(block).validate_json()


def test_fit_message_keeps_fifty_blocks_and_says_what_is_missing():
    blocks = [bk.section(str(i)) for i in range(80)]
    fitted = bk.fit_message(blocks)
    assert len(fitted) == 50
    assert "31 more not shown" in fitted[-1]["elements"][0]["text"]


def test_buttons_and_options_are_shortened_to_slack_limits():
    button = bk.button("b" * 100, "a", "v" * 3000)
    assert len(button["text"]["text"]) == 75 and len(button["value"]) == 2000
    Block.parse(bk.actions(button)).validate_json()
