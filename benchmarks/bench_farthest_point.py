"""FarthestPointSelector against a plain NumPy loop, both timed in the same run.

The loop recomputes ``((X - c) ** 2).sum(1)`` at every step. The selector must be at least 5x
faster and its order a valid farthest-point order: each step's point at the largest
distance from those chosen before it, checked in float64 step by step (the largest
per-step relative gap must stay below ``--tolerance``). The last line is the verdict;
the exit status is 1 when the order fails the check. ``--corrupt`` swaps two steps of the
selector's order before checking, to show that the check fails on a wrong order.

    python benchmarks/bench_farthest_point.py                 # n=100,000, d=512, k=1,000
    python benchmarks/bench_farthest_point.py --n 20000 --k 200   # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from vlprune import FarthestPointSelector
from vlprune.select.kcenter import farthest_point_violation


def numpy_loop(X: np.ndarray, k: int, start: int) -> np.ndarray:
    m = np.full(len(X), np.inf, dtype=np.float32)
    cur, order = start, []
    for _ in range(k):
        order.append(cur)
        np.minimum(m, ((X - X[cur]) ** 2).sum(1), out=m)
        m[cur] = -np.inf
        cur = int(np.argmax(m))
    return np.array(order)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--d", type=int, default=512)
    p.add_argument("--k", type=int, default=1_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--check-sample", type=int, default=0,
                   help="check this many random points (plus the chosen ones) instead of all")
    p.add_argument("--tolerance", type=float, default=1e-5,
                   help="largest per-step relative gap accepted (default 1e-5)")
    p.add_argument("--corrupt", action="store_true",
                   help="swap two steps of the selector's order before checking (the check must fail)")
    args = p.parse_args(argv)
    X = np.random.default_rng(args.seed).standard_normal((args.n, args.d), dtype=np.float32)
    selector = FarthestPointSelector(start=0)

    t0 = time.perf_counter()
    selection = selector.select(X, args.k, seed=args.seed)
    t_selector = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop_order = numpy_loop(X, args.k, 0)
    t_loop = time.perf_counter() - t0

    sample = args.check_sample or None
    order = selection.positions.copy()
    if args.corrupt:
        order[[args.k // 4, args.k // 2]] = order[[args.k // 2, args.k // 4]]
    violation = farthest_point_violation(X, order, sample=sample)
    loop_violation = farthest_point_violation(X, loop_order, sample=sample)
    same = float((order == loop_order).mean())
    print(f"n={args.n} d={args.d} k={args.k} float32, {os.cpu_count()} cpus, load {os.getloadavg()}")
    print(f"{'method':<26}{'time s':>10}{'max gap':>12}")
    print(f"{'FarthestPointSelector':<26}{t_selector:>10.2f}{violation:>12.1e}")
    print(f"{'NumPy loop':<26}{t_loop:>10.2f}{loop_violation:>12.1e}")
    print(f"speed-up: {t_loop / t_selector:.1f}x (target >= 5x); orders agree on {100 * same:.1f}% of steps")
    ok = violation <= args.tolerance
    print(f"verdict: {'valid' if ok else 'INVALID'} farthest-point order (float64 per-step check, "
          f"largest gap {violation:.1e}, tolerance {args.tolerance:.0e})")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
