#!/usr/bin/env python3
"""Turn a static churn table (one row per customer, one churn column) into
the files `holdfast import history` loads.

    scripts/churn_to_history.py churn-bigml-80.csv out/train
    holdfast import history out/train/accounts.csv out/train/signals.csv

Every column but the label becomes a trait ("trait:NAME:TYPE", typed from
the column: number, bool, date or category). The table has no dates, so
the script places the snapshot at --as-of (default: today minus the horizon
minus 30 days): churners churn on days spread over the horizon after it,
the others stay; activation is --tenure-column days before it when that
column exists. The summed --usage-columns (default: every column whose name
contains "charge") become the customer's spend, sent as two usage signals
before the snapshot. Python 3 standard library only.
"""
import argparse
import csv
import datetime as dt
import hashlib
import os
import re
import sys

BOOLS = {"true", "false", "yes", "no", "y", "n", "t", "f"}
TRUE = {"true", "yes", "y", "t", "1"}


def col_type(values):
    filled = [v.strip() for v in values if v.strip() != ""]
    if not filled:
        return "category"
    try:
        for v in filled:
            float(v)
        return "number"
    except ValueError:
        pass
    if all(v.lower() in BOOLS for v in filled):
        return "bool"
    if all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in filled):
        return "date"
    return "category"


def trait_key(name):
    key = re.sub(r"[^A-Za-z0-9 _.\-/()]", "_", name.strip())
    key = key.lstrip(" _.-/()") or "column"
    return key[:64]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("table", help="CSV with a header and a churn column")
    ap.add_argument("outdir", help="where accounts.csv and signals.csv are written")
    ap.add_argument("--label", default="Churn", help="the churn column (true/yes/1 = churned); default Churn")
    ap.add_argument("--prefix", help="external id prefix (default: the table's file name and a digest of its content, "
                    "so two tables never share ids)")
    ap.add_argument("--horizon", type=int, default=90, help="days after the snapshot churns fall in (default 90)")
    ap.add_argument("--as-of", help="snapshot date YYYY-MM-DD (default: today - horizon - 30 days)")
    ap.add_argument("--tenure-column", default="Account length", help="days since activation, if present")
    ap.add_argument("--usage-columns", default="charge", help="columns whose name contains this (comma list) are summed as spend")
    a = ap.parse_args()
    if a.horizon < 2:
        sys.exit(f"--horizon {a.horizon}: want at least 2 days (churns are spread over the days after the snapshot)")

    with open(a.table, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{a.table}: no rows")
    header = list(rows[0].keys())
    if a.label not in header:
        sys.exit(f"{a.table}: no column {a.label!r} (set --label)")
    as_of = dt.date.fromisoformat(a.as_of) if a.as_of else dt.date.today() - dt.timedelta(days=a.horizon + 30)
    with open(a.table, "rb") as f:
        digest = hashlib.sha1(f.read()).hexdigest()[:6]
    prefix = a.prefix or f"{os.path.splitext(os.path.basename(a.table))[0]}-{digest}"
    traits = [c for c in header if c != a.label]
    types = {c: col_type([r[c] for r in rows]) for c in traits}
    needles = [n.strip().lower() for n in a.usage_columns.split(",") if n.strip()]
    keys = {}
    for c in traits:
        if trait_key(c) in keys:
            sys.exit(f"{a.table}: columns {keys[trait_key(c)]!r} and {c!r} both become trait {trait_key(c)!r}; rename one")
        keys[trait_key(c)] = c
    usage = [c for c in traits if types[c] == "number" and any(n in c.lower() for n in needles)]

    os.makedirs(a.outdir, exist_ok=True)
    acc_path, sig_path = os.path.join(a.outdir, "accounts.csv"), os.path.join(a.outdir, "signals.csv")
    churners = 0
    with open(acc_path, "w", newline="") as af, open(sig_path, "w", newline="") as sf:
        aw, sw = csv.writer(af), csv.writer(sf)
        aw.writerow(["external_id", "name", "activation_date", "churned_at"] +
                    [f"trait:{trait_key(c)}:{types[c]}" for c in traits])
        sw.writerow(["account", "kind", "source", "occurred_at", "value", "idempotency_key"])
        for i, r in enumerate(rows, 1):
            ext = f"{prefix}-{i}"
            activation = as_of - dt.timedelta(days=365)
            tenure = r.get(a.tenure_column, "").strip()
            if tenure:
                try:
                    activation = as_of - dt.timedelta(days=int(float(tenure)))
                except (ValueError, OverflowError):  # "nan", "inf", or too many days
                    pass
            churned = ""
            if r[a.label].strip().lower() in TRUE:
                # The first churner falls on the horizon's last day, the rest
                # spread over it, so the fit's cut-off is exactly --as-of.
                offset = a.horizon - 1 if churners == 0 else 1 + (churners * 7919) % (a.horizon - 1)
                churned = (as_of + dt.timedelta(days=offset)).isoformat()
                churners += 1
            aw.writerow([ext, ext, activation.isoformat(), churned] + [r[c] for c in traits])
            if usage:
                spend = sum(float(r[c].strip() or 0) for c in usage)
                for back in (20, 6):
                    day = as_of - dt.timedelta(days=back)
                    sw.writerow([ext, "usage", "history", f"{day.isoformat()}T00:00:00Z", f"{spend:.2f}", f"{ext}-spend-{day.isoformat()}"])
    print(f"{acc_path}: {len(rows)} accounts ({churners} churned after {as_of}); {sig_path}: "
          f"{2 * len(rows) if usage else 0} usage signals from {len(usage)} column(s); traits: "
          + ", ".join(f"{trait_key(c)} ({types[c]})" for c in traits))


if __name__ == "__main__":
    main()
