"""Routing rules are configuration: keywords (whole words, any case) and journeys."""

from pathlib import Path

from bot.config import parse
from bot.core.routing import CHOSEN_BY_PROPOSER, ProposalText, decide, suggest

EXAMPLE = (Path(__file__).parent.parent / "config.example.toml").read_text()


def settings(extra: str = ""):
    return parse(EXAMPLE + extra, env={})


def test_keywords_match_whole_words_in_any_case_and_say_where():
    found = suggest(settings(), ProposalText(title="A new crm for the brand", obstacles="three erp instances"))
    assert found == {"marketing": "keyword 'brand' in title", "it": "keyword 'ERP' in obstacles"}


def test_keywords_do_not_match_inside_other_words():
    assert suggest(settings(), ProposalText(title="Therapist rapidity datastores bERPing")) == {}


def test_multi_word_keyword_and_first_matching_part():
    found = suggest(settings(), ProposalText(title="Map the Customer Journey", problem="customer journey again"))
    assert found == {"marketing": "keyword 'customer journey' in title"}


def test_journeys_preselect_functions():
    assert suggest(settings(), ProposalText(), "employee") == {"hr": "employee journey"}
    assert suggest(settings(), ProposalText(), "customer") == {"marketing": "customer journey"}
    assert suggest(settings(), ProposalText(), "both") == {"marketing": "both journey", "hr": "both journey"}


def test_a_new_function_and_rule_is_configuration_only():
    extra = (
        '\n[functions.finance]\nname = "Finance"\nchannel = "#finance"\nleads = ["U0CFO"]\n'
        'keywords = ["invoice", "C++"]\njourneys = ["both"]\n'
    )
    config = settings(extra)
    assert suggest(config, ProposalText(problem="Invoices? no: one invoice flow in C++"))["finance"] == "keyword 'invoice' in problem"
    assert "finance" in suggest(config, ProposalText(), "customer")


def test_decide_keeps_the_rule_or_the_proposers_choice():
    reasons = decide(settings(), ["marketing", "it", "unknown"], ProposalText(title="ERP cleanup"), "employee")
    assert reasons == {"marketing": CHOSEN_BY_PROPOSER, "it": "keyword 'ERP' in title"}
