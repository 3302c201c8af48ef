"""The two ways rows enter a farthest-point step's product, side by side: raw rows read in
place (the mean folded into a constant) and rows centred chunk by chunk before the product.

Prints the time of one streamed step in each mode (best and median of ``--repeats``
alternating runs, so both see the same machine load) and their ratio: the price of centring
every step, which is why the engines centre only data whose mean lies far from the origin
(see ``vlprune.select.kcenter.matrix``).

    python benchmarks/bench_kcenter_product.py                  # n=100k, d=512, isotropic
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_kcenter_data import make_embeddings

from vlprune.select.kcenter.matrix import StreamedMatrix, single_threaded_blas
from vlprune.select.kcenter.streaming import stream_step


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--d", type=int, default=512)
    p.add_argument("--repeats", type=int, default=12)
    args = p.parse_args(argv)
    X = make_embeddings(args.n, args.d, "isotropic")
    M = StreamedMatrix(X)
    w = M.centre(0)
    times: dict[str, list[float]] = {"raw": [], "centred": []}
    with single_threaded_blas():
        for _ in range(args.repeats):
            for mode in times:
                M.centre_rows = mode == "centred"  # what the matrix would choose far from the origin
                m2 = np.full(M.n, np.inf, np.float32)
                t0 = time.perf_counter()
                stream_step(M, w, m2)
                times[mode].append(time.perf_counter() - t0)
    print(f"n={args.n} d={args.d} float32, {os.cpu_count()} cpus, load {os.getloadavg()}")
    for mode, ts in times.items():
        print(f"{mode:>8} product: best {1e3 * min(ts):7.1f} ms, median {1e3 * np.median(ts):7.1f} ms per step")
    print(f"centred / raw: best {min(times['centred']) / min(times['raw']):.2f}x, "
          f"median {np.median(times['centred']) / np.median(times['raw']):.2f}x")


if __name__ == "__main__":
    main()
