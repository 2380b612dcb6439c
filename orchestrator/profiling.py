"""`symoe profile build`: run every expert on a validation split, grade, build the profile
set, and pick the aggregator by the synthetic aggregator benchmark."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.aggregators.stacker_fit import (
    ValidationAnswer,
    ValidationQuestion,
    fit_stacker,
)
from orchestrator.answers import extract, option_count
from orchestrator.benchmarks import BenchItem, is_correct
from orchestrator.prompts import aggregator_prompt, expert_prompt
from orchestrator.recruiters.diversity_fit import choose_diversity
from orchestrator.scheduler import StageRequest
from orchestrator.stages import StageExecutor
from orchestrator.taggers import Tagger
from skills.aggregator_bench import CandidateAnswer, pick_aggregator, synthetic_items
from skills.diversity import error_correlation
from skills.profiles import GradedAnswer, ProfileSet, build_profiles
from skills.smoothing import choose_smoothing
from workers.types import GenerationParams

Progress = Callable[[str, int], None]  # (phase, items done in this step)
# fewer validation questions than this: no `learned` weights (it falls back to logodds_vote)
MIN_STACKER_QUESTIONS = 50


def _chunks(items: list[BenchItem], size: int) -> list[list[BenchItem]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def build_profile_set(
    *,
    items: list[BenchItem],
    experts: list[str],
    aggregators: list[str],
    completion_experts: set[str],
    tagger: Tagger,
    stages: StageExecutor,
    params: Callable[[str], GenerationParams],
    name: str,
    benchmark: str,
    split: str,
    command: str,
    chunk: int = 32,
    progress: Progress | None = None,
) -> ProfileSet:
    """Work runs in chunks so progress moves; the model pool keeps models resident across
    chunks, so each model is still loaded once while the budget holds them all."""
    report = progress or (lambda phase, n: None)
    skills: dict[str, list[str]] = {}
    for part in _chunks(items, chunk):
        taggings = tagger.tag([i.id for i in part], [i.question for i in part], stages)
        skills.update({i.id: t.skills for i, t in zip(part, taggings, strict=True)})
        report("tag", len(part))

    graded: list[GradedAnswer] = []
    candidates: dict[str, list[CandidateAnswer]] = {}
    validation: dict[str, list[ValidationAnswer]] = {}
    for part in _chunks(items, chunk):
        requests = [
            StageRequest(
                key=item.id,
                expert=e,
                prompt=expert_prompt(item.question, item.fmt, e in completion_experts),
            )
            for item in part
            for e in experts
        ]
        by_id = {i.id: i for i in part}
        for result in stages.run_stage("experts", requests, params):
            item = by_id[result.request.key]
            text = result.completion.text if result.completion else ""
            extracted = extract(text, item.fmt)
            correct = is_correct(extracted, item.answer, item.fmt)
            validation.setdefault(item.id, []).append(
                ValidationAnswer(expert=result.request.expert, text=text, extracted=extracted)
            )
            graded.append(
                GradedAnswer(
                    expert=result.request.expert,
                    question_id=item.id,
                    skills=skills[item.id],
                    correct=correct,
                )
            )
            candidates.setdefault(item.id, []).append(
                CandidateAnswer(expert=result.request.expert, text=text, correct=correct)
            )
        report("experts", len(part))

    profiles, accuracy = build_profiles(graded)
    smoothing, smoothing_cv = choose_smoothing(graded)
    profile = ProfileSet(
        name=name,
        benchmark=benchmark,
        split=split,
        tagger=tagger.name,
        command=command,
        questions=len(items),
        experts=profiles,
        accuracy=accuracy,
        smoothing=smoothing,
        smoothing_cv=smoothing_cv,
    )
    profile.error_correlation = error_correlation(graded)
    if len(items) >= MIN_STACKER_QUESTIONS and len(experts) > 1:
        questions = _validation_questions(items, validation, skills)
        profile.stacker = fit_stacker(questions)
        profile.diversity, profile.diversity_cv = choose_diversity(questions, graded, smoothing)
    report("fit", 1)
    _benchmark_aggregators(
        profile, items, candidates, aggregators, completion_experts, stages, params
    )
    report("aggregators", 1)
    return profile


def _benchmark_aggregators(
    profile: ProfileSet,
    items: list[BenchItem],
    candidates: dict[str, list[CandidateAnswer]],
    aggregators: list[str],
    completion_experts: set[str],
    stages: StageExecutor,
    params: Callable[[str], GenerationParams],
) -> None:
    by_id = {i.id: i for i in items}
    bench = synthetic_items({i.id: (i.question, i.answer) for i in items}, candidates)
    if not bench or not aggregators:
        profile.aggregators["default"] = aggregators[0] if aggregators else ""
        return
    requests = [
        StageRequest(
            key=b.question_id,
            expert=agg,
            prompt=aggregator_prompt(
                b.question, by_id[b.question_id].fmt, b.responses, agg in completion_experts
            ),
        )
        for b in bench
        for agg in aggregators
    ]
    right: dict[str, int] = dict.fromkeys(aggregators, 0)
    for result in stages.run_stage("aggregate", requests, params):
        item = by_id[result.request.key]
        text = result.completion.text if result.completion else ""
        right[result.request.expert] += is_correct(extract(text, item.fmt), item.answer, item.fmt)
    scores = {agg: right[agg] / len(bench) for agg in aggregators}
    profile.aggregator_scores["default"] = scores
    profile.aggregators["default"] = pick_aggregator(scores) or aggregators[0]


def _validation_questions(
    items: list[BenchItem],
    answers: dict[str, list[ValidationAnswer]],
    skills: dict[str, list[str]],
) -> list[ValidationQuestion]:
    """Each question with its experts' answers; its gold is the first extracted answer the
    grader accepts (so "1/2" and "0.5" are one candidate), else the reference answer."""
    out = []
    for item in items:
        given = answers.get(item.id, [])
        gold = next(
            (
                a.extracted
                for a in given
                if a.extracted is not None and is_correct(a.extracted, item.answer, item.fmt)
            ),
            item.answer,
        )
        out.append(
            ValidationQuestion(
                question_id=item.id,
                gold=gold,
                answers=given,
                skills=skills.get(item.id, []),
                options=option_count(item.question) if item.fmt == "letter" else 2,
            )
        )
    return out
