"""TextStream: deltas that join to the final text, holding back possible stop strings."""

from __future__ import annotations

from workers.backends.streaming import TextStream


def run(steps: list[str], final: str, stop: list[str]) -> list[str]:
    out: list[str] = []
    stream = TextStream(out.append, stop)
    for text in steps:
        stream.update(text)
    stream.finish(final)
    return out


def test_without_stop_strings_every_new_character_goes_out_at_once() -> None:
    assert run(["The", "The cap", "The capital"], "The capital", []) == ["The", " cap", "ital"]


def test_a_possible_stop_prefix_is_held_back_and_never_sent() -> None:
    # "\nQ" could start "\nQuestion:": held until the text shows what it is; the token that
    # completes the stop string ends the sequence (finish), it is never an update
    steps = ["Paris", "Paris.\n", "Paris.\nQuest"]
    out = run(steps, "Paris.", ["\nQuestion:"])
    assert "".join(out) == "Paris."
    assert all("\n" not in piece for piece in out)


def test_held_back_text_that_was_no_stop_goes_out_at_the_end() -> None:
    out = run(["a\nQ", "a\nQu"], "a\nQu", ["\nQuestion:"])
    assert "".join(out) == "a\nQu"
