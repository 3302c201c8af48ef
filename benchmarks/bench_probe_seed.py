"""The probe scorer's seed: accuracy level and seed-to-seed noise, full-batch against minibatch.

The probe used to train full-batch from zero, so its fit ignored the seed (every full-data
cell came out identical). It now shuffles the subset into minibatches with the cell's seed
(``batches`` per epoch, 4 by default). This measures, on a DEV split carved from the train
split (the test split is not used), what that changes:

* accuracy (mean over seeds) and its seed SD for random subsets at each budget, where the
  seed picks the subset and, with minibatches, the training order;
* the same on the whole remaining train split, where only the training order varies;
* CPU seconds per cell (one torch thread).

    PYTHONPATH=src python benchmarks/bench_probe_seed.py --size small --embedder tfidf --seeds 5
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", help="synthetic dataset size (default small)")
    parser.add_argument("--embedder", default="tfidf", help="the probe's embedder (default tfidf)")
    parser.add_argument("--dev", type=int, default=500, help="train records carved out as the dev split")
    parser.add_argument("--k", default="250,1000", help="budgets (comma list); the rest of train is added")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per cell (default 3)")
    parser.add_argument("--settings", default="1x300,4x300,4x75",
                        help="probe settings compared, BATCHESxEPOCHS (default 1x300,4x300,4x75)")
    args = parser.parse_args()

    from vlprune import load_pool
    from vlprune.compare.scorers import ProbeScorer
    from vlprune.select.base import get_selector

    pool = load_pool("synthetic", size=args.size)
    order = np.random.default_rng(12345).permutation(len(pool))
    dev, train = pool.subset(np.sort(order[: args.dev])), pool.subset(np.sort(order[args.dev:]))
    budgets = [int(k) for k in args.k.split(",")] + [len(train)]
    print(f"{args.size} synthetic: train {len(train)}, dev {len(dev)} (carved from train); probe "
          f"embedder {args.embedder}; {args.seeds} seeds")
    print("| batches | epochs | k | accuracy (dev, %) | seed SD (points) | CPU s per cell |")
    print("|---:|---:|---:|---:|---:|---:|")
    for setting in args.settings.split(","):
        batches, epochs = (int(v) for v in setting.split("x"))
        probe = ProbeScorer(embedder=args.embedder, batches=batches, epochs=epochs)
        probe.prepare(train, dev)
        for k in budgets:
            acc, secs = [], []
            for seed in range(args.seeds):
                positions = (np.arange(len(train)) if k == len(train)
                             else get_selector("random").select(train, k, seed=seed).positions)
                started = time.process_time()  # CPU time: the machine is shared
                result = probe.score(train, positions, dev, seed=seed, workdir=Path("."))
                secs.append(time.process_time() - started)
                acc.append(result.correct.mean())
            sd = np.std(acc, ddof=1) if len(acc) > 1 else float("nan")
            print(f"| {batches} | {epochs} | {k} | {100 * np.mean(acc):.2f} | {100 * sd:.2f} | {np.mean(secs):.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
