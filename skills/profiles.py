"""Expert profiles: per (expert, skill) the signed count of correct minus wrong validation
answers and the count itself, kept as versioned, JSON-serialisable profile sets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError


class SkillScore(BaseModel):
    score: int = 0
    count: int = 0


class GradedAnswer(BaseModel):
    """One expert's graded answer to one validation question, with that question's skills."""

    expert: str
    question_id: str
    skills: list[str]
    correct: bool


class StackerWeights(BaseModel):
    """The `learned` aggregator's fit: per expert, one weight per answer feature
    (orchestrator/aggregators/answer_features.py names them), fitted on validation answers."""

    features: list[str]
    experts: dict[str, list[float]] = Field(default_factory=dict)
    skill_votes: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="per expert and skill, a vote weight shared over the query's skills "
        "(empty when cross-validation preferred none)",
    )
    length_mean: dict[str, float] = Field(
        default_factory=dict, description="mean log(1 + words) of each expert's answers"
    )
    l2: float = 0.0
    cv_accuracy: float | None = Field(default=None, description="cross-validated, on validation")
    cv: dict[str, float] = Field(
        default_factory=dict, description="every candidate setting's cross-validated accuracy"
    )
    questions: int = 0


# Beta-prior strength when a set has none chosen by cross-validation (sets built before it)
DEFAULT_SMOOTHING = 10.0


class ProfileSet(BaseModel):
    name: str
    version: int = 1
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    benchmark: str = ""
    split: str = ""
    tagger: str = ""
    command: str = Field(default="", description="the exact command that built this set")
    questions: int = 0
    experts: dict[str, dict[str, SkillScore]] = Field(default_factory=dict)
    accuracy: dict[str, float] = Field(default_factory=dict, description="validation accuracy")
    aggregators: dict[str, str] = Field(
        default_factory=dict, description="task -> aggregator chosen by the aggregator benchmark"
    )
    aggregator_scores: dict[str, dict[str, float]] = Field(default_factory=dict)
    smoothing: float = Field(
        default=DEFAULT_SMOOTHING,
        description="Beta-prior strength shrinking per-skill accuracy toward global accuracy",
    )
    smoothing_cv: dict[str, float] = Field(
        default_factory=dict, description="strength -> held-out log-likelihood per answer"
    )
    stacker: StackerWeights | None = None
    error_correlation: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="per pair of experts, phi of their validation errors"
    )
    diversity: float = Field(
        default=0.0, description="the diverse recruiter's penalty on error correlation"
    )
    diversity_cv: dict[str, float] = Field(
        default_factory=dict, description="penalty -> cross-validated committee accuracy"
    )

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"

    def global_competence(self) -> dict[str, float]:
        """G_m: the sum of expert m's signed skill scores."""
        return {m: float(sum(s.score for s in sk.values())) for m, sk in self.experts.items()}

    def local_suitability(self, skills: Iterable[str]) -> dict[str, float]:
        """L_m(q): the sum of m's scores over q's skills, only for experts that have seen any of
        them (as in the reference, an expert with no record of a skill is not a candidate)."""
        wanted = list(skills)
        out: dict[str, float] = {}
        for expert, scores in self.experts.items():
            seen = [scores[s].score for s in wanted if s in scores]
            if seen:
                out[expert] = float(sum(seen))
        return out

    def expected_accuracy(self, skills: Iterable[str]) -> dict[str, float]:
        """Per expert, its accuracy on the query's skills: per skill (right + a * global) /
        (answered + a), a Beta prior of strength a = `smoothing` centred on its global
        validation accuracy, averaged over the skills; no skill on record: the global one."""
        wanted = list(dict.fromkeys(skills))
        out: dict[str, float] = {}
        for expert, scores in self.experts.items():
            prior = self.accuracy.get(expert, 0.0)
            seen = [scores[s] for s in wanted if s in scores]
            if not seen:
                out[expert] = prior
                continue
            out[expert] = sum(smoothed(sc, prior, self.smoothing) for sc in seen) / len(seen)
        return out

    def skills(self) -> list[str]:
        return sorted({s for sk in self.experts.values() for s in sk})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.model_dump_json(indent=1))
        tmp.replace(path)  # atomic: a crash never leaves half a profile

    @classmethod
    def load(cls, path: Path) -> ProfileSet:
        try:
            return cls.model_validate_json(path.read_text())
        except FileNotFoundError:
            raise ValueError(f"profile set not found: {path}") from None
        except ValidationError as exc:
            raise ValueError(f"malformed profile set {path}: {exc.errors()[0]['msg']}") from None


def build_profiles(
    graded: Iterable[GradedAnswer],
) -> tuple[dict[str, dict[str, SkillScore]], dict[str, float]]:
    """+1 per skill of a correctly answered question, -1 per skill of a wrong one; also each
    expert's accuracy. Skills repeated within one question count once."""
    experts: dict[str, dict[str, SkillScore]] = {}
    right: dict[str, int] = {}
    total: dict[str, int] = {}
    for g in graded:
        scores = experts.setdefault(g.expert, {})
        for skill in dict.fromkeys(g.skills):
            entry = scores.setdefault(skill, SkillScore())
            entry.score += 1 if g.correct else -1
            entry.count += 1
        total[g.expert] = total.get(g.expert, 0) + 1
        right[g.expert] = right.get(g.expert, 0) + int(g.correct)
    accuracy = {m: right[m] / total[m] for m in total}
    return experts, accuracy


def smoothed(score: SkillScore, prior: float, strength: float) -> float:
    """(right + strength * prior) / (answered + strength); right = (score + count) / 2."""
    right = (score.score + score.count) / 2
    if score.count + strength <= 0:
        return prior
    return (right + strength * prior) / (score.count + strength)
