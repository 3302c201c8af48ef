"""Synthetic embedding matrices for the k-center benchmarks, generated in float32 blocks.

* ``isotropic``: rows ~ N(0, I/d), so |x| ~ 1 (unit-scale like normalised embeddings).
  Every pairwise distance is about sqrt(2): the worst case for triangle-inequality bounds.
* ``clustered``: a mixture of ``clusters`` Gaussians, as real embeddings are: centres
  ~ N(0, I/d); cluster sizes drawn from a Dirichlet(1) (some topics are much bigger than
  others); each cluster's spread is ``spread`` times a log-normal factor (sigma 0.3), so a
  point sits about ``spread`` from its cluster centre and clusters are ~sqrt(2) apart.

Run it to write a matrix to disk (for the memory-mapped benchmark):

    python benchmarks/bench_kcenter_data.py --n 100000 --d 384 --kind clustered --out /tmp/emb.npy
"""

from __future__ import annotations

import argparse

import numpy as np

BLOCK = 65_536


def make_embeddings(n: int, d: int, kind: str = "isotropic", *, clusters: int = 1000, spread: float = 0.35,
                    seed: int = 0, dtype=np.float32, out: np.ndarray | None = None) -> np.ndarray:
    """An (n, d) matrix of ``kind`` (see the module docstring), written into ``out`` if given."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, d), dtype) if out is None else out
    scale = np.float32(1 / np.sqrt(d))
    if kind == "isotropic":
        for r0 in range(0, n, BLOCK):
            r1 = min(r0 + BLOCK, n)
            X[r0:r1] = rng.standard_normal((r1 - r0, d), dtype=np.float32) * scale
        return X
    if kind != "clustered":
        raise ValueError(f"kind must be isotropic or clustered, not {kind!r}")
    centres = rng.standard_normal((clusters, d), dtype=np.float32) * scale
    widths = (spread * np.exp(rng.normal(0, 0.3, clusters))).astype(np.float32)
    weights = rng.dirichlet(np.ones(clusters))
    labels = rng.choice(clusters, size=n, p=weights).astype(np.int32)
    for r0 in range(0, n, BLOCK):
        r1 = min(r0 + BLOCK, n)
        lab = labels[r0:r1]
        noise = rng.standard_normal((r1 - r0, d), dtype=np.float32) * scale
        noise *= widths[lab, None]
        noise += centres[lab]
        X[r0:r1] = noise
    return X


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--d", type=int, default=384)
    p.add_argument("--kind", choices=["isotropic", "clustered"], default="clustered")
    p.add_argument("--clusters", type=int, default=1000)
    p.add_argument("--spread", type=float, default=0.35)
    p.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="a .npy path (written as a memory map, block by block)")
    args = p.parse_args()
    out = np.lib.format.open_memmap(args.out, mode="w+", dtype=args.dtype, shape=(args.n, args.d))
    make_embeddings(args.n, args.d, args.kind, clusters=args.clusters, spread=args.spread, seed=args.seed, out=out)
    out.flush()
    print(f"wrote {args.out}: {args.n} x {args.d} {args.dtype} ({out.nbytes / 1e9:.2f} GB)")


if __name__ == "__main__":
    main()
