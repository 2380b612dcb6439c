"""The `expert_rag` gate's features, one row per query. The same function computes them when
the gate is fitted and when it decides, so the two can never drift apart.

Three kinds: what labelled questions like this one said (SKR's kNN vote, as a number, and
how near the nearest is); what the store holds for it (`SearchSignals`); and what the
experts know (the query's skills, how many of them the profile has measured, and the
experts' validation accuracy on them: retrieval should matter least where a strong expert
covers every skill)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from orchestrator.retrieval.probe import SearchSignals
from orchestrator.retrieval.skr import Votes
from orchestrator.trace import SkillTagging
from skills.profiles import ProfileSet

FEATURES: tuple[str, ...] = (
    "knn_vote",  # (helped - hurt) / k among the k nearest labelled questions
    "nearest_similarity",
    "bm25_top",
    "bm25_margin",
    "dense_top",
    "dense_margin",
    "agreement",
    "skills",  # how many skills the tagger named
    "skill_similarity",  # the best skill's similarity to the query
    "skill_coverage",  # share of those skills some expert was measured on
    "best_skill_accuracy",  # the best expert's validation accuracy on them
    "mean_skill_accuracy",  # the measured experts' mean accuracy on them
    "question_tokens",  # log(1 + characters / 4)
)


def skill_accuracies(profile: ProfileSet | None, skills: Sequence[str]) -> dict[str, float]:
    """Per expert with a record on any of `skills`: its validation accuracy over them
    (a profile score is correct minus wrong, so correct = (count + score) / 2)."""
    if profile is None:
        return {}
    out: dict[str, float] = {}
    for expert, scores in profile.experts.items():
        seen = [scores[s] for s in skills if s in scores and scores[s].count > 0]
        count = sum(s.count for s in seen)
        if count:
            out[expert] = sum((s.count + s.score) / 2 for s in seen) / count
    return out


def _coverage(profile: ProfileSet | None, skills: Sequence[str]) -> float:
    if profile is None or not skills:
        return 0.0
    measured = {s for scores in profile.experts.values() for s, v in scores.items() if v.count}
    return sum(s in measured for s in skills) / len(skills)


def feature_matrix(
    questions: Sequence[str],
    taggings: Sequence[SkillTagging],
    votes: Votes,
    k: int,
    signals: Sequence[SearchSignals],
    profile: ProfileSet | None,
) -> npt.NDArray[np.float64]:
    """One row of FEATURES per question, in order."""
    rows = []
    for i, (question, tagging, found) in enumerate(zip(questions, taggings, signals, strict=True)):
        accuracy = skill_accuracies(profile, tagging.skills)
        rows.append(
            [
                (int(votes.better[i]) - int(votes.worse[i])) / k,
                float(votes.nearest[i]),
                found.bm25_top,
                found.bm25_margin,
                found.dense_top,
                found.dense_margin,
                found.agreement,
                float(len(tagging.skills)),
                max(tagging.similarities.values(), default=0.0),
                _coverage(profile, tagging.skills),
                max(accuracy.values(), default=0.0),
                float(np.mean(list(accuracy.values()))) if accuracy else 0.0,
                float(np.log1p(len(question) / 4)),
            ]
        )
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))
