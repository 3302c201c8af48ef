"""Selectors at LLaVA-665k scale: wall time and peak memory against the embedding matrix.

The issue's bar: at n = 665,000, d = 384 (clustered synthetic embeddings, the size of
LLaVA-665k), every selector finishes within 10 minutes on 2 cores with peak memory at most
2x the embedding matrix (665,000 x 384 float32 = 0.95 GiB).

The matrix is written once to a ``.npy`` file (``bench_kcenter_data.make_embeddings``,
~1,000 Gaussian clusters of Dirichlet sizes) and memory-mapped. Each selector then runs in a
fresh child process (``python -c``), selecting k rows of the memory map; the child reports
its wall time, and its peak resident memory, compared with the matrix's size. The child reports its own peak resident memory
(``ru_maxrss``: the interpreter, numpy, faiss and the memory map's pages as they are read,
as they would be for a user's in-memory matrix).

    python benchmarks/bench_selectors_scale.py --selectors typicality,prototypes
    python benchmarks/bench_selectors_scale.py --n 100000 --selectors facility-location --param facility-location:metric=cosine
    python benchmarks/bench_selectors_scale.py --json /tmp/scale.json   # every registered selector but the pool-field ones
    python benchmarks/bench_selectors_scale.py --k 100000,10000 --spec per-group:by=cluster,within=typicality \
        --spec semdedup:base=prototypes   # whole selector specs (NAME:KEY=VALUE,...), repeatable

Selectors with a difficulty ``score`` (ccs, d2-pruning) cannot compute one from a bare
matrix; unless ``--param NAME:score=...`` says otherwise they read a synthetic score written
beside the matrix (``--score-file``): each row's L2 norm, which varies with its cluster's
spread, one float per row in a ``.npy`` (``score=file:PATH``). Model-based scores (el2n, ...)
need record texts: ``benchmarks/bench_proxy_scores.py`` measures them.

    python benchmarks/bench_selectors_scale.py --selectors ccs,d2-pruning --k 100000

Each row: selector, parameters, k, wall seconds, peak RSS (GiB), peak / matrix, pass/fail
against the 10-minute and 2x bars.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's vlprune, as the children

from bench_kcenter_data import make_embeddings

from vlprune.select.compose import parse_selector_spec

CHILD = """
import json, resource, sys, time
import numpy as np
from vlprune.select.base import get_selector
X = np.load({path!r}, mmap_mode="r")
selector = get_selector({name!r}, **{params!r})
t0 = time.perf_counter()
sel = selector.select(X, {k}, seed=0)
seconds = time.perf_counter() - t0
assert len(set(sel.positions.tolist())) == {k}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
print(json.dumps({{"seconds": seconds, "peak_bytes": peak, "info": sel.info}}, default=str))
"""


def matrix(path: str | Path, n: int, d: int, seed: int) -> Path:
    path = Path(path)
    if not path.exists():
        X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
        make_embeddings(n, d, "clustered", seed=seed, out=X)
        X.flush()
        del X
    return path


def in_child(call: str) -> None:
    """Run ``call`` (a function of this module) in a fresh process. Linux hands a process's
    peak memory on to the children it starts afterwards (``ru_maxrss`` survives fork and
    exec), so the parent must never read the matrix itself, or every child's peak would be
    at least the matrix."""
    here = Path(__file__).resolve().parent
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(here)!r}); "
                    f"from pathlib import Path; from bench_selectors_scale import *; {call}"], check=True)


def synthetic_score(path: str | Path, matrix_path: str | Path) -> Path:
    """Each row's L2 norm as its difficulty (written once)."""
    path = Path(path)
    if not path.exists():
        X = np.load(matrix_path, mmap_mode="r")
        scores = np.empty(len(X), dtype=np.float32)
        for start in range(0, len(X), 65_536):
            scores[start:start + 65_536] = np.linalg.norm(X[start:start + 65_536], axis=1)
        np.save(path, scores)
    return path


def run_one(path: Path, name: str, params: dict, k: int, timeout: float) -> dict:
    code = CHILD.format(path=str(path), name=name, params=params, k=k)
    started = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")})
    except subprocess.TimeoutExpired:
        return {"selector": name, "params": params, "k": k, "seconds": None, "error": f"timeout {timeout:.0f} s"}
    row = {"selector": name, "params": params, "k": k, "wall_s": time.perf_counter() - started}
    if proc.returncode != 0:
        row["error"] = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return row
    row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=665_000)
    p.add_argument("--d", type=int, default=384)
    p.add_argument("--k", default="100000",
                   help="rows selected, or a comma list of k (default 100,000: 15%% of 665k)")
    p.add_argument("--selectors", default="", help="comma list of registered selector names")
    p.add_argument("--spec", action="append", default=[], metavar="NAME:KEY=VALUE,...",
                   help="a selector with its parameters, as a one-string spec (repeatable)")
    p.add_argument("--param", action="append", default=[], metavar="SELECTOR:NAME=VALUE",
                   help="a parameter for one selector (repeatable); values are converted as on the CLI")
    p.add_argument("--matrix", default="/tmp/vlprune-bench-{n}x{d}.npy", help="where the matrix is cached")
    p.add_argument("--score-file", default="/tmp/vlprune-bench-{n}x{d}-score.npy",
                   help="the synthetic difficulty score of selectors with a score parameter")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args()

    path = Path(args.matrix.format(n=args.n, d=args.d))
    in_child(f"matrix({str(path)!r}, {args.n}, {args.d}, {args.seed})")
    matrix_bytes = args.n * args.d * 4
    params: dict[str, dict] = {}
    for item in args.param:
        name, _, assignment = item.partition(":")
        key, _, value = assignment.partition("=")
        params.setdefault(name, {})[key] = value
    from vlprune.select.base import selectors

    runs = [(name, params.get(name, {}), name) for name in args.selectors.split(",") if name]
    for spec in args.spec:
        name, spec_params = parse_selector_spec(spec, what="--spec")
        runs.append((name, spec_params, spec))
    if not runs:
        p.error("give --selectors or --spec")
    for name, run_params, _ in runs:
        if "score" in selectors.get(name).param_specs() and "score" not in run_params:
            scores = Path(args.score_file.format(n=args.n, d=args.d))
            if not scores.exists():
                in_child(f"synthetic_score({str(scores)!r}, {str(path)!r})")
            run_params["score"] = f"file:{scores}"
    ks = [int(k) for k in str(args.k).split(",")]
    rows = []
    print(f"n={args.n} d={args.d} matrix {matrix_bytes / 2**30:.2f} GiB (memory-mapped {path}); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'selector':<48} {'k':>7} {'seconds':>8} {'peak GiB':>9} {'x matrix':>9}  verdict")
    for k in ks:
        for name, run_params, label in runs:
            row = run_one(path, name, run_params, k, args.timeout)
            row["spec"], row["load_before"] = label, os.getloadavg()[0]
            rows.append(row)
            peak = row.get("peak_bytes")
            ratio = peak / matrix_bytes if peak else float("nan")
            ok = "error: " + row["error"] if "error" in row else (
                "PASS" if row["wall_s"] <= 600 and ratio <= 2 else "FAIL")
            print(f"{label:<48} {k:>7} {row.get('wall_s', float('nan')):>8.1f} {(peak or 0) / 2**30:>9.2f} "
                  f"{ratio:>9.2f}  {ok}  (load {os.getloadavg()[0]:.1f})", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
