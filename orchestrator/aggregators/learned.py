"""`learned`: a vote whose weights were fitted on validation answers (stacker_fit.py): each
answer adds its expert's weights times its features (answer_features.py), plus its
per-skill vote weights for the query's skills when the fit kept them, to the candidate it
names; the highest sum wins. An expert without fitted weights is left out. Without fitted
weights in the profile set (or for an answer no fitted expert gave) it is `logodds_vote`."""

from __future__ import annotations

from orchestrator.aggregators.answer_features import LENGTH_CLIP, answer_features
from orchestrator.aggregators.base import AggregationInput, AggregationOutcome, ExpertAnswer
from orchestrator.aggregators.logodds import LogOddsVoteAggregator
from orchestrator.aggregators.vote import VotingPolicy
from skills.profiles import StackerWeights


def skill_vote(stacker: StackerWeights, expert: str, skills: list[str]) -> float:
    """The expert's vote weight for the query's skills, shared out as in the fit."""
    votes = stacker.skill_votes.get(expert)
    if not votes:
        return 0.0
    known = [s for s in dict.fromkeys(skills) if s in votes]
    return sum(votes[s] for s in known) / len(known) if known else 0.0


def _fitted(item: AggregationInput) -> bool:
    stacker = item.stacker
    return stacker is not None and any(a.expert in stacker.experts for a in item.answers)


class LearnedAggregator(VotingPolicy):
    name = "learned"
    fallback = LogOddsVoteAggregator()

    def weight(self, item: AggregationInput, answer: ExpertAnswer) -> float | None:
        stacker = item.stacker
        if stacker is None:
            return self.fallback.weight(item, answer)
        w = stacker.experts.get(answer.expert)
        if w is None:  # left out: its vote must not even create a candidate
            return None
        feats = answer_features(answer.text, stacker.length_mean.get(answer.expert, 0.0))
        return sum(x * y for x, y in zip(w, feats, strict=True)) + skill_vote(
            stacker, answer.expert, item.skills
        )

    def reach(self, item: AggregationInput, expert: str) -> float:
        """From the feature ranges: vote 1, length within +-LENGTH_CLIP, the rest in [0, 1]."""
        stacker = item.stacker
        if stacker is None:
            return self.fallback.reach(item, expert)
        w = stacker.experts.get(expert)
        if w is None:
            return 0.0
        fixed = w[0] + skill_vote(stacker, expert, item.skills)
        spread = LENGTH_CLIP * abs(w[1])
        high = fixed + spread + sum(max(0.0, x) for x in w[2:])
        low = fixed - spread + sum(min(0.0, x) for x in w[2:])
        return max(high, -low, 0.0)

    def aggregate(self, item: AggregationInput, completion: bool) -> AggregationOutcome:
        if not _fitted(item):
            outcome = self.fallback.aggregate(item, completion)
            why = (
                "the profile set has no fitted weights"
                if item.stacker is None
                else ("no answering expert has fitted weights")
            )
            outcome.notes.insert(0, f"{why}: logodds_vote")
            return outcome
        outcome = super().aggregate(item, completion)
        assert item.stacker is not None
        unknown = sorted({a.expert for a in item.answers} - set(item.stacker.experts))
        if unknown:
            outcome.notes.append(f"no fitted weights, vote ignored: {', '.join(unknown)}")
        return outcome
