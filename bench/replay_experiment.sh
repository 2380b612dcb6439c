#!/usr/bin/env bash
# The Symbolic-MoE replay experiment: recorded models on the paper's MMLU-Pro test split
# (2,100 questions; seeds 0-4).
# Usage: bash bench/replay_experiment.sh [OUT_ROOT] [PART]   (default bench/results/replay, all)
#   PART reference: profiles on the paper's train split (350 questions), the reference rows
#   PART validation: profiles on the recorded questions outside the test split (9,816), the
#        new recruiters and aggregators, the 22-model pool and the 7-8B pool
#        (POOLS="22 7b" and TAGGERS="category embedding" by default; set either to run fewer)
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-bench/results/replay}"
part="${2:-all}"
pool22=orchestrator/defaults/replay_experts.yaml
pool7b=orchestrator/defaults/replay_experts_7b8b.yaml
common=(--benchmark mmlu_pro --split test --seeds 0,1,2,3,4)
symoe() { /usr/bin/time -f "%e s  $1" .venv/bin/symoe eval run "${common[@]}" --out "$root/$1" "${@:2}"; }

if [[ $part == all || $part == reference ]]; then
  ref=(--experts-file "$pool22")
  # every method, skills = the question's MMLU-Pro subject, vote
  symoe category-vote "${ref[@]}" --tagger category --aggregation vote
  # symoe variants
  symoe category-weighted "${ref[@]}" --tagger category --aggregation weighted_vote --methods symoe
  symoe embedding-vote "${ref[@]}" --tagger embedding --aggregation vote --methods symoe
  symoe embedding-weighted "${ref[@]}" --tagger embedding --aggregation weighted_vote --methods symoe
  symoe category-dynamic-k "${ref[@]}" --tagger category --aggregation vote --dynamic-k 0.5 --methods symoe
  symoe category-min-share "${ref[@]}" --tagger category --aggregation vote --min-share 0.05 --methods symoe
fi

if [[ $part == all || $part == validation ]]; then
  for pool in ${POOLS:-22 7b}; do
    file=$pool22; [[ $pool == 7b ]] && file=$pool7b
    n=$(grep -c "^  - name:" "$file")
    for tagger in ${TAGGERS:-category embedding}; do
      run="v$pool-$tagger"
      # baselines (top-k and best-single by accuracy on the same validation questions) and
      # the reference recruiter; this run builds the profile set the others reuse
      symoe "$run" --experts-file "$file" --tagger "$tagger" --profile-split outside_test \
        --aggregation vote
      reuse=(--experts-file "$file" --tagger "$tagger" --profile "$root/$run/profile.json")
      symoe "$run-learned" "${reuse[@]}" --recruiter ranked --aggregation learned --k "$n" --methods symoe
      symoe "$run-learned-cascade" "${reuse[@]}" --recruiter ranked --aggregation learned --k "$n" --cascade --methods symoe
      # the `auto` default's committee size (SYMOE_K=3)
      symoe "$run-learned-k3" "${reuse[@]}" --recruiter ranked --aggregation learned --methods symoe
      symoe "$run-learned-k3-cascade" "${reuse[@]}" --recruiter ranked --aggregation learned --cascade --methods symoe
      symoe "$run-ranked-logodds" "${reuse[@]}" --recruiter ranked --aggregation logodds_vote --methods symoe
      symoe "$run-ranked-logodds5" "${reuse[@]}" --recruiter ranked --aggregation logodds_vote --k 5 --methods symoe
      symoe "$run-ranked-vote" "${reuse[@]}" --recruiter ranked --aggregation vote --methods symoe
      symoe "$run-diverse-logodds" "${reuse[@]}" --recruiter diverse --aggregation logodds_vote --methods symoe
    done
  done
fi

# accuracy versus cost over all the runs above, per pool and tagger (plots and tables)
[[ $part == all || $part == validation ]] && .venv/bin/python bench/replay_pareto.py "$root"
exit 0
