"""Farthest-point on a Ray cluster: the composable coreset's partitions as Ray tasks.

The coreset (:mod:`vlprune.select.kcenter.coreset`) runs its partitions through a map
function; :class:`RayPartitionMap` is that function for Ray: one task per partition, on
whichever worker is free. Everything else (the first centre, the global step over the union,
the bound) is the coreset's own code, so the result is exactly the in-process one for the
same arguments and Generator. ``FarthestPointSelector(optimizer="coreset", executor="ray")``
uses it; :func:`farthest_point_with_ray` is a shortcut for arrays and files.

The matrix reaches the workers either through the object store (an in-memory array is put
once and read zero-copy by the tasks on each node) or as a ``.npy`` path that every worker
memory-maps and slices, which is the way for matrices larger than one machine's memory
(the path must be visible on every node, e.g. a shared filesystem).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from vlprune.distributed._ray import ensure_ray
from vlprune.select.kcenter.coreset import CoresetResult, coreset_farthest_point
from vlprune.select.kcenter.matrix import open_embeddings


class RayPartitionMap:
    """A :class:`~vlprune.select.kcenter.coreset.PartitionMap` running each task as a Ray
    task. Shared arguments are put in the object store once per call (paths are passed as
    they are: workers open them themselves).

    Args:
        cpus_per_task, gpus_per_task: resources each task reserves (a task with a GPU and
            ``backend="auto"`` selects on it).

    Example:
        >>> from vlprune.select.kcenter import coreset_farthest_point
        >>> res = coreset_farthest_point("emb.npy", 1000, map_fn=RayPartitionMap())  # doctest: +SKIP
    """

    def __init__(self, cpus_per_task: float = 1, gpus_per_task: float = 0) -> None:
        self.options = {"num_cpus": cpus_per_task, "num_gpus": gpus_per_task}

    def __call__(self, fn: Callable[..., Any], shared: tuple, tasks: Sequence[dict[str, Any]]) -> list:
        ray = ensure_ray()
        # Top-level ObjectRef arguments are resolved by Ray before the task runs.
        refs = [s if isinstance(s, str) else ray.put(np.asarray(s)) for s in shared]
        remote = ray.remote(**self.options)(fn)
        return ray.get([remote.remote(*refs, **task) for task in tasks])


def farthest_point_with_ray(
    X: np.ndarray | str | os.PathLike,
    k: int,
    *,
    partitions: int | None = None,
    local_k: int | None = None,
    metric: str = "l2",
    start: str | int = "random",
    rng: np.random.Generator | None = None,
    backend: str = "auto",
    dtype: str | None = None,
    measure: bool = True,
    cpus_per_task: float = 1,
    gpus_per_task: float = 0,
) -> CoresetResult:
    """Select ``k`` rows of ``X`` by farthest-point, one Ray task per partition:
    :func:`~vlprune.select.kcenter.coreset_farthest_point` with a :class:`RayPartitionMap`.

    Args:
        X: (n, d) array, or a ``.npy`` path readable on every node (memory-mapped there).
        partitions: row ranges selected independently (default: one per CPU in the cluster).
        cpus_per_task, gpus_per_task: resources each task reserves.
        Others: as for ``coreset_farthest_point``.

    Example:
        >>> res = farthest_point_with_ray("emb.npy", 10_000, partitions=64)  # doctest: +SKIP
        >>> res.covering_radius, res.certified_factor  # doctest: +SKIP
    """
    ray = ensure_ray()
    if partitions is None:
        partitions = max(1, int(ray.cluster_resources().get("CPU", 1)))
    partitions = min(partitions, len(open_embeddings(X)))
    return coreset_farthest_point(X, k, partitions=partitions, local_k=local_k, metric=metric, start=start,
                                  rng=rng, backend=backend, dtype=dtype, measure=measure,
                                  map_fn=RayPartitionMap(cpus_per_task, gpus_per_task))
