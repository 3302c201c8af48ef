"""Compact tables for docs/results.md from a finished `vlprune compare` folder.

`vlprune compare` writes one row per (selector, k) in summary.md; for a grid of many
selectors and budgets docs/results.md shows the same numbers pivoted: selectors as rows,
budgets as columns. Nothing is recomputed: accuracies are the means over seeds from
results.csv, differences and verdicts are read from summary.md's "Against random" table.

    python benchmarks/results_tables.py runs/real-probe            # accuracy and verdict tables
    python benchmarks/results_tables.py runs/real-probe --categories 1000
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

MARK = {"beats random": "▲", "loses to random": "▼", "no detectable difference": ""}


def verdict_rows(summary: str) -> pd.DataFrame:
    """The rows of summary.md's "Against random at the same k" table."""
    section = summary.split("## Against random at the same k", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| selector | k |"))
    rows = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        if not line.startswith("|---"):
            rows.append(line.strip().strip("|").split("|"))
    header, body = [c.strip() for c in rows[0]], [[c.strip() for c in r] for r in rows[1:]]
    table = pd.DataFrame(body, columns=header)
    table["k"] = table["k"].astype(int)
    return table


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", type=Path, help="a vlprune compare --out folder")
    p.add_argument("--categories", type=int, help="also the per-category table at this k")
    args = p.parse_args()
    cells = pd.read_csv(args.run / "results.csv")
    order = list(dict.fromkeys(cells["selector"]))
    means = cells.groupby(["selector", "k"])["accuracy"].mean().mul(100).unstack("k")
    verdicts = verdict_rows((args.run / "summary.md").read_text(encoding="utf-8"))
    budgets = [k for k in means.columns if k in set(verdicts["k"]) or cells.query("selector != 'full'").k.eq(k).any()]

    print("Mean accuracy (%) over seeds; in brackets the difference with random at the same k (points),")
    print("▲ / ▼ where the Holm-corrected seed-level test says beats / loses to random.\n")
    print("| selector | " + " | ".join(f"k = {k:,}" for k in budgets) + " |")
    print("|---|" + "---:|" * len(budgets))
    for name in order:
        if name == "full":
            continue
        cells_text = []
        for k in budgets:
            acc = means.loc[name].get(k)
            row = verdicts[(verdicts["selector"] == name) & (verdicts["k"] == k)]
            text = "" if pd.isna(acc) else f"{acc:.1f}"
            if len(row):
                diff, verdict = row.iloc[0]["difference"], row.iloc[0]["verdict"].strip("*")
                text += f" ({diff}){MARK.get(verdict, '')}"
            cells_text.append(text)
        print(f"| {name} | " + " | ".join(cells_text) + " |")
    if "full" in means.index:
        full = means.loc["full"].dropna()
        print(f"\nAll {int(full.index[0]):,} problems (full data): {full.iloc[0]:.1f}%.")
    if args.categories:
        cats = ["NAT", "SOC", "LAN", "TXT", "IMG", "NO", "G1-6", "G7-12"]
        at = cells[cells["k"].isin([args.categories]) | (cells["selector"] == "full")]
        table = at.groupby("selector", sort=False)[["accuracy", *cats]].mean().mul(100).reindex(
            [n for n in order if n in set(at["selector"])])
        print(f"\nPer category at k = {args.categories:,} (mean over seeds, %):\n")
        print("| selector | all | " + " | ".join(cats) + " |")
        print("|---|" + "---:|" * (len(cats) + 1))
        for name, r in table.iterrows():
            print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in r.to_numpy()) + " |")


if __name__ == "__main__":
    main()
