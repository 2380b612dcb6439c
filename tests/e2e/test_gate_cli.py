"""`symoe gate fit` and `gate eval` end to end on the real skr_flashrag labels (849 NQ
questions labelled by whether retrieval helped): fit with a small k, evaluate the held-out
part recorded in the artifact, list; a deployment then builds the fitted gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.factory import Deployment
from orchestrator.retrieval.expert_rag import ExpertRagGate
from orchestrator.retrieval.skr import SkrKnnGate
from orchestrator.settings import Settings
from orchestrator.trace import SkillTagging
from tests.minilm import minilm_or_skip
from tests.orchestrator.retrieval.hotpot import UNRELATED, hotpot_corpus

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
LABELS = Path("rag") / "skr_flashrag" / "skr_training.json"


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SYMOE, *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.embeddings
@pytest.mark.data
def test_gate_fit_then_eval_on_the_held_out_part(cli_env: dict[str, str]) -> None:
    minilm_or_skip()
    labels = Path(cli_env["SYMOE_SHARED_DATA_DIR"]) / LABELS
    if not labels.is_file():
        pytest.skip(f"{labels} is not present")
    n = len(json.loads(labels.read_text()))

    fitted = run(["gate", "fit", "--gate", "skr_knn", "--k", "3", "--seed", "1", "--json"], cli_env)
    assert fitted.returncode == 0, fitted.stderr
    fit = json.loads(fitted.stdout)
    assert (fit["gate"], fit["version"], fit["k"]) == ("skr_knn", 1, 3)
    held_out = fit["scores"]["skr_knn"]
    assert held_out["n"] == round(0.3 * 740) + round(0.3 * 47) + round(0.3 * 62)  # per label
    assert held_out["n_informative"] == 14 + 19
    assert 0.0 < held_out["retrieval_rate"] < 1.0
    assert fit["scores"]["never"]["retrieval_rate"] == 0.0
    assert fit["scores"]["always"]["accuracy"] == pytest.approx(14 / held_out["n"])

    evaluated = run(["gate", "eval", "--gate", "skr_knn", "--json"], cli_env)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout) == fit  # the same held-out questions, the same gate
    table = run(["gate", "eval", "--gate", "skr_knn", "--version", "1"], cli_env)
    assert table.returncode == 0 and "skr_knn v1 (k=3)" in table.stdout
    assert f"held out: {held_out['n']} of {n} labelled questions" in table.stderr.replace("\n", " ")

    listed = json.loads(run(["gate", "list", "--json"], cli_env).stdout)
    assert [(a["gate"], a["version"], a["n_examples"], a["active"]) for a in listed] == [
        ("skr_knn", 1, n - held_out["n"], True)
    ]
    missing = run(["gate", "eval", "--gate", "skr_knn", "--version", "2"], cli_env)
    assert missing.returncode == 2 and "no stored gate artifact skr_knn@v2" in missing.stderr

    # The deployment's gate reads the active artifact from the same database.
    settings = Settings(data_dir=Path(cli_env["SYMOE_DATA_DIR"]), retrieval_gate="skr_knn")
    gate = Deployment(settings).gate()
    assert isinstance(gate, SkrKnnGate) and gate.artifact.version == 1 and gate.k == 3


@pytest.mark.embeddings
@pytest.mark.data
def test_expert_rag_fit_and_eval_search_the_store_and_tag_the_questions(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """expert_rag through the CLI: its features come from the deployment's own store (the
    paragraphs of a few HotpotQA questions, ingested with `docs add`) and tagger; labels say
    retrieval helped the questions the store answers and hurt unrelated ones."""
    corpus = hotpot_corpus()
    docs = tmp_path / "paragraphs.jsonl"
    docs.write_text(
        "".join(json.dumps({"id": t, "text": p}) + "\n" for t, p in corpus.paragraphs.items())
    )
    labels = tmp_path / "labels.json"
    rows = [{"question": q.question, "judgement": "ir_better"} for q in corpus.questions]
    rows += [{"question": q, "judgement": "ir_worse"} for q in UNRELATED]
    labels.write_text(json.dumps(rows))
    fit = ["gate", "fit", "--gate", "expert_rag", "--labels", str(labels), "--k", "3"]

    empty = run([*fit, "--json"], cli_env)
    assert empty.returncode == 2 and "the document store is empty" in empty.stderr
    unlabelled = run(["gate", "fit", "--gate", "expert_rag"], cli_env)
    assert unlabelled.returncode == 2 and "expert_rag needs --labels" in unlabelled.stderr

    added = run(["docs", "add", str(docs), "--id-field", "id"], cli_env)
    assert added.returncode == 0, added.stderr
    fitted = run([*fit, "--test-fraction", "0.25", "--json"], cli_env)
    assert fitted.returncode == 0, fitted.stderr
    scores = json.loads(fitted.stdout)["scores"]
    assert scores["expert_rag"]["n"] == 6 and scores["expert_rag"]["accuracy"] >= 5 / 6
    assert scores["never"]["accuracy"] == 0.5
    evaluated = run(["gate", "eval", "--gate", "expert_rag", "--json"], cli_env)
    assert json.loads(evaluated.stdout)["scores"] == scores

    settings = Settings(data_dir=Path(cli_env["SYMOE_DATA_DIR"]), retrieval_gate="expert_rag")
    gate = Deployment(settings).gate()
    assert isinstance(gate, ExpertRagGate) and gate.artifact.logistic is not None
    decision = gate.decide([corpus.questions[0].question], [SkillTagging(method="none")])[0]
    assert decision.scores["dense_top"] > 0.5 and 0.0 <= decision.scores["p_retrieve"] <= 1.0
