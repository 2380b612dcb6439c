"""LLM skill tagging: the keyword prompt, parsing a tagger's reply, keeping recurring keywords."""

from __future__ import annotations

from skills.tagging import MAX_KEYWORD_CHARS, keyword_prompt, parse_keywords, recurring_keywords


def test_keyword_prompt_asks_for_the_keywords_format_after_the_question() -> None:
    prompt = keyword_prompt("Why is the sky blue?")
    assert prompt.startswith("Question: Why is the sky blue?\n")
    assert "List 2-5 keywords separated in comma." in prompt
    assert prompt.endswith("Follow this format: Keywords: <keyword1>, <keyword2>...")


def test_parse_keywords_reads_the_text_after_the_last_keywords_label() -> None:
    reply = "Keywords: ignored\nOn reflection, keywords: Optics, Rayleigh Scattering, physics."
    assert parse_keywords(reply) == ["optics", "rayleigh scattering", "physics"]


def test_parse_keywords_reads_a_numbered_list_without_a_label() -> None:
    reply = "1. Genetics\n2. Cell biology (mitosis)\n- Genetics\n* <Evolution>;"
    assert parse_keywords(reply) == ["genetics", "cell biology", "evolution"]


def test_parse_keywords_drops_phrases_blanks_and_keeps_at_most_eight() -> None:
    keywords = ", ".join(f"k{i}" for i in range(9))
    reply = f"Keywords: a b c d e, , law,  Contract   Law  , contract law, {keywords}"
    # "a b c d e" has five words (a phrase, not a skill); spacing is normalised before the
    # duplicate check, so "contract law" is kept once.
    assert parse_keywords(reply) == ["law", "contract law", "k0", "k1", "k2", "k3", "k4", "k5"]


def test_parse_keywords_of_empty_text_is_empty() -> None:
    assert parse_keywords("") == []
    assert parse_keywords("Keywords:") == []


def test_recurring_keywords_keeps_those_named_twice_most_frequent_first() -> None:
    samples = [
        ["genetics", "chemistry", "genetics"],  # repeated within one sample: counts once
        ["cell biology", "genetics"],
        ["cell biology", "genetics", "physics"],
    ]
    assert recurring_keywords(samples) == ["genetics", "cell biology"]


def test_recurring_keywords_of_one_sample_keeps_all_of_it() -> None:
    assert recurring_keywords([["law", "ethics", "law"]]) == ["law", "ethics"]
    assert recurring_keywords([]) == []


def test_recurring_keywords_drops_keywords_longer_than_the_limit() -> None:
    at_limit = "x" * MAX_KEYWORD_CHARS
    too_long = "y" * (MAX_KEYWORD_CHARS + 1)
    samples = [[at_limit, too_long], [too_long, at_limit]]
    assert MAX_KEYWORD_CHARS == 20
    assert recurring_keywords(samples) == [at_limit]
    assert recurring_keywords(samples, max_chars=30) == [at_limit, too_long]
