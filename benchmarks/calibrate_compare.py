"""Calibration of `vlprune compare`'s verdict on the real probe: random against random.

Runs the random selector with many seeds at one budget through the comparison grid (the
probe scorer, full-data row off), then splits the seeds at random into two disjoint groups
many times, labels one group "random" and the other a selector, and asks the comparison for
its verdict. Nothing differs between the groups, so every "beats random" / "loses to random"
is a false positive; at a 5% level the rate should be near 5%. Prints the rate of

* the seed-level verdict (what summary.md's verdict column says), and
* the questions-only interval excluding zero (a paired bootstrap over test questions of the
  seed-averaged correctness, models held fixed: the verdict vlprune printed before).

The splits reuse the same runs, so the rates are less certain than their binomial SE.

    PYTHONPATH=src python benchmarks/calibrate_compare.py --size small --embedder tfidf --seeds 20
    # the earlier probe: full batch (its fit ignores the seed; the seed still picks the subset)
    PYTHONPATH=src python benchmarks/calibrate_compare.py --size small --embedder tfidf --seeds 20 \
        --batches 1 --epochs 300
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", help="synthetic dataset size (default small)")
    parser.add_argument("--embedder", default="tfidf", help="the probe's embedder (default tfidf)")
    parser.add_argument("--batches", type=int, default=None, help="the probe's minibatches per epoch")
    parser.add_argument("--epochs", type=int, default=None, help="the probe's passes over the subset")
    parser.add_argument("--k", type=int, default=1000, help="budget (default 1000)")
    parser.add_argument("--seeds", type=int, default=20, help="random seeds run (default 20)")
    parser.add_argument("--groups", default="3,5", help="seeds per group, comma list (default 3,5)")
    parser.add_argument("--splits", type=int, default=300, help="random splits per group size (default 300)")
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--out", default="runs/calibrate-compare", help="grid folder (resumable)")
    args = parser.parse_args()

    from vlprune.compare import GridConfig, run_grid, versus_random

    params = {"embedder": args.embedder}
    for name in ("batches", "epochs"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    config = GridConfig.from_dict({
        "selectors": ["random"], "k": [args.k], "seeds": args.seeds, "scorer": "probe",
        "scorer_params": params, "full_data": False,
        "dataset": {"loader": "synthetic", "options": {"size": args.size}}})
    started = time.perf_counter()
    records = run_grid(config, args.out, progress=False)
    took = time.perf_counter() - started
    acc = np.array([r["accuracy"] for r in records])
    print(f"{len(records)} random cells at k={args.k} ({args.size} synthetic, probe {params}): "
          f"accuracy {100 * acc.mean():.2f}%, seed SD {100 * acc.std(ddof=1):.2f} points, "
          f"{len(records[0]['correct'])} test questions, grid {took:.0f} s")

    rng = np.random.default_rng(0)
    for group in [int(g) for g in args.groups.split(",")]:
        if 2 * group > len(records):
            continue
        new = old = 0
        for _ in range(args.splits):
            chosen = rng.permutation(len(records))[: 2 * group]
            split = [dict(records[i], selector="random" if j < group else "other")
                     for j, i in enumerate(chosen)]
            row = versus_random(split, n_boot=args.boot, seed=int(rng.integers(1 << 30))).iloc[0]
            new += row["verdict"] != "no detectable difference"
            old += bool(row["q_lo"] > 0 or row["q_hi"] < 0)
        se = np.sqrt(0.05 * 0.95 / args.splits)
        print(f"{group} vs {group} seeds, {args.splits} splits: false positives: seed-level verdict "
              f"{100 * new / args.splits:.1f}%, questions-only (old) {100 * old / args.splits:.1f}% "
              f"(5% expected; binomial SE {100 * se:.1f} points)")


if __name__ == "__main__":
    main()
