#!/usr/bin/env bash
# The dev-set check of the learned health model, in one run: import the
# telecom churn table's 80% file, fit, import the 20% file, backtest on it,
# and print the plain logistic regression's AUC on the same split beside it.
# Uses a scratch database (holdfast_telecom, recreated each run) so the
# team's data is never touched. Needs psql, python3 and scikit-learn.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-/work/shared/data/telecom-churn-bigml}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
OUT=${OUT:-/tmp/holdfast-telecom}
psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS holdfast_telecom" -c "CREATE DATABASE holdfast_telecom"
export DATABASE_URL="$PGURL/holdfast_telecom?sslmode=disable"
go build -o bin/holdfast ./cmd/holdfast
rm -rf "$OUT"
python3 scripts/churn_to_history.py "$DATA/churn-bigml-80.csv" "$OUT/train"
python3 scripts/churn_to_history.py "$DATA/churn-bigml-20.csv" "$OUT/test"
bin/holdfast import history "$OUT/train/accounts.csv" "$OUT/train/signals.csv"
bin/holdfast model fit --use --png "$OUT/fit.png"
bin/holdfast import history "$OUT/test/accounts.csv" "$OUT/test/signals.csv"
bin/holdfast model backtest --png "$OUT/backtest.png" | tee "$OUT/backtest.txt"
echo
echo "Holdfast on the 20% file: $(grep -o 'ROC AUC [0-9.]*' "$OUT/backtest.txt")"
# Debian's python3-sklearn lives in the system interpreter.
PY=python3
python3 -c 'import sklearn' 2>/dev/null || PY=/usr/bin/python3
$PY scripts/churn_baseline.py "$DATA/churn-bigml-80.csv" "$DATA/churn-bigml-20.csv"
