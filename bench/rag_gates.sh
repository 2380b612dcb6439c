#!/usr/bin/env bash
# The retrieval gates on one RAG set with the local experts, end to end through the CLI:
#   bash bench/rag_gates.sh hotpotqa|pubmedqa|boolq [FIT_LIMIT] [TEST_LIMIT]
# Environment: ROOT (outputs, default /tmp/symoe-rag-gates), TEST_FRACTION (of the labels
# held out to score the gates' decisions, default 0.3), SYMOE_EXPERTS_FILE (e.g.
# bench/experts-1thread.yaml to run two sets at once on 2 cores).
# 1. ingest the set's passages into a store of its own (SYMOE_DATA_DIR=$ROOT/<set>/data);
# 2. answer the fit split without and with retrieval, and label each question by whether
#    retrieval helped the experts (`symoe gate label`);
# 3. fit skr_knn and expert_rag on those labels (30% held out: `gate eval` scores decisions);
# 4. answer the test split with each gate: never, always, skr_knn, expert_rag.
# Every step resumes: a rerun skips what is done. Outputs: $ROOT/<set>/{fit,test}-<gate>/
# (metrics.json, report.md), labels.json, gate-<name>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
SET=${1:?usage: bench/rag_gates.sh hotpotqa|pubmedqa|boolq [FIT_LIMIT] [TEST_LIMIT]}
FIT_LIMIT=${2:-300}
TEST_LIMIT=${3:-200}
ROOT=${ROOT:-/tmp/symoe-rag-gates}
export SYMOE_DATA_DIR="$ROOT/$SET/data" HF_HUB_OFFLINE=1
SYMOE=(.venv/bin/symoe)
OUT="$ROOT/$SET"
mkdir -p "$OUT"

eval_run() {  # split limit gate
  "${SYMOE[@]}" eval run --benchmark "$SET" --split "$1" --limit "$2" --methods best-single \
    --profile-split none --retrieval "$3" --out "$OUT/$1-$3"
}

"${SYMOE[@]}" docs add-corpus "$SET"
for gate in never always; do eval_run fit "$FIT_LIMIT" "$gate"; done
"${SYMOE[@]}" gate label --without "$OUT/fit-never" --with "$OUT/fit-always" --out "$OUT/labels.json"
for gate in skr_knn expert_rag; do
  "${SYMOE[@]}" gate fit --gate "$gate" --labels "$OUT/labels.json" --seed 0 \
    --test-fraction "${TEST_FRACTION:-0.3}" --json > "$OUT/gate-$gate.json"
done
for gate in never always skr_knn expert_rag; do eval_run test "$TEST_LIMIT" "$gate"; done
