"""The CLI offers, documents and checks the names the registries hold (no model runs: a
refused name ends the command while its options are read)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from orchestrator.aggregators import AGGREGATORS
from orchestrator.cli.main import app
from orchestrator.eval.config import METHODS, tagger_names
from orchestrator.taggers import TAGGERS

runner = CliRunner()


def _help(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_help_lists_the_registered_names() -> None:
    ask = _help("ask")
    assert " | ".join(AGGREGATORS.names()) in ask and " | ".join(TAGGERS.names()) in ask
    run = _help("eval", "run")
    assert ", ".join(METHODS.names()) in run
    assert " | ".join(tagger_names()) in run and " | ".join(AGGREGATORS.names()) in run
    assert tagger_names() == [*TAGGERS.names(), "category"]


EVAL = ["eval", "run", "--benchmark", "mmlu_pro", "--out", "never-written"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "hi", "--aggregation", "magic"], "unknown aggregation 'magic' (known: llm, "),
        (["ask", "hi", "--tagger", "magic"], "unknown tagger 'magic' (known: embedding, llm)"),
        ([*EVAL, "--methods", "symoe,magic"], "unknown method 'magic' (known: symoe, "),
        ([*EVAL, "--tagger", "magic"], "unknown tagger 'magic' (known: embedding, llm, "),
        ([*EVAL, "--aggregation", "majority"], "unknown aggregation 'majority'"),
    ],
)
def test_an_unregistered_name_is_refused_in_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
