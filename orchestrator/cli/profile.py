"""`symoe profile build|show`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from orchestrator.benchmarks import load_benchmark
from orchestrator.cli.common import (
    FIELD_HELP,
    console,
    deployment,
    err_console,
    field_mapping,
    friendly_errors,
    print_json,
)
from orchestrator.profiling import build_profile_set
from skills.profiles import ProfileSet
from workers.types import GenerationParams

app = typer.Typer(help="Build and inspect expert skill profiles.", no_args_is_help=True)


@app.command("build")
@friendly_errors
def build(
    benchmark: str = typer.Option(..., help="validation benchmark, e.g. mmlu_pro"),
    split: str = typer.Option(
        "train", help="its validation split (never the test split; generic: a .jsonl/.csv file)"
    ),
    field: list[str] = typer.Option(None, metavar="TARGET=SOURCE", help=FIELD_HELP),
    answer_format: str = typer.Option(
        None, help="generic without choices: letter | number | math | free (default: inferred)"
    ),
    limit: int = typer.Option(None, min=1, help="first N items only"),
    name: str = typer.Option(None, help="profile set name (default: BENCHMARK-SPLIT)"),
    experts: str = typer.Option(None, help="comma-separated experts (default: all enabled)"),
    tagger: str = typer.Option(None, help="embedding | llm (default: settings)"),
    max_tokens: int = typer.Option(None, min=1, help="completion budget per answer"),
    out: Path = typer.Option(None, help="also write the profile set to this JSON file"),
    activate: bool = typer.Option(True, help="make it the active profile set"),
) -> None:
    """Run every expert on a validation split, grade, and store a new profile set version."""
    with deployment() as dep:
        mapping = field_mapping(field, answer_format)
        items = load_benchmark(dep.settings.benchmarks_dir, benchmark, split, limit, mapping)
        names = (
            [e.strip() for e in experts.split(",")]
            if experts
            else [e.name for e in dep.registry.with_role("expert")]
        )
        pool = dep.registry.select(names)
        aggregators = [e.name for e in dep.registry.with_role("aggregator")]
        completion = {e.name for e in dep.registry.all() if e.chat_format == "completion"}
        budget = max_tokens or dep.settings.expert_max_tokens

        def params(expert: str) -> GenerationParams:
            return dep.registry.get(expert).generation_params(budget)

        stages = dep.new_stages()
        total = len(items) * 2 + 2  # tag, experts, fit, aggregators
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
        ) as bar:
            task = bar.add_task(f"profiling {len(pool)} experts on {len(items)} items", total=total)
            profile = build_profile_set(
                items=items,
                experts=[e.name for e in pool],
                aggregators=aggregators,
                completion_experts=completion,
                tagger=dep.tagger(tagger),
                stages=stages,
                params=params,
                name=name or f"{benchmark}-{split}",
                benchmark=benchmark,
                split=split,
                command=shlex.join(["symoe", *sys.argv[1:]]),
                progress=lambda phase, n: bar.update(task, advance=n, description=phase),
            )
        saved = dep.stores.profile_sets.save_profile_set(profile, activate=activate)
        if out:
            saved.save(out)
        loads = ", ".join(f"{ld.expert}:{ld.stage}" for ld in stages.loads)
    _print_summary(saved)
    console.print(f"model loads: {len(stages.loads)} ({loads})")
    if out:
        console.print(f"written to {out}")


@app.command("show")
@friendly_errors
def show(
    file: Path = typer.Option(None, help="a profile set JSON file instead of the active one"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show the active profile set (or a file): accuracy, aggregator, top skills per expert."""
    if file:
        profile: ProfileSet | None = ProfileSet.load(file)
    else:
        with deployment() as dep:
            profile = dep.profile
    if profile is None:
        console.print("no profile set: the recruiter uses uniform weights")
        raise typer.Exit(code=0)
    if as_json:
        print_json(profile.model_dump(mode="json"))
        return
    _print_summary(profile)


def _print_summary(profile: ProfileSet) -> None:
    console.print(
        f"[bold]{profile.label}[/bold] on {profile.benchmark}/{profile.split}, "
        f"{profile.questions} questions, tagger {profile.tagger}, built {profile.created_at}"
    )
    if profile.command:
        console.print(f"[dim]command: {profile.command}[/dim]")
    table = Table("expert", "val. acc.", "G", "best skills", "worst skills")
    competence = profile.global_competence()
    for expert, skills in profile.experts.items():
        ranked = sorted(skills.items(), key=lambda kv: -kv[1].score)
        best = ", ".join(f"{s} {v.score:+d}" for s, v in ranked[:3])
        worst = ", ".join(f"{s} {v.score:+d}" for s, v in ranked[-3:][::-1])
        table.add_row(
            expert, f"{profile.accuracy.get(expert, 0):.1%}", f"{competence[expert]:g}", best, worst
        )
    console.print(table)
    agg = profile.aggregators.get("default")
    scores = profile.aggregator_scores.get("default", {})
    console.print(
        f"aggregator: {agg or 'none'} " + " ".join(f"({a}: {s:.1%})" for a, s in scores.items())
    )
    console.print(
        f"per-skill smoothing (Beta-prior strength, by cross-validation): {profile.smoothing:g}"
    )
    if profile.error_correlation:
        console.print(
            f"diverse recruiter: penalty {profile.diversity:g} on error correlation "
            "(by cross-validation)"
        )
    stacker = profile.stacker
    if stacker is None:
        console.print("learned aggregation: no fitted weights (auto uses symbolic + llm)")
    else:
        by_skill = "with per-skill vote weights" if stacker.skill_votes else "without skill weights"
        cv = f"{stacker.cv_accuracy:.1%}" if stacker.cv_accuracy is not None else "-"
        console.print(
            f"learned aggregation: fitted on {stacker.questions} questions, {by_skill}, "
            f"L2 {stacker.l2:g}, cross-validated accuracy {cv} (auto uses ranked + learned)"
        )
