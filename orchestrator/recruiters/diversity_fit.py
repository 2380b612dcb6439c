"""Choosing the `diverse` recruiter's penalty by cross-validation on validation questions:
for each held-out question, the committee it would pick (profiles and error correlations
from the other folds) answers by `logodds_vote`; the penalty with the most right answers
wins (ties: the smaller penalty, 0 being plain `ranked`)."""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.aggregators.logodds import log_odds
from orchestrator.aggregators.stacker_fit import ValidationQuestion
from skills.diversity import diverse_committee, error_correlation
from skills.profiles import GradedAnswer, ProfileSet, build_profiles
from skills.smoothing import fold_of

STRENGTHS: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 1.0)
# the committee size the penalty is chosen for: the default k
DIVERSITY_K = 3


def committee_answer(
    question: ValidationQuestion, committee: list[str], expected: dict[str, float]
) -> str | None:
    """The committee's logodds_vote over its members' recorded answers."""
    given = {a.expert: a for a in question.answers}
    scores: dict[str, float] = {}
    for expert in committee:
        answer = given.get(expert)
        if answer is None or answer.extracted is None:
            continue
        weight = log_odds(expected.get(expert, 0.0), question.options)
        scores[answer.extracted] = scores.get(answer.extracted, 0.0) + weight
    return max(scores, key=lambda c: scores[c]) if scores else None


def choose_diversity(
    questions: Sequence[ValidationQuestion],
    graded: Sequence[GradedAnswer],
    smoothing: float,
    folds: int = 5,
    strengths: Sequence[float] = STRENGTHS,
    k: int = DIVERSITY_K,
) -> tuple[float, dict[str, float]]:
    """The penalty with the best cross-validated committee accuracy, and every candidate's."""
    right = dict.fromkeys(strengths, 0)
    for fold in range(folds):
        train = [g for g in graded if fold_of(g.question_id, folds) != fold]
        held_out = [q for q in questions if fold_of(q.question_id, folds) == fold]
        if not train or not held_out:
            continue
        experts, accuracy = build_profiles(train)
        profile = ProfileSet(name="fold", experts=experts, accuracy=accuracy, smoothing=smoothing)
        correlation = error_correlation(train)
        for q in held_out:
            expected = profile.expected_accuracy(q.skills)
            ranked = sorted(expected, key=lambda m: -expected[m])
            for strength in strengths:
                committee = diverse_committee(expected, correlation, ranked, k, strength)
                right[strength] += committee_answer(q, committee, expected) == q.gold
    total = max(len(questions), 1)
    scores = {s: right[s] / total for s in strengths}
    best = max(strengths, key=lambda s: (scores[s], -s))
    return best, {f"{s:g}": round(v, 6) for s, v in scores.items()}
