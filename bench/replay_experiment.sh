#!/usr/bin/env bash
# The Symbolic-MoE replay experiment: 22 recorded models on the paper's MMLU-Pro splits
# (profiles on train, 350 questions; evaluation on test, 2,100 questions; seeds 0-4).
# Usage: bash bench/replay_experiment.sh [OUT_ROOT]   (default bench/results/replay)
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-bench/results/replay}"
common=(--benchmark mmlu_pro --split test --seeds 0,1,2,3,4
        --experts-file orchestrator/defaults/replay_experts.yaml)
symoe() { /usr/bin/time -f "%e s  $1" .venv/bin/symoe eval run "${common[@]}" --out "$root/$1" "${@:2}"; }

# every method, skills = the question's MMLU-Pro subject, vote
symoe category-vote --tagger category --aggregation vote
# symoe variants
symoe category-weighted --tagger category --aggregation weighted_vote --methods symoe
symoe embedding-vote --tagger embedding --aggregation vote --methods symoe
symoe embedding-weighted --tagger embedding --aggregation weighted_vote --methods symoe
symoe category-dynamic-k --tagger category --aggregation vote --dynamic-k 0.5 --methods symoe
symoe category-min-share --tagger category --aggregation vote --min-share 0.05 --methods symoe
