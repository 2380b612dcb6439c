"""`symoe gate`: label questions by whether retrieval helped the experts (`label`, from two
eval runs), fit a retrieval gate on such labels and store it as a versioned artifact
(`fit`), score a stored one on its held-out questions (`eval`), list them (`list`)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestrator.cli.common import (
    console,
    deployment,
    err_console,
    friendly_errors,
    model_errors,
    print_json,
)
from orchestrator.errors import InputError
from orchestrator.eval.gate_labels import labels_from_runs, write_labels
from orchestrator.factory import Deployment
from orchestrator.retrieval import GATES
from orchestrator.retrieval.artifacts import GateArtifact
from orchestrator.retrieval.expert_rag import ExpertRagGate
from orchestrator.retrieval.expert_rag_fit import FeatureInputs, fit_expert_rag
from orchestrator.retrieval.probe import SearchSignals
from orchestrator.retrieval.skr import EMBED_BATCH, SkrKnnGate
from orchestrator.retrieval.skr_fit import (
    DecisionScore,
    LabelledSet,
    Tag,
    fit_skr,
    held_out_scores,
    load_labels,
)
from orchestrator.trace import SkillTagging

app = typer.Typer(help="Retrieval gates: fit, evaluate, list.", no_args_is_help=True)

FITTABLE = (SkrKnnGate.name, ExpertRagGate.name)  # gates fitted from labelled questions
SKR_LABELS = Path("rag") / "skr_flashrag" / "skr_training.json"  # under shared_data_dir


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def _embed_with_progress(dep: Deployment) -> Callable[[list[str]], npt.NDArray[np.float32]]:
    def embed(questions: list[str]) -> npt.NDArray[np.float32]:
        parts = []
        with _progress("embedding questions", len(questions)) as advance:
            for start in range(0, len(questions), EMBED_BATCH):
                parts.append(dep.embedder.encode(questions[start : start + EMBED_BATCH]))
                advance(len(parts[-1]))
        return np.concatenate(parts).astype(np.float32, copy=False)

    return embed


def _tagger(dep: Deployment) -> Tag:
    """The deployment's tagger, as the planner runs it before the gate."""
    tagger, stages = dep.tagger(), dep.new_stages()

    def tag(questions: list[str]) -> list[SkillTagging]:
        return tagger.tag([str(i) for i in range(len(questions))], questions, stages)

    return tag


def _signals_with_progress(dep: Deployment) -> Callable[[list[str]], list[SearchSignals]]:
    if dep.stores.documents.revision()[1] == 0:
        raise InputError(
            "the document store is empty: expert_rag weighs what a search finds, so ingest "
            "the corpus first (`symoe docs add` or `symoe docs add-corpus`)"
        )

    def signals(questions: list[str]) -> list[SearchSignals]:
        found: list[SearchSignals] = []
        with _progress("searching the store", len(questions)) as advance:
            for start in range(0, len(questions), EMBED_BATCH):
                found += dep.search_probe.signals(questions[start : start + EMBED_BATCH])
                advance(len(found) - start)
        return found

    return signals


def _fit(
    dep: Deployment,
    gate: str,
    labelled: LabelledSet,
    k: int | None,
    test_fraction: float,
    seed: int,
) -> GateArtifact:
    command = shlex.join(["symoe", *sys.argv[1:]])
    embed = _embed_with_progress(dep)
    if gate == SkrKnnGate.name:
        return fit_skr(labelled, embed, k, test_fraction, seed, command)
    inputs = FeatureInputs(
        embed=embed, tag=_tagger(dep), signals=_signals_with_progress(dep), profile=dep.profile
    )
    return fit_expert_rag(labelled, inputs, k, test_fraction, seed, command)


def _evaluate(dep: Deployment, artifact: GateArtifact) -> dict[str, DecisionScore]:
    gate = GATES.create(artifact.gate, dep.gate_context(dep.profile, artifact))
    with _progress("deciding held-out questions", len(artifact.split.test)) as advance:
        return held_out_scores(gate, artifact.split, advance, _tagger(dep))


def _print_scores(artifact: GateArtifact, scores: dict[str, DecisionScore]) -> None:
    table = Table("gate", "accuracy (all)", "accuracy (ir_better/ir_worse)", "retrieval rate")
    for name, s in scores.items():
        label = f"{name} v{artifact.version} (k={artifact.k})" if name == artifact.gate else name
        table.add_row(
            label,
            f"{s.accuracy:.3f}",
            f"{s.informative_accuracy:.3f} (n={s.n_informative})",
            f"{s.retrieval_rate:.3f}",
        )
    console.print(table)
    err_console.print(
        f"held out: {scores[artifact.gate].n} of {artifact.split.description}, seed "
        f"{artifact.split.seed}; the right decision is to retrieve exactly on ir_better "
        "('same' counts as don't-retrieve in 'all')"
    )


@app.command("fit")
@friendly_errors
def fit(
    gate: str = typer.Option(..., "--gate", help=" | ".join(FITTABLE)),
    labels: Path | None = typer.Option(
        None,
        "--labels",
        help="JSON list of {question, judgement: same|ir_better|ir_worse}, as `gate label` "
        f"writes (default for skr_knn: <shared_data_dir>/{SKR_LABELS}; expert_rag needs "
        "labels of the experts it gates)",
    ),
    k: int | None = typer.Option(
        None,
        "--k",
        min=1,
        help="neighbours that vote (default: chosen by cross-validation on the training part)",
    ),
    test_fraction: float = typer.Option(
        0.3, "--test-fraction", min=0.0, max=0.95, help="held out for `gate eval`, per label"
    ),
    seed: int = typer.Option(0, "--seed", help="the stratified split's and folds' seed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fit a gate on the training part of a seeded stratified split of labelled questions,
    store it as the gate's new active version, and print its held-out decision accuracy.
    expert_rag also searches the document store and tags each question, as serving does."""
    if gate not in FITTABLE:
        GATES.check(gate)  # an unknown name: the registry's error lists the gates
        raise InputError(f"gate {gate!r} is not fitted (fittable: {', '.join(FITTABLE)})")
    if gate == ExpertRagGate.name and labels is None:
        raise InputError(
            "expert_rag needs --labels: questions labelled by whether retrieval helped these "
            "experts (`symoe gate label`)"
        )
    with deployment() as dep, model_errors():
        path = labels or dep.settings.shared_data_dir / SKR_LABELS
        artifact = _fit(dep, gate, load_labels(path), k, test_fraction, seed)
        stored = dep.stores.gate_artifacts.save(artifact, activate=True)
        err_console.print(
            f"stored {stored.gate} v{stored.version}: k={stored.k} over "
            f"{len(stored.labels)} training questions"
            + (f" (k by {len(stored.k_scores)}-candidate cross-validation)" if k is None else "")
        )
        if stored.k_scores:
            by_k = ", ".join(f"{c}: {a:.3f}" for c, a in stored.k_scores.items())
            err_console.print(f"cross-validated ir_better/ir_worse accuracy by k: {by_k}")
        scores = _evaluate(dep, stored) if stored.split.test else {}
    if as_json or scores:
        _report(stored, scores, as_json)


@app.command("label")
@friendly_errors
def label(
    without: Path = typer.Option(..., "--without", help="an eval run with --retrieval never"),
    with_retrieval: Path = typer.Option(
        ..., "--with", help="an eval run of the same questions with --retrieval always"
    ),
    out: Path = typer.Option(..., "--out", help="the labels file to write (JSON)"),
) -> None:
    """Label each question both runs answered: ir_better when the answers with retrieval
    scored higher (F1 for free-form answers, else correctness), ir_worse when lower, else
    same. The file is what `gate fit --labels` reads."""
    with deployment() as dep:
        labels = labels_from_runs(without, with_retrieval, dep.settings.benchmarks_dir)
    write_labels(labels, out)
    counts = {
        j: sum(lab.judgement == j for lab in labels) for j in ("ir_better", "ir_worse", "same")
    }
    err_console.print(
        f"wrote {len(labels)} labels to {out}: " + ", ".join(f"{n} {j}" for j, n in counts.items())
    )


@app.command("eval")
@friendly_errors
def evaluate(
    gate: str = typer.Option(..., "--gate", help="a fitted gate"),
    version: int | None = typer.Option(None, "--version", help="default: the newest"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A stored gate's decision accuracy on the questions its fit held out, with the
    retrieval rate and the never/always baselines on the same questions."""
    GATES.check(gate)
    with deployment() as dep, model_errors():
        artifact = dep.stores.gate_artifacts.get(gate, version)
        scores = _evaluate(dep, artifact)
    _report(artifact, scores, as_json)


def _report(artifact: GateArtifact, scores: dict[str, DecisionScore], as_json: bool) -> None:
    if not as_json:
        _print_scores(artifact, scores)
        return
    print_json(
        {
            "gate": artifact.gate,
            "version": artifact.version,
            "k": artifact.k,
            "scores": {n: s.model_dump() for n, s in scores.items()},
        }
    )


@app.command("list")
@friendly_errors
def list_artifacts(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every stored gate artifact; the active one of each gate is what a deployment uses."""
    with deployment() as dep:
        infos = dep.stores.gate_artifacts.list()
    if as_json:
        print_json([i.model_dump(mode="json") for i in infos])
        return
    table = Table("gate", "version", "k", "examples", "embedding", "stored", "active")
    for i in infos:
        table.add_row(
            i.gate,
            str(i.version),
            str(i.k),
            str(i.n_examples),
            f"{i.embedding_model} ({i.dim})",
            f"{i.stored_at:%Y-%m-%d %H:%M}",
            "yes" if i.active else "",
        )
    console.print(table)
