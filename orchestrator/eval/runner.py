"""`symoe eval run`: every method x seed over a benchmark split, then each workflow once per
item (eval/workflow_stream.py), resumable.

Layout of a run directory:
  config.json                      the run's identity; a different config is refused
  tags.json                        skills per item (train and test), computed once
  profile.json                     profiles built on the validation split (when asked)
  predictions/<method>__seed<s>.jsonl   one row per item, appended chunk by chunk
  progress/<method>__seed<s>.json  cumulative seconds, calls, tokens and loads of that stream
  predictions/workflow-<name>__seed<s>.jsonl, progress/...   the same for a workflow (first
                                   seed only), appended item by item
Every write is a whole chunk or an atomic replace, so a killed run resumes where it stopped
and no item is computed twice.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from orchestrator.answering import AnsweringService
from orchestrator.benchmarks import BenchItem, load_benchmark
from orchestrator.errors import InputError
from orchestrator.eval.config import EvalConfig
from orchestrator.eval.methods import Method, build_method
from orchestrator.eval.streams import (
    Progress,
    append_rows,
    atomic_write,
    open_stream,
    prediction_row,
)
from orchestrator.eval.workflow_stream import WorkflowStream, check_workflow
from orchestrator.experts import ExpertRegistry
from orchestrator.factory import Deployment
from orchestrator.plan import BatchOptions, Query
from orchestrator.planner import Planner
from orchestrator.profiling import build_profile_set
from orchestrator.retrieval import AUTO
from orchestrator.taggers import PrecomputedTagger
from orchestrator.trace import SkillTagging
from skills.profiles import ProfileSet
from workers.types import GenerationParams


class EvalRun:
    def __init__(
        self,
        dep: Deployment,
        config: EvalConfig,
        out_dir: Path,
        chunk: int = 256,
        overwrite: bool = False,
    ) -> None:
        self.dep = dep
        self.config = config
        self.out = out_dir
        self.chunk = chunk
        # Every input is read and checked before the first write, so a run refused on input
        # leaves nothing in out_dir (and a corrected rerun needs no --overwrite).
        self.registry: ExpertRegistry = dep.registry
        self.pool = [e.name for e in self.registry.with_role("expert")]
        root = dep.settings.benchmarks_dir
        self.items = load_benchmark(
            root, config.benchmark, config.split, config.limit, mapping=config.mapping
        )
        if not self.items:
            raise InputError(f"{config.benchmark}/{config.split} has no items")
        self.train: list[BenchItem] = []
        if config.profile_split and not config.profile_file:
            if config.profile_split == config.split:
                raise InputError("profiles must be built on another split than the evaluated one")
            self.train = load_benchmark(
                root, config.benchmark, config.profile_split, mapping=config.mapping
            )
        self._profile_file = (
            ProfileSet.load(Path(config.profile_file)) if config.profile_file else None
        )
        if config.tagger == "llm" and not self.registry.with_role("tagger"):
            raise InputError("--tagger llm needs an expert with the tagger role")
        for entry in config.workflows:
            check_workflow(dep, entry)
        self._prepare_dir(overwrite)

    # -- setup ----------------------------------------------------------------------------
    def _prepare_dir(self, overwrite: bool) -> None:
        path = self.out / "config.json"
        if path.exists():
            try:
                old = EvalConfig.model_validate_json(path.read_text())
            except ValueError:
                old = None
            if old != self.config:
                if not overwrite:
                    raise InputError(
                        f"{self.out} holds a run with a different config; "
                        "choose another --out or pass --overwrite"
                    )
                for sub in ("predictions", "progress", "plots"):
                    shutil.rmtree(self.out / sub, ignore_errors=True)
                for name in ("tags.json", "profile.json", "metrics.json", "report.md"):
                    (self.out / name).unlink(missing_ok=True)
        atomic_write(path, self.config.model_dump_json(indent=1))

    def tags(self, progress: Progress | None = None) -> dict[str, SkillTagging]:
        path = self.out / "tags.json"
        cached: dict[str, SkillTagging] = {}
        if path.exists():
            raw = json.loads(path.read_text())
            cached = {k: SkillTagging.model_validate(v) for k, v in raw.items()}
        todo = [i for i in [*self.train, *self.items] if i.id not in cached]
        if todo:
            if self.config.tagger == "category":
                for i in todo:
                    cached[i.id] = SkillTagging(method="category", skills=[i.category.lower()])
            else:
                tagger = self.dep.tagger(self.config.tagger)
                stages = self.dep.new_stages()
                for start in range(0, len(todo), self.chunk):
                    part = todo[start : start + self.chunk]
                    for item, t in zip(
                        part,
                        tagger.tag([i.id for i in part], [i.question for i in part], stages),
                        strict=True,
                    ):
                        cached[item.id] = t
                    if progress:
                        progress("tagging", len(part), len(todo))
            atomic_write(path, json.dumps({k: v.model_dump() for k, v in cached.items()}))
        return cached

    def profile(self, tags: dict[str, SkillTagging]) -> ProfileSet | None:
        if self._profile_file is not None:
            return self._profile_file
        if not self.config.profile_split:
            return self.dep.profile
        path = self.out / "profile.json"
        if path.exists():
            return ProfileSet.load(path)
        completion = {e.name for e in self.registry.all() if e.chat_format == "completion"}
        aggregators = [e.name for e in self.registry.with_role("aggregator")]
        profile = build_profile_set(
            items=self.train,
            experts=self.pool,
            aggregators=aggregators,
            completion_experts=completion,
            tagger=PrecomputedTagger(tags),
            stages=self.dep.new_stages(),
            params=lambda n: self._params(n),
            name=f"eval-{self.config.benchmark}-{self.config.profile_split}",
            benchmark=self.config.benchmark,
            split=self.config.profile_split,
            command="symoe eval run (profile step)",
        )
        profile.save(path)
        return profile

    def _params(self, name: str) -> GenerationParams:
        return self.registry.get(name).generation_params(self.config.max_tokens)

    # -- the streams ----------------------------------------------------------------------
    def streams(self) -> list[tuple[str, int]]:
        """(method, seed) pairs to compute; a deterministic method runs with the first seed."""
        out: list[tuple[str, int]] = []
        for method in self.config.methods:
            probe = build_method(method, self.config, None, self.pool or ["x"], 0)
            seeds = self.config.seeds[:1] if probe.deterministic else self.config.seeds
            out.extend((method, s) for s in seeds)
        return out

    def stream_count(self) -> int:
        """Method x seed streams plus one stream per workflow."""
        return len(self.streams()) + len(self.config.workflows)

    def run(self, progress: Progress | None = None) -> None:
        tags = self.tags(progress)
        profile = self.profile(tags)
        tagger = PrecomputedTagger(tags)
        for method_name, seed in self.streams():
            method = build_method(method_name, self.config, profile, self.pool, seed)
            self._run_stream(method, seed, profile, tagger, progress)
        for entry in self.config.workflows:
            stream = WorkflowStream(self.dep, self.config, entry, self._retrieval_gate())
            stream.run(self.items, self.out, progress)

    def _run_stream(
        self,
        method: Method,
        seed: int,
        profile: ProfileSet | None,
        tagger: PrecomputedTagger,
        progress: Progress | None,
    ) -> None:
        stem = f"{method.name}__seed{seed}"
        pred_path = self.out / "predictions" / f"{stem}.jsonl"
        prog_path = self.out / "progress" / f"{stem}.json"
        rows, stats = open_stream(pred_path, prog_path)
        done = {str(r["item_id"]) for r in rows}
        todo = [i for i in self.items if i.id not in done]
        if progress and done:
            progress(stem, len(done), len(self.items))
        if not todo:
            return
        # A fresh pool per stream: its loads are what this method costs.
        runner = self.dep.make_runner()
        # no database: the predictions files are this run's record
        retrieval = self._retrieval_gate()
        planner = Planner(
            registry=self.registry,
            tagger=tagger,
            gate=self.dep.gate(profile),
            recruiter=method.recruiter,
            aggregators=self.dep.aggregators(),
            profile=profile,
            # the deployment's document store: ingest the benchmark's corpus first
            search=self.dep.retriever.search if retrieval != "never" else None,
            passages=self.dep.settings.retrieval_passages,
        )
        answering = AnsweringService(planner, self.dep.plan_executor(runner))
        options = BatchOptions(
            k=method.k,
            aggregation=method.aggregation,
            retrieval=retrieval,
            expert_max_tokens=self.config.max_tokens,
            temperature=method.temperature,
            seed=seed,
            cascade=method.cascade,
        )
        for start in range(0, len(todo), self.chunk):
            part = todo[start : start + self.chunk]
            started = time.perf_counter()
            report = answering.answer(
                [
                    Query(text=i.question, id=i.id, question_id=i.question_id, fmt=i.fmt)
                    for i in part
                ],
                options,
            )
            append_rows(
                pred_path,
                [
                    prediction_row(method, seed, i, t)
                    for i, t in zip(part, report.traces, strict=True)
                ],
            )
            stats.add(report, time.perf_counter() - started)
            atomic_write(prog_path, stats.model_dump_json())
            if progress:
                progress(stem, len(part), len(self.items))
        runner.close()

    def _retrieval_gate(self) -> str:
        """The gate of this run: none asked is `never` (whatever the settings say), `auto`
        is the configured one."""
        asked = self.config.retrieval
        if asked is None:
            return "never"
        return self.dep.settings.retrieval_gate if asked == AUTO else asked
