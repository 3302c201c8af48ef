"""Benchmark: generate the full-size SYNTHETIC dataset (21,208 problems) and report the speed.

Usage::

    python benchmarks/bench_synthetic.py [--size full|small|tiny] [--workers N] [--seed S] [--repeat R]

The target is under 60 s for the full size on 2 CPU cores, images included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from vlprune.data.synthetic import SIZES, generate_dataset


def run_once(size: str, workers: int | None, seed: int) -> tuple[float, int, int, int]:
    """Generate once into a fresh temporary folder; (seconds, problems, images, bytes written)."""
    base = Path(tempfile.mkdtemp(prefix="vlprune-bench-"))
    try:
        start = time.perf_counter()
        generate_dataset(base / "data", SIZES[size], seed=seed, workers=workers)
        elapsed = time.perf_counter() - start
        files = [p for p in (base / "data").rglob("*") if p.is_file()]
        images = sum(p.name == "image.png" for p in files)
        return elapsed, sum(SIZES[size].values()), images, sum(p.stat().st_size for p in files)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="full", choices=sorted(SIZES))
    parser.add_argument("--workers", type=int, default=None, help="default: min(2, cpu count)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    workers = args.workers if args.workers is not None else min(2, os.cpu_count() or 1)
    print(f"synthetic dataset, size {args.size}, workers {workers}, {os.cpu_count()} CPUs visible")
    times = []
    for r in range(args.repeat):
        elapsed, problems, images, nbytes = run_once(args.size, args.workers, args.seed)
        times.append(elapsed)
        print(f"run {r + 1}: {elapsed:6.2f} s wall, {problems / elapsed:7.0f} problems/s, "
              f"{problems} problems, {images} images written, {nbytes / 2**20:.1f} MiB")
    if args.repeat > 1:
        print(f"best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s")


if __name__ == "__main__":
    main()
