"""bot/sandbox/show.py: stored Slack messages as plain lines for the demo."""

from bot.sandbox.show import Names, message_lines, plain

NAMES = Names(users={"U0CMO": "Marc Lefevre (CMO)", "U0CIO": "Ines Garcia (CIO)"}, channels={"C0HUB": "cdo-hub", "C0IT": "it"})


def test_mentions_and_channel_links_become_names():
    assert plain("<@U0CMO> and <@U0CIO>, see <#C0HUB>", NAMES) == "@Marc Lefevre (CMO) and @Ines Garcia (CIO), see #cdo-hub"


def test_unknown_ids_keep_their_label_or_their_id_without_brackets():
    assert plain("<@U0NEW> <@U0OLD|paul> <#C0NEW> <#C0ARC|archive>", NAMES) == "@U0NEW @paul #C0NEW #archive"


def test_links_become_their_labels_and_special_mentions_their_words():
    text = (
        "<https://cdo-hub.slack.com/archives/C0HUB/p1|open the discussion> <https://example.com> "
        "<mailto:a@b.c|mail> <!here> <!subteam^S1|@leads>"
    )
    assert plain(text, NAMES) == "open the discussion https://example.com mail @here @leads"


def test_entities_are_unescaped_once():
    assert plain("R&amp;D &lt;3 a &gt; b, &amp;lt; stays", NAMES) == "R&D <3 a > b, &lt; stays"


def test_marks_go_but_words_and_arithmetic_stay():
    assert plain("*Commitment #1* — _not set_ ~old~ *<@U0CMO>*", NAMES) == "Commitment #1 — not set old @Marc Lefevre (CMO)"
    assert plain("snake_case_name, 2*3*4, a * b", NAMES) == "snake_case_name, 2*3*4, a * b"


def test_known_emoji_codes_become_emoji_and_times_stay():
    assert plain(":white_check_mark: done at 10:56:00 :unknown_code:", NAMES) == "✅ done at 10:56:00 :unknown_code:"


def test_a_quote_is_a_raw_angle_bracket_only():
    assert plain(">quoted\n&gt;5 days", NAMES) == "> quoted\n>5 days"


def test_a_card_becomes_short_indented_lines():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "#1 · One customer view", "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Sales &amp; billing differ.\n>Three ERPs"}},
        {"type": "divider"},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Proposer*\n<@U0CMO>"},
                {"type": "mrkdwn", "text": "*Status*\n:seedling: proposed"},
            ],
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": ":speech_balloon: Reply in <#C0HUB>"},
                {"type": "image", "image_url": "x", "alt_text": "logo"},
            ],
        },
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Commit"}, "action_id": "commit"},
                {"type": "button", "text": {"type": "plain_text", "text": "Open discussion"}, "url": "https://x"},
                {"type": "overflow", "options": []},
            ],
        },
    ]
    assert message_lines("New initiative #1", blocks, NAMES) == [
        "  #1 · One customer view",
        "  Sales & billing differ.",
        "  > Three ERPs",
        "  Proposer: @Marc Lefevre (CMO)",
        "  Status: 🌱 proposed",
        "  💬 Reply in #cdo-hub",
        "  [ Commit ]  [ Open discussion ]  [ ⋯ ]",
    ]


def test_a_section_accessory_and_a_select_are_shown_as_controls():
    blocks = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Pick one"},
            "accessory": {"type": "static_select", "placeholder": {"type": "plain_text", "text": "Status"}},
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "More"},
            "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Go"}},
        },
    ]
    assert message_lines("", blocks, NAMES, indent="") == ["Pick one", "[ Status ▾ ]", "More", "[ Go ]"]


def test_without_blocks_the_text_is_shown():
    assert message_lines(":white_check_mark: <@U0CIO> marked commitment #1 done.", None, NAMES, indent="> ") == [
        "> ✅ @Ines Garcia (CIO) marked commitment #1 done."
    ]
    # Blocks with nothing to read (rich text typed by a person): the text says the same.
    assert message_lines("hello <#C0IT>", [{"type": "rich_text", "elements": []}], NAMES) == ["  hello #it"]


def test_long_text_is_wrapped_under_its_indent_but_a_row_of_buttons_is_not():
    words = " ".join(["word"] * 30)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": words}},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": f"Button {i}"}} for i in range(12)]},
    ]
    lines = message_lines("", blocks, NAMES, width=60)
    text_lines, buttons = lines[:-1], lines[-1]
    assert len(text_lines) > 1 and all(len(line) <= 60 for line in text_lines)
    assert text_lines[0].startswith("  word") and all(line.startswith("    word") for line in text_lines[1:])
    assert " ".join(line.strip() for line in text_lines) == words
    assert buttons.startswith("  [ Button 0 ]") and buttons.endswith("[ Button 11 ]")
