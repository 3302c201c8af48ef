"""Composable-coreset farthest-point: covering radius against the exact single-machine run.

For each data kind and partition count, selects k points (a) exactly on one machine and (b)
through coresets (each partition keeps ``local_k`` points, then farthest-point on the union),
and prints both covering radii (measured over all rows), their ratio, the run's certified
approximation factor (``2 + 2 max local radius / union radius``, at most 4; see
``vlprune.select.kcenter.coreset``) and the times. ``--ray`` runs the partitions as Ray
tasks on a local instance (``ray.init(num_cpus=...)``) instead of in this process. The last
line is the verdict: every measured radius must lie within its run's a-posteriori bound
(``max local radius + union radius``) and within the certified factor of the exact radius
times 2 (the exact greedy radius is at most twice optimal); exit status 1 otherwise.

    python benchmarks/bench_kcenter_coreset.py                  # n=200k, d=384, k=1000
    python benchmarks/bench_kcenter_coreset.py --ray --n 100000
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

from vlprune.select.kcenter import coreset_farthest_point, covering_radius, farthest_point_order


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200_000)
    p.add_argument("--d", type=int, default=384)
    p.add_argument("--k", type=int, default=1_000)
    p.add_argument("--partitions", type=int, nargs="+", default=[4, 16])
    p.add_argument("--local-k-factor", type=float, nargs="+", default=[1.0, 2.0])
    p.add_argument("--data", nargs="+", default=["isotropic", "clustered"])
    p.add_argument("--ray", action="store_true", help="run the partitions as Ray tasks (local instance)")
    p.add_argument("--ray-cpus", type=int, default=2)
    args = p.parse_args(argv)
    run = coreset_farthest_point
    if args.ray:
        import ray

        from vlprune.distributed import farthest_point_with_ray

        src = str(Path(__file__).resolve().parents[1] / "src")
        ray.init(num_cpus=args.ray_cpus, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": src}})
        run = farthest_point_with_ray  # the same coreset, its partitions as Ray tasks
    head = (f"{'data':>9} {'parts':>5} {'local_k':>7} {'exact r':>9} {'coreset r':>9} {'ratio':>6} "
            f"{'certified':>9} {'union':>6} {'exact s':>8} {'coreset s':>9}")
    lines = [head, "-" * len(head)]
    print(f"n={args.n} d={args.d} k={args.k}" + (" (Ray)" if args.ray else ""))
    print(head, flush=True)
    failures = 0
    for kind in args.data:
        X = make_embeddings(args.n, args.d, kind)
        t0 = time.perf_counter()
        exact = farthest_point_order(X, args.k, rng=np.random.default_rng(0))
        t_exact = time.perf_counter() - t0
        r_exact = covering_radius(X, exact.order)
        for parts in args.partitions:
            for factor in args.local_k_factor:
                local_k = int(factor * args.k)
                t0 = time.perf_counter()
                res = run(X, args.k, partitions=parts, local_k=local_k, rng=np.random.default_rng(0))
                # The bound is for Euclidean distances; both radii here are (metric l2).
                holds = (res.covering_radius <= res.radius_bound * (1 + 1e-5)
                         and res.covering_radius <= res.certified_factor * r_exact * (1 + 1e-5))
                failures += not holds
                t_core = time.perf_counter() - t0
                line = (f"{kind:>9} {parts:>5} {local_k:>7} {r_exact:>9.4f} {res.covering_radius:>9.4f} "
                        f"{res.covering_radius / r_exact:>6.3f} {res.certified_factor:>9.2f} {res.union_size:>6} "
                        f"{t_exact:>8.1f} {t_core:>9.1f}")
                lines.append(line)
                print(line, flush=True)
    print("\n" + "\n".join(lines))
    print(f"verdict: {'bounds hold' if not failures else f'BOUND VIOLATED in {failures} run(s)'}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
