"""Farthest-point over a memory-mapped ``.npy`` file that is never loaded whole.

Writes (once) an n x d float16 matrix to ``--path`` (default 5M x 768: 7.7 GB), then selects
k points from the file with the default backend, streaming it block by block with progress
bars. Reports the time, the one-pass floor over the file (same blocks, same conversion),
and the process's peak *anonymous* memory (``RssAnon``: what the process itself allocated;
the file's pages sit in the kernel's page cache, shared and reclaimable, and are not
counted), which stays O(n) plus a few blocks, far below the file size.

    python benchmarks/bench_kcenter_memmap.py                       # 5M x 768 float16, k=100
    python benchmarks/bench_kcenter_memmap.py --n 500000 --k 200    # smaller
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[0] / "src"))

from vlprune.select.kcenter import farthest_point_order, farthest_point_violation  # noqa: E402
from vlprune.select.kcenter.matrix import StreamedMatrix  # noqa: E402
from vlprune.select.kcenter.streaming import stream_step  # noqa: E402


def rss_anon() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakAnon:
    def __enter__(self):
        self.base = self.peak = rss_anon()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_anon())

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=5_000_000)
    p.add_argument("--d", type=int, default=768)
    p.add_argument("--k", type=int, default=100)
    p.add_argument("--data", choices=["isotropic", "clustered"], default="clustered")
    p.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    p.add_argument("--path", default="/tmp/vlprune-bench-memmap.npy")
    p.add_argument("--backend", default="auto")
    p.add_argument("--check-sample", type=int, default=20_000)
    p.add_argument("--keep", action="store_true", help="keep the file for later runs")
    args = p.parse_args(argv)
    path = Path(args.path)
    fresh = False
    if not path.exists() or np.load(path, mmap_mode="r").shape != (args.n, args.d):
        print(f"writing {path} ({args.n} x {args.d} {args.dtype}) ...", flush=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "bench_kcenter_data.py"), "--n", str(args.n), "--d",
                        str(args.d), "--kind", args.data, "--dtype", args.dtype, "--out", str(path)], check=True)
        print(f"  written in {time.perf_counter() - t0:.0f}s", flush=True)
        fresh = True
    X = np.load(path, mmap_mode="r")
    size = X.nbytes
    print(f"{path}: {X.shape} {X.dtype}, {size / 1e9:.2f} GB; {os.cpu_count()} cpus, load {os.getloadavg()}")

    with PeakAnon() as mem:
        t0 = time.perf_counter()
        res = farthest_point_order(path, args.k, start=0, progress=True, backend=args.backend)
        elapsed = time.perf_counter() - t0
    # The floor: one more pass over the file with the same blocks and conversion.
    M = StreamedMatrix(X)
    m2 = np.full(M.n, np.inf, np.float32)
    passes = []
    for _ in range(3):
        t0 = time.perf_counter()
        stream_step(M, M.centre(0), m2)
        passes.append(time.perf_counter() - t0)
    floor = min(passes) * args.k
    violation = farthest_point_violation(X, res.order, sample=args.check_sample)
    print(f"\nselected k={args.k} in {elapsed:.1f}s ({res.info['engine']}: {res.info.get('dense_steps')} "
          f"streamed steps, {res.info.get('sparse_steps', 0)} bounded); floor (one pass x k) {floor:.1f}s, "
          f"ratio {elapsed / floor:.2f}")
    print(f"peak anonymous memory during selection: {(mem.peak - mem.base) / 2**20:.0f} MiB above "
          f"{mem.base / 2**20:.0f} MiB ({(mem.peak - mem.base) / size:.3f} of the file's {size / 2**30:.2f} GiB)")
    print(f"float64 per-step check on {args.check_sample} sampled points + the chosen ones, largest gap: {violation:.1e}")
    if fresh and not args.keep:
        path.unlink()


if __name__ == "__main__":
    main()
