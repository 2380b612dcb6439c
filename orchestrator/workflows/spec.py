"""A workflow file (YAML): the team's roles, the sub-task schema the planner must fill, which
candidates (tools) make each sub-task type, in which order (`route`), and which supervisors
review it, the score thresholds, the bounds of the refinement loop, and the steps in
dependency order.

Everything a run needs is checked when the file loads, so a bad file fails before any model
loads: unknown roles, tools, supervisors, routes, step kinds and assemblers, a dependency
cycle, a supervisor dimension without a threshold, a schema whose items are not an array, a
route rule naming a candidate or field the type does not have. The error names the file
and the field."""

from __future__ import annotations

import hashlib
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.errors import ConfigError
from orchestrator.workflows.assemblers import ASSEMBLERS, Assembler
from orchestrator.workflows.routing import RouteRule, check_route
from orchestrator.workflows.tools import SUPERVISORS, TOOLS, Supervisor, Tool
from orchestrator.workflows.types import RoleSpec

# What a step does (orchestrator/workflows/engine.py runs each kind):
#   plan      the planner role writes the sub-tasks, constrained to the schema
#   tasks     each sub-task: route -> generate -> review -> refine (bounded), in parallel
#   judge     the judge role scores the whole result (e.g. coverage of the input)
#   assemble  the assembler puts the accepted attempts together (a mix, a synthesis)
StepKind = Literal["plan", "tasks", "judge", "assemble"]
ROLE_OF_STEP: dict[str, str] = {"plan": "planner", "judge": "judge"}
# the refiner, when a workflow has one, rewrites a failed attempt's instruction; a
# synthesizer is for an assembler that writes with an LLM
KNOWN_ROLES = ("planner", "judge", "refiner", "synthesizer")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskTypeSpec(_Strict):
    candidates: list[str] = Field(min_length=1, description="tools, best first")
    supervisors: list[str] = Field(default_factory=list)
    # in which order the candidates are tried (orchestrator/workflows/routing.py, ROUTERS)
    route: str = "order"
    rules: list[RouteRule] = Field(default_factory=list, description="for route: rules")

    @model_validator(mode="after")
    def _distinct(self) -> TaskTypeSpec:
        for field in ("candidates", "supervisors"):
            names = getattr(self, field)
            if len(set(names)) != len(names):
                raise ValueError(f"{field}: a name repeats ({', '.join(names)})")
        return self


class SubtaskSpec(_Strict):
    """The planner's output: a JSON object whose `items` array holds the sub-tasks; each item
    has a `type` (one of `types`) and the fields the tools read."""

    json_schema: dict[str, Any] = Field(alias="schema")
    items: str = Field(min_length=1)
    types: dict[str, TaskTypeSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _items_are_an_array(self) -> SubtaskSpec:
        field = self.json_schema.get("properties", {}).get(self.items)
        if not isinstance(field, dict) or field.get("type") != "array":
            raise ValueError(f"schema.properties.{self.items} must be an array (the sub-tasks)")
        return self

    def item_fields(self) -> list[str]:
        """The fields a sub-task item's schema names (what route rules may match on)."""
        items = self.json_schema["properties"][self.items].get("items", {})
        return list(items.get("properties", {})) if isinstance(items, dict) else []


class StepSpec(_Strict):
    name: str = Field(min_length=1)
    kind: StepKind
    after: list[str] = Field(default_factory=list)


class WorkflowSpec(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    input_max_chars: int = Field(default=4000, ge=1, le=100_000)
    roles: dict[str, RoleSpec] = Field(default_factory=dict)
    subtasks: SubtaskSpec
    thresholds: dict[str, float] = Field(default_factory=dict)
    candidates_per_task: int = Field(default=2, ge=1, le=8)
    attempts_per_candidate: int = Field(default=2, ge=1, le=8)
    timeout_s: float = Field(default=120.0, gt=0.0, le=3600.0)
    parallel: int = Field(default=4, ge=1, le=64)
    assembler: str = Field(min_length=1)
    steps: list[StepSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> WorkflowSpec:
        for role in self.roles:
            if role not in KNOWN_ROLES:
                raise ValueError(f"roles.{role}: unknown role (known: {', '.join(KNOWN_ROLES)})")
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"steps: a step name repeats ({', '.join(names)})")
        for step in self.steps:
            for before in step.after:
                if before not in names:
                    raise ValueError(f"steps.{step.name}.after: unknown step {before!r}")
            needed = ROLE_OF_STEP.get(step.kind)
            if needed is not None and needed not in self.roles:
                raise ValueError(f"steps.{step.name}: a {step.kind} step needs roles.{needed}")
        try:
            self.order()
        except CycleError as exc:
            raise ValueError(f"steps: a cycle: {' -> '.join(exc.args[1])}") from None
        for value in self.thresholds.values():
            if not 0.0 <= value <= 1.0:
                raise ValueError("thresholds: each must be in [0, 1]")
        return self

    def order(self) -> list[StepSpec]:
        """The steps in an order that respects every `after` (file order among equals)."""
        by_name = {s.name: s for s in self.steps}
        sorter = TopologicalSorter({s.name: s.after for s in self.steps})
        return [by_name[name] for name in sorter.static_order()]


def _check_registries(spec: WorkflowSpec) -> None:
    """Tools, supervisors, routes and the assembler exist, every dimension has a threshold,
    and route rules name the type's candidates and the items' fields."""
    ASSEMBLERS.check(spec.assembler)
    assembler = cast(type[Assembler], ASSEMBLERS.get(spec.assembler))
    _check_roles(spec, f"assembler {spec.assembler!r}", assembler.needs_roles)
    fields = spec.subtasks.item_fields()
    for kind, task_type in spec.subtasks.types.items():
        where = f"subtasks.types.{kind}"
        check_route(where, task_type.route, task_type.rules, task_type.candidates, fields)
        for tool in task_type.candidates:
            # an unknown name: the registry's error names the known ones
            handles = cast(type[Tool], TOOLS.get(tool)).handles
            if handles and kind not in handles:
                raise ConfigError(
                    f"subtasks.types.{kind}.candidates: tool {tool!r} makes "
                    f"{', '.join(handles)}, not {kind}"
                )
        for name in task_type.supervisors:
            supervisor = cast(type[Supervisor], SUPERVISORS.get(name))
            _check_roles(spec, f"supervisor {name!r} of {where}", supervisor.needs_roles)
            for dimension in supervisor.dimensions:
                if dimension not in spec.thresholds:
                    raise ConfigError(
                        f"thresholds: no threshold for {dimension!r} (supervisor {name!r} "
                        f"of subtasks.types.{kind})"
                    )


def _check_roles(spec: WorkflowSpec, user: str, needed: tuple[str, ...]) -> None:
    for role in needed:
        if role not in spec.roles:
            raise ConfigError(f"roles: {user} needs roles.{role} (an expert and a prompt)")


def parse_workflow(text: str, source: str) -> WorkflowSpec:
    """The workflow in `text` (YAML); a ConfigError names `source` and the field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    try:
        spec = WorkflowSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None
    try:
        _check_registries(spec)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return spec


def load_workflow(path: Path) -> tuple[WorkflowSpec, str]:
    """The workflow in `path` and the SHA-256 of its text (a run records which file ran)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read workflow {path}: {exc.strerror or exc}") from None
    return parse_workflow(text, str(path)), hashlib.sha256(text.encode()).hexdigest()
