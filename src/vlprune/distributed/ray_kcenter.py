"""Farthest-point on a Ray cluster through composable coresets.

Every partition (a contiguous range of rows) runs farthest-point as a Ray task, on whichever
worker is free; the driver runs one more farthest-point over the union of the local
selections, and (optionally) one more round of tasks measures the true covering radius. The
result is exactly :func:`vlprune.select.coreset.coreset_farthest_point`'s for the same
arguments (same partitions and seeds), with the same approximation bound (at most 4x the
optimal radius; each run certifies a tighter factor, see :mod:`vlprune.select.coreset`).

The matrix reaches the workers either through the object store (an in-memory array is put
once and read zero-copy by the tasks on each node) or as a ``.npy`` path that every worker
memory-maps and slices, which is the way for matrices larger than one machine's memory
(the path must be visible on every node, e.g. a shared filesystem).
"""

from __future__ import annotations

import os

import numpy as np

from vlprune.distributed._ray import ensure_ray
from vlprune.errors import ConfigError
from vlprune.select.coreset import (
    CoresetResult,
    compose,
    local_selection,
    partition_cover,
    partition_ranges,
)
from vlprune.select.kcenter_stream import open_embeddings


def farthest_point_with_ray(
    X: np.ndarray | str | os.PathLike,
    k: int,
    *,
    partitions: int | None = None,
    local_k: int | None = None,
    metric: str = "l2",
    seed: int = 0,
    backend: str = "auto",
    dtype: str | None = None,
    measure: bool = True,
    cpus_per_task: float = 1,
    gpus_per_task: float = 0,
) -> CoresetResult:
    """Select ``k`` rows of ``X`` by farthest-point, one Ray task per partition.

    Args:
        X: (n, d) array, or a ``.npy`` path readable on every node (memory-mapped there).
        k: points to select.
        partitions: row ranges selected independently (default: one per CPU in the cluster).
        local_k: points each partition keeps (default ``k``; more tightens the bound).
        metric, seed, backend, dtype: as for
            :func:`~vlprune.select.kcenter.farthest_point_order`, in every task.
        measure: also measure the covering radius over all rows (one more round of tasks).
        cpus_per_task, gpus_per_task: resources each task reserves (``backend="auto"``
            then uses the GPU of a task that has one).

    Example:
        >>> res = farthest_point_with_ray("emb.npy", 10_000, partitions=64)  # doctest: +SKIP
        >>> res.covering_radius, res.certified_factor  # doctest: +SKIP
    """
    ray = ensure_ray()
    source = os.fspath(X) if isinstance(X, str | os.PathLike) else None
    local_X = open_embeddings(X)  # the driver reads only the union's rows from it
    n = len(local_X)
    if partitions is None:
        partitions = max(1, int(ray.cluster_resources().get("CPU", 1)))
    local_k = k if local_k is None else local_k
    if local_k < k:
        raise ConfigError(f"local_k={local_k} must be at least k={k} for the bound to hold")
    ranges = partition_ranges(n, min(partitions, n))
    # Top-level ObjectRef arguments are resolved by Ray before the task runs.
    shared = source if source is not None else ray.put(np.asarray(local_X))
    options = {"num_cpus": cpus_per_task, "num_gpus": gpus_per_task}
    select_task = ray.remote(**options)(local_selection)
    local = ray.get([select_task.remote(shared, a, b, local_k, metric=metric, seed=seed, backend=backend,
                                        dtype=dtype) for a, b in ranges])
    result = compose(local_X, k, local, metric=metric, seed=seed, backend=backend, dtype=dtype)
    if measure:
        cover_task = ray.remote(**options)(partition_cover)
        points = ray.put(np.take(local_X, result.order, axis=0))
        result.covering_radius = max(ray.get([cover_task.remote(shared, a, b, points, metric=metric)
                                              for a, b in ranges]))
    result.info["partitions"] = len(ranges)
    return result
