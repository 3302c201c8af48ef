"""Farthest-point on a GPU (the torch backend): time, ratio to the GPU one-pass floor, and the
effect of float16 storage on the order. Standalone; finishes in about 2 minutes on one H100.

Run on the GPU machine (torch + CUDA, numpy; no faiss needed):

    PYTHONPATH=src VLPRUNE_CACHE_DIR=/tmp/vlprune python benchmarks/gpu_kcenter.py

and here, on CPU, at toy size (what the test suite runs):

    python benchmarks/gpu_kcenter.py --cpu-smoke

For each cell: the matrix is made on the host, the backend uploads it (float16 by default,
float32 for comparison) and selects k points. The floor is the best time of one
matrix-vector product over the stored matrix on the device, times k. The float16 order is
checked in float64 against the float16-rounded rows (exact for them) and against the
original float32 rows (the effect of the rounding), on a sample of points plus every chosen
one (the largest per-step relative gap, ``farthest_point_gaps``), and compared with the
float32 order step by step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_kcenter_data import make_embeddings

from vlprune.select.kcenter import StreamedMatrix, farthest_point_order, farthest_point_violation


def device_floor(X: np.ndarray, dtype: str, device: str, repeats: int = 20) -> float:
    """Best time of one product over the whole matrix stored on the device."""
    import torch

    dev = torch.device(device)
    Y = torch.from_numpy(X).to(dev, getattr(torch, dtype))
    w = Y[0].clone()
    best = np.inf
    for _ in range(repeats):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        torch.mv(Y, w)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    del Y
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    return best


def rounded_centred(X: np.ndarray) -> np.ndarray:
    """The points the torch engine stores in float16: rows centred in float32, rounded."""
    mu = StreamedMatrix(X).mu
    return (X - mu).astype(np.float16).astype(np.float64) + mu


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[1_000_000])
    p.add_argument("--d", type=int, nargs="+", default=[768])
    p.add_argument("--k", type=int, nargs="+", default=[1_000, 10_000])
    p.add_argument("--data", nargs="+", default=["isotropic", "clustered"])
    p.add_argument("--check-sample", type=int, default=5_000)
    p.add_argument("--check-k-max", type=int, default=2_000,
                   help="skip the float64 validity check above this k (it costs (sample + k) x k distances)")
    p.add_argument("--cpu-smoke", action="store_true", help="tiny sizes on the CPU (for tests)")
    args = p.parse_args(argv)
    import torch

    if args.cpu_smoke:
        device, args.n, args.d, args.k, args.check_sample = "cpu", [3_000], [32], [50], 0
    elif torch.cuda.is_available():
        device = "cuda"
        print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    else:
        sys.exit("no CUDA device: run with --cpu-smoke to check the script on a CPU")

    head = (f"{'n':>9} {'d':>4} {'k':>6} {'data':>9} {'dtype':>8} {'time s':>8} {'total s':>8} {'floor s':>8} "
            f"{'/floor':>7} "
            f"{'product':>8} {'viol(own)':>10} {'viol(f32)':>10} {'=f32':>6} {'radius/f32':>10}")
    rows = [head, "-" * len(head)]
    print(head, flush=True)
    for n in args.n:
        for d in args.d:
            X = {kind: make_embeddings(n, d, kind) for kind in args.data}
            for kind in args.data:
                for k in args.k:
                    ref = None
                    for dtype in ("float32", "float16"):
                        floor = device_floor(X[kind], dtype, device)
                        if device == "cuda":
                            torch.cuda.synchronize()
                        t0 = time.perf_counter()
                        res = farthest_point_order(X[kind], k, start=0, backend="torch", device=device,
                                                   dtype=dtype)
                        total = time.perf_counter() - t0  # with host passes, upload and copy back
                        elapsed = res.seconds["select_s"]  # the selection loop on the device
                        if k <= args.check_k_max:
                            sample = args.check_sample or None
                            # torch rounds the centred rows: its order is exact for those
                            own = rounded_centred(X[kind]) if dtype == "float16" else X[kind]
                            viol_own = f"{farthest_point_violation(own, res.order, sample=sample):.1e}"
                            viol_f32 = f"{farthest_point_violation(X[kind], res.order, sample=sample):.1e}"
                        else:
                            viol_own = viol_f32 = "-"
                        if ref is None:
                            ref = res
                        same = float((res.order == ref.order).mean())
                        line = (f"{n:>9} {d:>4} {k:>6} {kind:>9} {dtype:>8} {elapsed:>8.2f} {total:>8.2f} "
                                f"{floor * k:>8.2f} {elapsed / (floor * k):>7.2f} {res.info['product_output']:>8} "
                                f"{viol_own:>10} {viol_f32:>10} {same:>6.3f} {res.radii[-1] / ref.radii[-1]:>10.5f}")
                        rows.append(line)
                        print(line, flush=True)
    print("\n".join(["", *rows]))


if __name__ == "__main__":
    main()
