#!/usr/bin/env python3
"""The comparison figure for a churn model: a plain logistic regression on
the same columns (numbers standardised, categories one-hot, yes/no as 0/1),
fitted on one table and measured on another.

    scripts/churn_baseline.py churn-bigml-80.csv churn-bigml-20.csv

Needs scikit-learn (Debian: apt-get install python3-sklearn); a check for
the team, not part of Holdfast.
"""
import argparse
import csv
import sys

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from churn_to_history import TRUE, col_type  # noqa: E402


def load(path, label):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return rows, [r[label].strip().lower() in TRUE for r in rows]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--label", default="Churn")
    a = ap.parse_args()
    train, ytr = load(a.train, a.label)
    test, yte = load(a.test, a.label)
    cols = [c for c in train[0] if c != a.label]
    types = {c: col_type([r[c] for r in train]) for c in cols}
    num = [c for c in cols if types[c] in ("number", "bool")]
    cat = [c for c in cols if types[c] == "category"]

    def matrix(rows):
        out = []
        for r in rows:
            row = []
            for c in num:
                v = r[c].strip()
                row.append(1.0 if types[c] == "bool" and v.lower() in TRUE else 0.0 if types[c] == "bool" else float(v or 0))
            row += [r[c] for c in cat]
            out.append(row)
        return out

    idx_num, idx_cat = list(range(len(num))), list(range(len(num), len(num) + len(cat)))
    pre = ColumnTransformer([("num", StandardScaler(), idx_num),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), idx_cat)])
    lr = make_pipeline(pre, LogisticRegression(max_iter=5000))
    lr.fit(matrix(train), ytr)
    auc = roc_auc_score(yte, lr.predict_proba(matrix(test))[:, 1])
    print(f"plain logistic regression (scikit-learn): test ROC AUC {auc:.3f} "
          f"({len(train)} train, {len(test)} test rows, {len(num)} numeric, {len(cat)} categorical columns)")


if __name__ == "__main__":
    main()
