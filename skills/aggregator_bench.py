"""The reference aggregator benchmark: synthetic items, each showing one correct and (up to)
two wrong validation answers to the same question; the candidate aggregator that recovers
the correct answer most often becomes the aggregator for that task."""

from __future__ import annotations

import random

from pydantic import BaseModel


class CandidateAnswer(BaseModel):
    expert: str
    text: str
    correct: bool


class AggregatorBenchItem(BaseModel):
    question_id: str
    question: str
    gold: str
    responses: list[str]


def synthetic_items(
    questions: dict[str, tuple[str, str]],
    answers: dict[str, list[CandidateAnswer]],
    n_wrong: int = 2,
    seed: int = 0,
    limit: int | None = None,
) -> list[AggregatorBenchItem]:
    """`questions`: id -> (question, gold). Items need at least one correct and one wrong
    answer; with fewer than `n_wrong` wrong answers available (a small pool) the item uses
    what there is. Response order is shuffled so position reveals nothing."""
    rng = random.Random(seed)
    items = []
    for qid in sorted(answers):
        right = [a for a in answers[qid] if a.correct and a.text.strip()]
        wrong = [a for a in answers[qid] if not a.correct and a.text.strip()]
        if not right or not wrong:
            continue
        chosen = [
            rng.choice(right).text,
            *(a.text for a in rng.sample(wrong, min(n_wrong, len(wrong)))),
        ]
        rng.shuffle(chosen)
        question, gold = questions[qid]
        items.append(
            AggregatorBenchItem(question_id=qid, question=question, gold=gold, responses=chosen)
        )
    return items[:limit] if limit else items


def pick_aggregator(scores: dict[str, float]) -> str | None:
    """The most accurate candidate; ties go to the first named (configuration order)."""
    if not scores:
        return None
    return max(scores, key=lambda name: scores[name])
