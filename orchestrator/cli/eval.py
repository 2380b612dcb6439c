"""`symoe eval run|compare`: benchmarks, baselines, resumable runs, reports."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Task as ProgressTask
from rich.table import Table
from rich.text import Text

from orchestrator.aggregators import AGGREGATORS
from orchestrator.benchmarks import GENERIC
from orchestrator.cli.common import (
    FIELD_HELP,
    choices,
    console,
    deployment,
    err_console,
    field_mapping,
    friendly_errors,
    names_of,
)
from orchestrator.errors import InputError
from orchestrator.eval.compare import compare, config_warnings, format_comparison
from orchestrator.eval.config import METHODS, EvalConfig, check_tagger, tagger_names
from orchestrator.eval.metrics import compute_metrics
from orchestrator.eval.report import write_report
from orchestrator.eval.runner import EvalRun
from orchestrator.recruiters import RECRUITERS
from orchestrator.retrieval import check_retrieval, retrieval_choices

app = typer.Typer(help="Evaluate symoe and baselines on benchmarks.", no_args_is_help=True)


class RateColumn(ProgressColumn):
    """Items per second of the current task."""

    def render(self, task: ProgressTask) -> Text:
        return Text(f"{task.speed:.0f} items/s" if task.speed else "")


def _ints(value: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--seeds must be comma-separated integers, got {value!r}") from None


@app.command("run")
@friendly_errors
def run(
    benchmark: str = typer.Option(..., help="benchmark name, e.g. mmlu_pro"),
    split: str = typer.Option("test", help="split to evaluate (generic: the .jsonl/.csv file)"),
    field: list[str] = typer.Option(None, metavar="TARGET=SOURCE", help=FIELD_HELP),
    answer_format: str = typer.Option(
        None, help="generic without choices: letter | number | math | free (default: inferred)"
    ),
    methods: str = typer.Option(
        ",".join(METHODS.names()),
        help=f"comma-separated, from: {', '.join(METHODS.names())}",
        callback=names_of(METHODS.check, many=True),
    ),
    workflows: str = typer.Option(
        "",
        help="comma-separated workflow names or YAML files (e.g. research), each run once "
        "per item beside the methods; default none",
    ),
    seeds: str = typer.Option("0", help="comma-separated seeds, e.g. 0,1,2,3,4"),
    limit: int = typer.Option(None, min=1, help="first N items only"),
    out: Path = typer.Option(..., help="run directory (resumed if it holds the same config)"),
    experts_file: Path = typer.Option(
        None,
        help="experts.yaml (default: settings); "
        "orchestrator/defaults/replay_experts.yaml = 22 recorded models",
    ),
    k: int = typer.Option(3, min=1, max=32),
    tagger: str = typer.Option(
        "embedding",
        help=f"{choices(tagger_names())} (category: the item's subject)",
        callback=names_of(check_tagger),
    ),
    recruiter: str = typer.Option(
        "symbolic",
        help=f"symoe's recruiter: {choices(RECRUITERS.names())}",
        callback=names_of(RECRUITERS.check),
    ),
    aggregation: str = typer.Option(
        "vote",
        help=f"symoe's aggregation: {choices(AGGREGATORS.names())}",
        callback=names_of(AGGREGATORS.check),
    ),
    profile_split: str = typer.Option(
        None,
        help="validation split to build profiles on (default: train; generic: none); "
        "'none' = use the active profile set",
    ),
    profile: Path = typer.Option(None, help="use this profile set file instead of building one"),
    dynamic_k: float = typer.Option(None, min=0.01, max=1.0, help="symoe: top-p weight mass"),
    min_share: float = typer.Option(None, min=0.001, max=0.99, help="symoe: fold rare experts"),
    cascade: bool = typer.Option(
        False,
        help="symoe: ask the recruited experts in order, stop once the answer is settled",
    ),
    max_tokens: int = typer.Option(None, min=1, help="expert completion budget"),
    retrieval: str = typer.Option(
        None,
        help=f"{choices(retrieval_choices())}: retrieve from the document store (ingest the "
        "benchmark's corpus first: symoe docs add-corpus); default none",
        callback=names_of(check_retrieval),
    ),
    chunk: int = typer.Option(256, min=1, help="items per batch (and per resumable step)"),
    overwrite: bool = typer.Option(False, help="replace a run with a different config in --out"),
) -> None:
    """Run every method x seed (and each workflow once), then write predictions,
    metrics.json, report.md and plots."""
    overrides = {"experts_file": experts_file} if experts_file else {}
    generic_default = benchmark == GENERIC and profile_split is None and profile is None
    if profile_split is None:
        profile_split = "none" if benchmark == GENERIC else "train"
    with deployment(**overrides) as dep:
        config = EvalConfig(
            benchmark=benchmark,
            split=split,
            mapping=field_mapping(field, answer_format),
            methods=[m.strip() for m in methods.split(",")],
            seeds=_ints(seeds),
            limit=limit,
            k=k,
            experts_file=str(dep.settings.experts_file),
            profile_split=None if profile_split == "none" else profile_split,
            profile_file=str(profile) if profile else None,
            tagger=tagger,
            aggregation=aggregation,
            recruiter=recruiter,
            dynamic_k=dynamic_k,
            min_share=min_share,
            cascade=cascade,
            max_tokens=max_tokens,
            retrieval=retrieval,
            workflows=[w.strip() for w in workflows.split(",") if w.strip()],
        )
        started = time.perf_counter()
        ev = EvalRun(dep, config, out, chunk=chunk, overwrite=overwrite)
        if generic_default:
            _note_generic_profile(dep.profile.name if dep.profile else None)
        run_id = f"{out.resolve().name}-{config.key()}"
        dep.stores.eval_runs.start_eval_run(
            run_id, benchmark, split, str(out.resolve()), config.model_dump()
        )
        streams = ev.stream_count()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err_console,
        ) as bar:
            total = streams * len(ev.items)
            task: TaskID = bar.add_task(f"{streams} streams", total=total)
            tag_task: list[TaskID] = []

            def progress(stream: str, n: int, of: int) -> None:
                if stream == "tagging":
                    if not tag_task:
                        tag_task.append(bar.add_task("tagging", total=of))
                    bar.update(tag_task[0], advance=n)
                else:
                    bar.update(task, advance=n, description=stream)

            try:
                ev.run(progress)
            except BaseException:
                dep.stores.eval_runs.finish_eval_run(run_id, {}, status="failed")
                raise
        metrics = compute_metrics(out, config, len(ev.items), ev.pool, chunk=chunk)
        metrics["seconds"] = time.perf_counter() - started
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
        written = write_report(out, metrics)
        dep.stores.eval_runs.finish_eval_run(run_id, metrics)
    _print_metrics(metrics)
    console.print(f"run {run_id}: {out}/metrics.json, " + ", ".join(str(p) for p in written))


@app.command("compare")
@friendly_errors
def compare_runs(
    run_a: Path = typer.Argument(..., help="run directory A"),
    run_b: Path = typer.Argument(..., help="run directory B"),
) -> None:
    """Print each method's accuracy in two runs and the difference (B - A)."""
    loaded = []
    for path in (run_a, run_b):
        file = path / "metrics.json"
        if not file.exists():
            raise InputError(f"{file} not found: is {path} a finished eval run?")
        loaded.append(json.loads(file.read_text()))
    a, b = loaded
    console.print(format_comparison(compare(a, b), str(run_a), str(run_b), config_warnings(a, b)))


def _note_generic_profile(active: str | None) -> None:
    uses = f"the active profile set {active!r}" if active else "no profile set (uniform weights)"
    err_console.print(
        f"note: a generic benchmark has no train split to build profiles on; using {uses}. "
        "To profile on your own labelled questions pass --profile-split OTHER.jsonl "
        "(read with the same --field mapping) or --profile FILE (from `symoe profile build "
        "--benchmark generic --split OTHER.jsonl --out FILE`).",
        highlight=False,
    )


def _print_metrics(metrics: dict[str, object]) -> None:
    table = Table(
        "method",
        "accuracy",
        "committee oracle",
        "unparseable",
        "models",
        "model calls",
        "prompt tokens",
        "completion tokens",
        "seconds",
        title=f"{metrics['items']} items",
    )
    for name, m in metrics["methods"].items():  # type: ignore[attr-defined]
        oracle = m["committee_oracle_mean"]  # None: a workflow, no committee
        table.add_row(
            name + (" *" if m["label"] else ""),
            f"{100 * m['accuracy_mean']:.1f} ± {100 * m['accuracy_std']:.1f}",
            "-" if oracle is None else f"{100 * oracle:.1f}",
            f"{m['unparseable_mean']:.0f}",
            f"{m['distinct_models']:.0f}",
            f"{m['model_calls']:,.0f}",
            f"{m['prompt_tokens']:,}",
            f"{m['completion_tokens']:,}",
            f"{m['seconds']:.1f}",
        )
    console.print(table)
