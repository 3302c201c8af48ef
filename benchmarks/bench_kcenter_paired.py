"""The default engine against the one-pass floor, step by step, on a busy machine.

Timing whole runs one after the other on a shared machine compares different moments of its
load. Here every step is paired instead: for each of the k steps the script times one floor
pass (a matrix-vector product over all rows, split over the streaming threads as the engines
split it), one step of the default engine (``auto``: ``bounds`` on a CPU) and one step of
the plain streaming engine (``numpy``), in a rotating order, so all three see the same load.
The ratios of the summed times are the engines' cost over the floor; the preparation passes
(the same for both engines) are reported apart. Both orders are checked to be identical and
with the float64 per-step check on a sample; the last line is the verdict (exit status 1 if
the orders differ or fail the check).

    python benchmarks/bench_kcenter_paired.py --data isotropic        # n=100k, d=512, k=300
    python benchmarks/bench_kcenter_paired.py --data clustered --clusters 100
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.sparse  # noqa: F401  (imported before timing: the bounds engine's first regrouping would)

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_kcenter_data import make_embeddings

from vlprune.select.kcenter import farthest_point_gaps, resolve_backend
from vlprune.select.kcenter.driver import make_engine
from vlprune.select.kcenter.matrix import StreamedMatrix, single_threaded_blas


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--d", type=int, default=512)
    p.add_argument("--k", type=int, default=300)
    p.add_argument("--data", choices=["isotropic", "clustered"], default="isotropic")
    p.add_argument("--clusters", type=int, default=1000)
    p.add_argument("--check-sample", type=int, default=5000)
    p.add_argument("--tolerance", type=float, default=1e-3)
    args = p.parse_args(argv)
    X = make_embeddings(args.n, args.d, args.data, clusters=args.clusters)
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    M = StreamedMatrix(X)
    prepare = time.perf_counter() - t0
    default = resolve_backend("auto")
    engines = {"auto": make_engine(default, M), "numpy": make_engine("numpy", M)}
    spans = M.spans()
    pool = ThreadPoolExecutor(len(spans))
    v = np.ascontiguousarray(X[0])
    out = np.empty(len(X), np.float32)

    def floor_pass():
        if len(spans) == 1:
            np.matmul(X, v, out=out)
        else:
            list(pool.map(lambda s: np.matmul(X[s[0]:s[1]], v, out=out[s[0]:s[1]]), spans))

    current = {name: 0 for name in engines}
    orders: dict[str, list[int]] = {name: [] for name in engines}
    spent = {"floor": 0.0, **{name: 0.0 for name in engines}}
    tasks = [("floor", None), *[(name, engine) for name, engine in engines.items()]]
    with single_threaded_blas():
        for t in range(args.k):
            for name, engine in tasks[t % 3:] + tasks[:t % 3]:  # rotate who goes first
                t1 = time.perf_counter()
                if engine is None:
                    floor_pass()
                else:
                    orders[name].append(current[name])
                    current[name], _ = engine.add(current[name])
                spent[name] += time.perf_counter() - t1
    pool.shutdown()
    same = orders["auto"] == orders["numpy"]
    gap = float(farthest_point_gaps(X, orders["auto"], sample=args.check_sample).max())
    print(f"n={args.n} d={args.d} k={args.k} {args.data}" + (f" ({args.clusters} clusters)" if args.data == "clustered"
                                                             else "")
          + f", float32, {os.cpu_count()} cpus, load {load_start} -> {os.getloadavg()}")
    print(f"preparation (mean and norms, shared by both engines): {prepare:.2f} s")
    print(f"{'':>16}{'steps s':>10}{'/floor':>8}")
    for name in ("floor", "auto", "numpy"):
        label = f"auto ({default})" if name == "auto" else name
        print(f"{label:>16}{spent[name]:>10.2f}{spent[name] / spent['floor']:>8.3f}")
    print(f"auto report: {engines['auto'].report()}")
    ok = same and gap <= args.tolerance
    print(f"verdict: {'PASS' if ok else 'FAIL'} (orders identical: {same}; largest per-step gap {gap:.1e})")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
