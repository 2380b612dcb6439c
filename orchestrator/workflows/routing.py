"""The route step of a sub-task: in which order its type's candidates are tried.

A workflow file picks a `Router` per sub-task type (`route:`, registry ROUTERS):

  order    the file's order (the default)
  profile  the candidates' measured profile for that type: over the stored attempts of
           earlier runs of the same workflow, each one's acceptance rate (attempts meeting
           every threshold) and mean score, both smoothed towards a prior so a candidate seen
           rarely or never is not ruled out by one bad try; ties keep the file's order
  rules    `rules: [{when: {field: value or [values]}, prefer: [candidates]}]`: the first
           rule whose every field matches the sub-task's puts its candidates first, the
           rest follow in the file's order

The ranking functions are pure; `route_candidates` is the engine's one call: it reads the
statistics, ranks, and records the ranking (order and why) as a checkpoint of the sub-task
(step `<sub-task key>:route`), so `symoe workflow show` tells which candidate went first and
why, and a resumed run keeps the order it started with instead of ranking again."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrator.errors import ConfigError
from orchestrator.workflows.types import SubTask
from workers.registry import Registry

# The prior a profile starts from: as if each candidate had made PRIOR_WEIGHT attempts
# passing at PRIOR_RATE with mean score PRIOR_SCORE. Weight 2: one failed try of an unseen
# candidate moves its estimate from 0.5 to 0.33, not to 0.
PRIOR_RATE = 0.5
PRIOR_SCORE = 0.5
PRIOR_WEIGHT = 2.0

Scalar = str | int | float | bool


class CandidateStats(NamedTuple):
    """A candidate's stored attempts on one sub-task type (WorkflowStore.candidate_stats)."""

    attempts: int
    passed: int  # met every threshold
    mean_score: float  # over all its attempts (an attempt that failed scores 0)


class RouteRule(BaseModel):
    """`when` every listed field of the sub-task equals the value (or one of the values),
    `prefer` these candidates, in this order. An empty `when` matches every sub-task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    prefer: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> RouteRule:
        if len(set(self.prefer)) != len(self.prefer):
            raise ValueError(f"prefer: a name repeats ({', '.join(self.prefer)})")
        return self

    def matches(self, task: SubTask) -> bool:
        for field, wanted in self.when.items():
            value = task.type if field == "type" else task.fields.get(field)
            allowed = wanted if isinstance(wanted, list) else [wanted]
            if value is None or value not in allowed:
                return False
        return True

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.when.items()) or "any sub-task"


class Ranked(BaseModel):
    """One candidate's place in a ranking and why (what the route checkpoint stores)."""

    candidate: str
    reason: str
    attempts: int | None = None
    passed: int | None = None
    mean_score: float | None = None
    estimate: float | None = Field(default=None, description="smoothed acceptance rate")
    score_estimate: float | None = Field(default=None, description="smoothed mean score")


def file_order(candidates: Sequence[str]) -> list[Ranked]:
    return [Ranked(candidate=c, reason="file order") for c in candidates]


def profile_ranking(
    candidates: Sequence[str],
    stats: Mapping[str, CandidateStats],
    prior_rate: float = PRIOR_RATE,
    prior_score: float = PRIOR_SCORE,
    prior_weight: float = PRIOR_WEIGHT,
) -> list[Ranked]:
    """Best smoothed acceptance rate first, then best smoothed mean score, then file order."""
    ranked = []
    for candidate in candidates:
        seen = stats.get(candidate, CandidateStats(0, 0, 0.0))
        weight = seen.attempts + prior_weight
        rate, score = prior_rate, prior_score  # no evidence and no prior weight: the prior
        if weight > 0:
            rate = (seen.passed + prior_weight * prior_rate) / weight
            score = (seen.attempts * seen.mean_score + prior_weight * prior_score) / weight
        reason = (
            f"{seen.passed} of {seen.attempts} tries passed, mean {seen.mean_score:.2f}"
            if seen.attempts
            else "not tried before"
        )
        ranked.append(
            Ranked(
                candidate=candidate,
                reason=f"{reason}: estimate {rate:.2f}, score {score:.2f}",
                attempts=seen.attempts,
                passed=seen.passed,
                mean_score=round(seen.mean_score, 6),
                # rounded: equal evidence is a tie (file order), not a float-noise win
                estimate=round(rate, 9),
                score_estimate=round(score, 9),
            )
        )
    # sorted() is stable: equals keep the file's order
    return sorted(ranked, key=lambda r: (-(r.estimate or 0.0), -(r.score_estimate or 0.0)))


def rules_ranking(
    candidates: Sequence[str], rules: Sequence[RouteRule], task: SubTask
) -> list[Ranked]:
    """The first matching rule's candidates first (its order), the rest in file order."""
    for number, rule in enumerate(rules):
        if rule.matches(task):
            why = f"rule {number} ({rule.describe()})"
            preferred = [c for c in rule.prefer if c in candidates]
            first = [Ranked(candidate=c, reason=f"{why} prefers it") for c in preferred]
            rest = [c for c in candidates if c not in preferred]
            return first + [Ranked(candidate=c, reason=f"file order after {why}") for c in rest]
    return [Ranked(candidate=c, reason="no rule matched: file order") for c in candidates]


class Router(ABC):
    name: ClassVar[str] = ""
    uses_stats: ClassVar[bool] = False  # the measured profile is read from the run store
    recorded: ClassVar[bool] = True  # the ranking is a checkpoint of the sub-task

    def __init__(self, rules: Sequence[RouteRule] = ()) -> None:
        self.rules = tuple(rules)

    @abstractmethod
    def rank(
        self, candidates: Sequence[str], task: SubTask, stats: Mapping[str, CandidateStats]
    ) -> list[Ranked]:
        """Every candidate once, the one to try first first."""


class OrderRouter(Router):
    name = "order"
    recorded = False  # nothing to explain: the file says it

    def rank(
        self, candidates: Sequence[str], task: SubTask, stats: Mapping[str, CandidateStats]
    ) -> list[Ranked]:
        return file_order(candidates)


class ProfileRouter(Router):
    name = "profile"
    uses_stats = True

    def rank(
        self, candidates: Sequence[str], task: SubTask, stats: Mapping[str, CandidateStats]
    ) -> list[Ranked]:
        return profile_ranking(candidates, stats)


class RulesRouter(Router):
    name = "rules"

    def rank(
        self, candidates: Sequence[str], task: SubTask, stats: Mapping[str, CandidateStats]
    ) -> list[Ranked]:
        return rules_ranking(candidates, self.rules, task)


ROUTERS: Registry[Router] = Registry(
    "workflow route",
    {r.name: r for r in (OrderRouter, ProfileRouter, RulesRouter)},
    error=ConfigError,
)


def check_route(
    where: str,
    route: str,
    rules: Sequence[RouteRule],
    candidates: Sequence[str],
    fields: Collection[str],
) -> None:
    """A sub-task type's route and rules, checked when the workflow loads: ConfigError naming
    the field (`where` is the type's path, e.g. subtasks.types.speech)."""
    try:
        ROUTERS.check(route)
    except ConfigError as exc:
        raise ConfigError(f"{where}.route: {exc}") from None
    if route == RulesRouter.name and not rules:
        raise ConfigError(f"{where}.rules: route: rules needs at least one rule")
    if rules and route != RulesRouter.name:
        raise ConfigError(f"{where}.rules: only read with route: rules (route is {route!r})")
    for number, rule in enumerate(rules):
        for name in rule.prefer:
            if name not in candidates:
                raise ConfigError(
                    f"{where}.rules.{number}.prefer: {name!r} is not one of the candidates "
                    f"({', '.join(candidates)})"
                )
        for field in rule.when:
            if field not in fields:
                raise ConfigError(
                    f"{where}.rules.{number}.when: {field!r} is not a field of the sub-task "
                    f"items (fields: {', '.join(fields) or 'none'})"
                )


# What route_candidates reads of a WorkflowSpec, as protocols: spec.py imports this module.
class RoutedType(Protocol):
    @property
    def candidates(self) -> Sequence[str]: ...
    @property
    def route(self) -> str: ...
    @property
    def rules(self) -> Sequence[RouteRule]: ...


class RoutedSubtasks(Protocol):
    @property
    def types(self) -> Mapping[str, RoutedType]: ...


class RoutedSpec(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def thresholds(self) -> Mapping[str, float]: ...
    @property
    def subtasks(self) -> RoutedSubtasks: ...


class RouteStore(Protocol):
    """The part of the run store routing uses (the engine's RunStore has it all)."""

    def start_step(self, run_id: str, key: str, kind: str) -> None: ...
    def finish_step(self, run_id: str, key: str, output: dict[str, Any]) -> None: ...
    def done_steps(self, run_id: str) -> dict[str, dict[str, Any]]: ...
    def candidate_stats(
        self,
        workflow: str,
        task_type: str,
        thresholds: Mapping[str, float],
        exclude_run: str | None = None,
    ) -> dict[str, CandidateStats]: ...


def route_candidates(
    spec: RoutedSpec,
    store: RouteStore,
    run_id: str,
    key: str,
    task: SubTask,
    progress: Callable[[str], None],
) -> list[str]:
    """The candidates of `task`'s type in the order to try them (all of them; the engine
    caps the count). A ranked order is stored as step `<key>:route` (kind `task`: part of
    the sub-task, not a step of the workflow) with output {route, order, ranking}."""
    task_type = spec.subtasks.types[task.type]
    router = ROUTERS.create(task_type.route, task_type.rules)
    if not router.recorded:
        return list(task_type.candidates)
    route_key = f"{key}:route"
    before = store.done_steps(run_id).get(route_key)
    if before is not None:  # a resumed run: the order it started with
        order = [c for c in before.get("order", []) if c in task_type.candidates]
        order += [c for c in task_type.candidates if c not in order]
        progress(f"{key}: route {router.name} as before: {', '.join(order)}")
        return order
    stats: dict[str, CandidateStats] = {}
    if router.uses_stats:
        # earlier runs only: this run's sub-tasks, in flight at once, all rank alike
        stats = store.candidate_stats(spec.name, task.type, spec.thresholds, exclude_run=run_id)
    ranking = router.rank(task_type.candidates, task, stats)
    order = [r.candidate for r in ranking]
    output = {
        "route": router.name,
        "order": order,
        "ranking": [r.model_dump(mode="json", exclude_none=True) for r in ranking],
    }
    try:
        store.start_step(run_id, route_key, "task")
        store.finish_step(run_id, route_key, output)
    except ValueError:
        # left running by a process that died between these two writes: the order is
        # still used, only not recorded this time
        progress(f"{key}: route {router.name}: not recorded (a step left running)")
    why = "; ".join(f"{r.candidate} ({r.reason})" for r in ranking)
    progress(f"{key}: route {router.name}: {why}")
    return order
