#!/usr/bin/env bash
# Rerun the headline sweep (configs/sweeps/deadline_effect.toml) and refresh its committed
# report in docs/deadline_effect/ (report.md, figures, tables; never the raw parquet).
#
#   bash experiments/headline.sh [OUT]        # OUT defaults to results/deadline_effect
#   RESUME=1 bash experiments/headline.sh     # finish an interrupted run of the same sweep
#   WORKERS=2 bash experiments/headline.sh    # process count (default: all cores)
#
# About 10-15 min on 2 cores (13.7 runs/s on 2 workers). A finished OUT is never overwritten: delete it
# (or pass another OUT) to rerun after a recalibration.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/deadline_effect}
GSOMIA=${GSOMIA:-.venv/bin/gsomia}
DOCS=docs/deadline_effect

args=(sweep configs/sweeps/deadline_effect.toml --out "$OUT")
[[ -n "${WORKERS:-}" ]] && args+=(--workers "$WORKERS")
[[ -n "${RESUME:-}" ]] && args+=(--resume)
"$GSOMIA" "${args[@]}"
"$GSOMIA" analyze "$OUT"

mkdir -p "$DOCS"
rm -f "$DOCS"/*.md "$DOCS"/*.png "$DOCS"/*.csv "$DOCS"/runs.parquet "$DOCS"/meta.json
# the runs and their provenance too: tests/test_docs.py checks the report is their analysis
cp "$OUT"/report.md "$OUT"/*.png "$OUT"/*.csv "$OUT"/runs.parquet "$OUT"/meta.json "$DOCS"/
echo "copied the report of $OUT to $DOCS/"
