"""Farthest-point at scale: time, peak memory, and ratios to a NumPy loop and to the one-pass floor.

For every cell of the grid (n x d x k x data) the script, in one process:

1. builds the matrix (``bench_kcenter_data.make_embeddings``: isotropic or ~1,000-cluster
   Gaussian mixture, float32);
2. measures the **floor**: the best time to stream the matrix once (one BLAS matrix-vector
   product over all rows, single call or split over threads, best of 5), times k. It is
   measured before and after the runs and the smaller is used (the strictest floor). With
   ``--kpass``, also the time of k passes in a row (before, between repeats and after; the
   smallest), the floor under the same machine load as the runs (on a busy machine the best
   single pass is a lucky moment, which no k-step run can repeat k times);
3. runs each backend (``auto``: the default, ``bounds`` on a CPU; ``numpy``: plain
   streaming; optional ``float16`` storage and ``torch`` on CPU), timing it and recording the
   process's resident high-water mark above what it was before the call; with
   ``--repeats R`` the methods run R times in turn and the best time is reported;
4. times the **NumPy loop** ``d = ((X - c) ** 2).sum(1)`` per step for ``--loop-steps``
   steps and extrapolates to k (every step of that loop costs the same), marked ``~``;
5. checks each order with the float64 per-step check (``farthest_point_gaps``: every point,
   or a random sample of ``--check-sample`` points plus all chosen ones), reported as the
   largest per-step relative gap (float32 rounding is ~1e-7), and whether it equals the
   ``numpy`` backend's order. The last line is the verdict: ``per-step check: PASS`` when
   every float32 order is within ``--tolerance``, else ``FAIL`` and exit status 1.

    python benchmarks/bench_kcenter.py --quick            # n=100k, d=384, k=1k, both data
    python benchmarks/bench_kcenter.py                    # the full grid (hours on 2 cores)
    python benchmarks/bench_kcenter.py --n 1000000 --d 384 --k 10000 --data clustered
    python benchmarks/bench_kcenter.py --n 100000 --d 512 --k 300 --data isotropic clustered \
        --clusters 100 --backends auto numpy --loop-steps 0 --check-sample 5000 --kpass   # docs/scale.md

Timings on a shared machine are noisy; ratios are taken within one run. ``--json`` writes
every row for later tables.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_kcenter_data import make_embeddings
from gpu_kcenter import rounded_centred

from vlprune.select.kcenter import farthest_point_order, farthest_point_violation
from vlprune.select.kcenter.matrix import default_threads, single_threaded_blas


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def in_child(fn, *args):
    """Run ``fn(*args)`` in a forked child (it shares the parent's matrix pages) and return
    ``(result, seconds, peak extra bytes)``: the child's resident high-water mark minus its
    resident size at the start, so each method's peak is measured from a clean slate."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def target():
        start = _status("VmRSS")
        t0 = time.perf_counter()
        result = fn(*args)
        elapsed = time.perf_counter() - t0
        send.send((result, elapsed, _status("VmHWM") - start))

    proc = ctx.Process(target=target)
    proc.start()
    out = recv.recv()
    proc.join()
    return out


def one_pass_time(X: np.ndarray, repeats: int = 5) -> float:
    """Best time to stream X once: a single BLAS matvec, or the rows split over threads with
    single-threaded BLAS (whichever this machine does faster)."""
    v = np.ascontiguousarray(X[0], dtype=np.float32)
    out = np.empty(len(X), np.float32)
    threads = default_threads()
    edges = [len(X) * i // threads for i in range(threads + 1)]
    pool = ThreadPoolExecutor(threads)

    def split():
        with single_threaded_blas():
            list(pool.map(lambda i: np.matmul(X[edges[i]:edges[i + 1]], v, out=out[edges[i]:edges[i + 1]]),
                          range(threads)))

    best = np.inf
    for fn in (lambda: np.matmul(X, v, out=out), split):
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
    pool.shutdown()
    return best


def k_pass_time(X: np.ndarray, k: int) -> float:
    """Time to stream X k times in a row (rows split over threads with single-threaded BLAS,
    as the engines stream): the floor measured under the same machine load as a run, which
    on a busy machine is fairer than the best single pass times k."""
    v = np.ascontiguousarray(X[0], dtype=np.float32)
    out = np.empty(len(X), np.float32)
    threads = default_threads()
    edges = [len(X) * i // threads for i in range(threads + 1)]
    pool = ThreadPoolExecutor(threads)
    t0 = time.perf_counter()
    with single_threaded_blas():
        for _ in range(k):
            list(pool.map(lambda i: np.matmul(X[edges[i]:edges[i + 1]], v, out=out[edges[i]:edges[i + 1]]),
                          range(threads)))
    elapsed = time.perf_counter() - t0
    pool.shutdown()
    return elapsed


def numpy_loop(X: np.ndarray, steps: int, start: int) -> tuple[np.ndarray, float]:
    """The plain loop the issue compares against: recompute ((X - c) ** 2).sum(1) each step."""
    m = np.full(len(X), np.inf, dtype=np.float32)
    cur, order = start, []
    t0 = time.perf_counter()
    for _ in range(steps):
        order.append(cur)
        d = ((X - X[cur]) ** 2).sum(1)
        np.minimum(m, d, out=m)
        m[cur] = -np.inf
        cur = int(np.argmax(m))
    return np.array(order), time.perf_counter() - t0


BACKENDS = {
    "auto": {"backend": "auto"},
    "bounds": {"backend": "bounds"},
    "numpy": {"backend": "numpy"},
    "bounds-f16": {"backend": "bounds", "dtype": "float16"},
    "torch-cpu": {"backend": "torch", "device": "cpu"},
    "torch-cpu-f16": {"backend": "torch", "device": "cpu", "dtype": "float16"},
}


def run_cell(n, d, k, kind, args) -> list[dict]:
    X = make_embeddings(n, d, kind, clusters=args.clusters, seed=args.seed)
    mb = X.nbytes / 2**20
    floor_pass = one_pass_time(X)
    kpass = in_child(k_pass_time, X, k)[0] if args.kpass else None
    rows, orders = [], {}
    times: dict[str, list[float]] = {name: [] for name in args.backends}
    for rep in range(args.repeats):  # methods alternate, so repeats see the same machine load
        for name in args.backends:
            gc.collect()
            res, elapsed, extra = in_child(lambda name=name: farthest_point_order(
                X, k, start=0, progress=args.progress, **BACKENDS[name]))
            times[name].append(elapsed)
            print(f"    {name}: {elapsed:.1f}s", flush=True)
            if rep == 0:
                orders[name] = res.order
                rows.append({"n": n, "d": d, "k": k, "data": kind, "method": name,
                             "peak_extra_mb": extra / 2**20, "matrix_mb": mb,
                             "rows_fraction": res.info["rows_computed"] / (n * k), "info": res.info})
        if args.kpass and rep + 1 < args.repeats:
            kpass = min(kpass, in_child(k_pass_time, X, k)[0])
    for row in rows:
        row["time_s"] = min(times[row["method"]])
        row["times_s"] = times[row["method"]]
    floor_pass = min(floor_pass, one_pass_time(X))
    if args.kpass:
        kpass = min(kpass, in_child(k_pass_time, X, k)[0])
    loop_steps = k if args.loop_steps is None else min(k, args.loop_steps)
    loop_time = None
    if loop_steps > 0:
        (_, t), _, extra = in_child(numpy_loop, X, loop_steps, 0)
        loop_time = t * k / loop_steps
        rows.append({"n": n, "d": d, "k": k, "data": kind, "method": "numpy-loop", "time_s": loop_time,
                     "extrapolated": loop_steps < k, "peak_extra_mb": extra / 2**20, "matrix_mb": mb,
                     "rows_fraction": 1.0, "info": {"steps_timed": loop_steps}})
    ref = orders.get("numpy")
    for row in rows:
        row["floor_s"] = floor_pass * k
        row["pass_s"] = floor_pass
        row["ratio_floor"] = row["time_s"] / row["floor_s"]
        if kpass is not None:
            row["kpass_s"] = kpass
            row["ratio_kpass"] = row["time_s"] / kpass
        row["speedup_vs_loop"] = loop_time / row["time_s"] if loop_time else None
        name = row["method"]
        if name in orders and args.check_sample != -1:
            sample = None if args.check_sample == 0 else args.check_sample
            # float16 storage: checked against the rounded rows it selected exactly (the CPU
            # engines round the rows, torch the centred rows)
            data = X
            if "f16" in name:
                data = rounded_centred(X) if "torch" in name else X.astype(np.float16)
            row["violation"] = farthest_point_violation(data, orders[name], sample=sample)
            row["violation_vs_f32"] = (farthest_point_violation(X, orders[name], sample=sample)
                                       if "f16" in name else row["violation"])
        if ref is not None and name in orders:
            same = orders[name] == ref
            row["same_as_numpy"] = float(same.mean())
            row["same_prefix"] = int(np.argmin(same)) if not same.all() else len(same)
    return rows


def fmt(rows: list[dict]) -> str:
    kp = any("kpass_s" in r for r in rows)
    head = (f"{'n':>9} {'d':>4} {'k':>6} {'data':>9} {'method':>14} {'time s':>9} {'floor s':>9} "
            f"{'/floor':>7} " + (f"{'kpass s':>8} {'/kpass':>7} " if kp else "")
            + f"{'vs loop':>8} {'peak+MB':>8} {'mem/X':>6} {'rows%':>6} {'max gap':>9} {'=numpy':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        loop = "" if r.get("speedup_vs_loop") is None else f"{r['speedup_vs_loop']:.1f}x"
        t = f"~{r['time_s']:.1f}" if r.get("extrapolated") else f"{r['time_s']:.1f}"
        viol = f"{r['violation']:.1e}" if "violation" in r else ""
        same = f"{r['same_as_numpy']:.3f}" if "same_as_numpy" in r else ""
        kcols = f"{r['kpass_s']:>8.1f} {r['ratio_kpass']:>7.3f} " if kp else ""
        lines.append(f"{r['n']:>9} {r['d']:>4} {r['k']:>6} {r['data']:>9} {r['method']:>14} {t:>9} "
                     f"{r['floor_s']:>9.1f} {r['ratio_floor']:>7.3f} {kcols}{loop:>8} {r['peak_extra_mb']:>8.0f} "
                     f"{1 + r['peak_extra_mb'] / r['matrix_mb']:>6.2f} {100 * r['rows_fraction']:>6.1f} "
                     f"{viol:>9} {same:>6}")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--d", type=int, nargs="+", default=[384, 768])
    p.add_argument("--k", type=int, nargs="+", default=[1_000, 10_000])
    p.add_argument("--data", nargs="+", choices=["isotropic", "clustered"], default=["isotropic", "clustered"])
    p.add_argument("--clusters", type=int, default=1000, help="clusters of the clustered data (default 1000)")
    p.add_argument("--backends", nargs="+", choices=sorted(BACKENDS), default=["auto", "numpy"])
    p.add_argument("--quick", action="store_true", help="n=100k, d=384, k=1k only")
    p.add_argument("--loop-steps", type=int, default=50,
                   help="steps of the NumPy loop to time, extrapolated to k (default 50; 0 skips it)")
    p.add_argument("--check-sample", type=int, default=20_000,
                   help="points for the float64 validity check (0: all points; -1: skip the check)")
    p.add_argument("--repeats", type=int, default=1,
                   help="runs of each method, alternating (the best time is reported; default 1)")
    p.add_argument("--kpass", action="store_true",
                   help="also time k passes in a row (before and after the runs; the smaller is used): "
                        "the floor under the run's own machine load, columns kpass s and /kpass")
    p.add_argument("--tolerance", type=float, default=1e-3,
                   help="largest per-step gap a float32 order may show (default 1e-3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--progress", action="store_true")
    p.add_argument("--json", help="write all rows to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.d, args.k = [100_000], [384], [1_000]
    if any("torch" in b or "f16" in b for b in args.backends):
        import torch  # noqa: F401  (imported once here, so its libraries are not a method's memory)
    import scipy.sparse  # noqa: F401  (likewise for the bounds engine, and not its time)

    import vlprune.select.kcenter.bounds  # noqa: F401
    print(f"cpus: {os.cpu_count()}, threads: {default_threads()}, load average: {os.getloadavg()}", flush=True)
    rows = []
    for n in args.n:
        for d in args.d:
            for k in args.k:
                for kind in args.data:
                    print(f"cell n={n} d={d} k={k} {kind}", flush=True)
                    rows += run_cell(n, d, k, kind, args)
                    gc.collect()  # the cell's matrix is gone
                    print(fmt(rows[-(len(args.backends) + (args.loop_steps != 0)):]), flush=True)
    print("\n" + fmt(rows))
    print(f"load average at the end: {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    worst = max((r["violation"] for r in rows if "violation" in r), default=0.0)
    ok = worst <= args.tolerance
    print(f"per-step check: {'PASS' if ok else 'FAIL'} (largest gap {worst:.1e}, tolerance {args.tolerance:.0e})")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
