"""`learned`: a vote whose weights were fitted on validation answers (stacker_fit.py): each
answer adds its expert's weights times its features (answer_features.py) to the candidate
it names; the candidate with the highest sum wins. Without fitted weights in the profile set
it is `logodds_vote`."""

from __future__ import annotations

from orchestrator.aggregators.answer_features import answer_features
from orchestrator.aggregators.base import AggregationInput, AggregationOutcome, AggregatorPolicy
from orchestrator.aggregators.logodds import LogOddsVoteAggregator
from orchestrator.aggregators.vote import tally


class LearnedAggregator(AggregatorPolicy):
    name = "learned"

    def aggregate(self, item: AggregationInput, completion: bool) -> AggregationOutcome:
        stacker = item.stacker
        if stacker is None:
            outcome = LogOddsVoteAggregator().aggregate(item, completion)
            outcome.notes.insert(0, "the profile set has no fitted weights: logodds_vote")
            return outcome
        unknown = sorted({a.expert for a in item.answers} - set(stacker.experts))
        known = [a for a in item.answers if a.expert in stacker.experts]
        if not known:
            outcome = LogOddsVoteAggregator().aggregate(item, completion)
            outcome.notes.insert(0, "no answering expert has fitted weights: logodds_vote")
            return outcome

        def weight(expert: str, text: str) -> float:
            w = stacker.experts.get(expert)
            if w is None:
                return 0.0
            feats = answer_features(text, stacker.length_mean.get(expert, 0.0))
            return sum(x * y for x, y in zip(w, feats, strict=True))

        # an expert without weights is left out: its vote must not even create a candidate
        outcome = tally(
            item.model_copy(update={"answers": known}), lambda a: weight(a.expert, a.text)
        )
        if unknown:
            outcome.notes.append(f"no fitted weights, vote ignored: {', '.join(unknown)}")
        return outcome
