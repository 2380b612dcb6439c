"""What an evaluation run is: the config that identifies it (and guards resumption)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator.aggregators import AGGREGATORS
from orchestrator.benchmarks import GENERIC, is_generic_file
from orchestrator.errors import ConfigError, InputError
from orchestrator.recruiters import RECRUITERS, Recruiter
from orchestrator.retrieval import check_retrieval
from orchestrator.taggers import TAGGERS
from workers.registry import Registry


class Method(BaseModel):
    """What a method name of the config becomes: a recruiter plus an aggregation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    recruiter: Recruiter
    aggregation: str
    k: int
    deterministic: bool = False
    temperature: float | None = None
    label: str = ""
    cascade: bool = False


# name (--methods) -> function of (config, profile set, pool, seed) building the Method, in
# eval/methods.py: imported on first use, since that module builds on this one.
METHODS: Registry[Method] = Registry(
    "method",
    {
        "symoe": "orchestrator.eval.methods:symoe",
        "best-single": "orchestrator.eval.methods:best_single",
        "random-k": "orchestrator.eval.methods:random_k",
        "top-k": "orchestrator.eval.methods:top_k",
        "all-vote": "orchestrator.eval.methods:all_vote",
        "self-consistency": "orchestrator.eval.methods:self_consistency",
        "oracle": "orchestrator.eval.methods:oracle",
    },
    error=InputError,
)
# the serving taggers, and one only evaluation has: the item's own subject as its skill
EVAL_ONLY_TAGGERS = ("category",)


def tagger_names() -> list[str]:
    """What `symoe eval run --tagger` accepts."""
    return [*TAGGERS.names(), *EVAL_ONLY_TAGGERS]


def check_tagger(name: str) -> str:
    return _known("tagger", name, tagger_names())


class EvalConfig(BaseModel):
    benchmark: str
    split: str
    # generic benchmark: BenchItem field -> the file's field (and "fmt"); see benchmarks.generic
    mapping: dict[str, str] | None = None
    methods: list[str] = Field(min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [0])
    limit: int | None = None
    k: int = Field(default=3, ge=1, le=32)
    experts_file: str
    profile_split: str | None = Field(default="train", description="validation split for profiles")
    profile_file: str | None = None
    tagger: str = "embedding"
    recruiter: str = "symbolic"
    aggregation: str = "vote"
    dynamic_k: float | None = None
    min_share: float | None = None
    cascade: bool = False  # symoe: ask in recruitment order, stop when the answer is settled
    max_tokens: int | None = None
    # a gate's name, or auto (the configured gate); None: no retrieval, as before it existed
    retrieval: str | None = None
    # workflow names or YAML files, each run once per item (eval/workflow_stream.py); checked
    # against the deployment's workflow files when the run starts
    workflows: list[str] = Field(default_factory=list)

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: list[str]) -> list[str]:
        return [METHODS.check(name) for name in value]

    @field_validator("workflows")
    @classmethod
    def _distinct_workflows(cls, value: list[str]) -> list[str]:
        # whether each names a workflow is the deployment's to say (eval/workflow_stream.py)
        names = [workflow_stream_name(entry) for entry in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise InputError(f"--workflows names the same stream twice: {', '.join(twice)}")
        return value

    @field_validator("tagger")
    @classmethod
    def _known_tagger(cls, value: str) -> str:
        return check_tagger(value)

    @field_validator("recruiter")
    @classmethod
    def _known_recruiter(cls, value: str) -> str:
        try:
            return RECRUITERS.check(value)
        except ConfigError as exc:
            raise InputError(str(exc)) from None

    @field_validator("aggregation")
    @classmethod
    def _known_aggregation(cls, value: str) -> str:
        return AGGREGATORS.check(value)

    @field_validator("retrieval")
    @classmethod
    def _known_retrieval(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_retrieval(value)
        except ConfigError as exc:
            raise InputError(str(exc)) from None

    @model_validator(mode="after")
    def _generic_profile_split(self) -> EvalConfig:
        # The split of a generic benchmark is a file, so "train" would be read as a file name.
        split = self.profile_split
        generic_needs_file = self.benchmark == GENERIC and not self.profile_file
        if generic_needs_file and split and not is_generic_file(split):
            raise InputError(
                f"a generic benchmark has no {split!r} split to build profiles on: pass "
                "--profile-split none (the active profile set), --profile-split "
                "OTHER.jsonl|.csv (other labelled questions, read with the same --field "
                "mapping) or --profile FILE (a profile set written by `symoe profile build "
                "--benchmark generic --split OTHER.jsonl --out FILE`)"
            )
        return self

    def key(self) -> str:
        # a field added later is left out while unset, so runs made before it still resume
        unset_later = {"retrieval"} if self.retrieval is None else set()
        unset_later |= set() if self.workflows else {"workflows"}
        unset_later |= {"recruiter"} if self.recruiter == "symbolic" else set()
        unset_later |= set() if self.cascade else {"cascade"}
        config = self.model_dump(exclude=unset_later)
        return hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


def workflow_stream_name(entry: str) -> str:
    """A --workflows entry's stream: workflow-<name>, a YAML file's stem for a path."""
    entry = entry.strip()
    if not entry:
        raise InputError("--workflows has an empty name")
    path = Path(entry)
    return f"workflow-{path.stem if path.suffix in ('.yaml', '.yml') else entry}"


def _known(kind: str, name: str, names: Sequence[str]) -> str:
    if name not in names:
        raise InputError(f"unknown {kind} {name!r} (known: {', '.join(names)})")
    return name
