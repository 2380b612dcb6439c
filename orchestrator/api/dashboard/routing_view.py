"""What the routing page counts over the newest stored queries: the AdminService's
recruitment statistics (draws, aggregations, failures, replacements per expert: the same
`count_recruitment` as /v1/admin/stats) and, from the same plan digests, draws per skill and
expert. Stored queries carry no benchmark or data-set tag; draws per benchmark come from the
evaluation runs' prediction files instead (eval_draws), counted in the same snapshot. And the
loads per expert over the batches of a window of newest queries (the Experts page's column),
from QueryLog.batch_loads, the query of the routing page's loads chart."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from orchestrator.api.admin.schemas import RecruitmentStats
from orchestrator.api.admin.service import count_recruitment
from orchestrator.api.dashboard.eval_draws import BenchmarkDraws
from orchestrator.db.query_log import BatchLoads
from orchestrator.db.traces import PlanDigest
from orchestrator.errors import InputError

NO_SKILL = "(no skill tagged)"
# the choices of how many newest queries are counted (5,000: about a second to count, cold)
WINDOWS = (500, 2000, 5000)


@dataclass(frozen=True)
class SkillRow:
    skill: str
    queries: int
    draws: Counter[str]  # expert -> draws in queries tagged with this skill

    def share(self, expert: str) -> float:
        total = sum(self.draws.values())
        return self.draws[expert] / total if total else 0.0


@dataclass(frozen=True)
class RoutingCounts:
    stats: RecruitmentStats
    skills: list[SkillRow]  # most queries first
    benchmarks: list[BenchmarkDraws] = field(default_factory=list)  # from eval runs

    @property
    def drawn_experts(self) -> list[str]:
        """Experts drawn at least once, most drawn first (the skill table's columns)."""
        return [e.name for e in self.stats.experts if e.drawn]

    @property
    def benchmark_experts(self) -> list[str]:
        """Experts drawn in any counted eval run, most drawn first (the benchmark table's
        columns)."""
        total: Counter[str] = Counter()
        for b in self.benchmarks:
            total.update(b.draws)
        return [name for name, _ in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))]

    @property
    def events(self) -> dict[str, int]:
        experts = self.stats.experts
        return {
            "failed draws": sum(e.errors for e in experts),
            "slots filled by a replacement": sum(e.replacements for e in experts),
            "failed aggregations": sum(e.aggregator_errors for e in experts),
        }


def routing_counts(
    digests: list[PlanDigest],
    registered: list[str],
    limit: int,
    benchmarks: list[BenchmarkDraws] | None = None,
) -> RoutingCounts:
    stats = count_recruitment(digests, registered, None, limit)
    queries: Counter[str] = Counter()
    draws: dict[str, Counter[str]] = {}
    for d in digests:
        for skill in set(d.skills) or {NO_SKILL}:
            queries[skill] += 1
            draws.setdefault(skill, Counter()).update(d.drawn)
    rows = [
        SkillRow(skill, n, draws[skill])
        for skill, n in sorted(queries.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return RoutingCounts(stats=stats, skills=rows, benchmarks=benchmarks or [])


def loads_per_expert(batches: list[BatchLoads], queries: int) -> Counter[str]:
    """Model loads per expert in the newest batches (`batches` oldest first, as
    QueryLog.batch_loads gives them) holding the newest `queries` stored queries: a batch's
    queries share its instant, so those are the newest batches up to that many queries (the
    oldest of them counted whole)."""
    loads: Counter[str] = Counter()
    covered = 0
    for batch in reversed(batches):
        if covered >= queries:
            break
        loads.update(batch.per_expert)
        covered += batch.queries
    return loads


def window(raw: str | None, default: int = 2000) -> int:
    """`?window=`: one of WINDOWS."""
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) not in WINDOWS:
        choices = ", ".join(map(str, WINDOWS))
        raise InputError(f"window: one of {choices} (newest queries counted), not {raw[:20]!r}")
    return int(raw)
