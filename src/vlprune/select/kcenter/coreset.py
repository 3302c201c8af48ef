"""Farthest-point through composable coresets: select in every partition, then on the union.

Each partition of the rows runs farthest-point on its own (``local_k`` points); one more
farthest-point pass over the union of the local selections picks the final ``k``. Partitions
never talk to each other, so they can run anywhere: *how* they run is a map function
(:func:`local_map` in this process; :class:`vlprune.distributed.ray_kcenter.RayPartitionMap`
as Ray tasks), and the union is small (``partitions * local_k`` rows).

The first centre is chosen over all rows exactly as the exact path chooses it (the same draw
from the same Generator, the row nearest the mean, or the given position); the partition
holding it starts from it, and so does the global step, so the same seed gives the same
first centre with and without coresets.

Approximation bound (metric distances; ``r*`` is the optimal k-center radius of all rows):

* *Gonzalez's argument.* A greedy selection of ``j`` points from any subset ``Q`` of the
  rows, with ``|Q| > j``, leaves a covering radius ``rho`` with ``rho <= 2 r*_j``: the ``j``
  chosen points and the farthest remaining one are ``j + 1`` points pairwise at least ``rho``
  apart (each was the farthest when chosen, and the radius never grows); an optimal
  ``j``-clustering of all the rows puts two of them in one ball of radius ``r*_j``, so
  ``rho <= 2 r*_j``. (The argument holds whatever the first point.)
* *Local step.* Partition ``i`` keeps ``local_k >= k`` points, so every row lies within
  ``rho_i <= 2 r*_{local_k} <= 2 r*`` of the union ``U``.
* *Global step.* The union is a subset of the rows, so the final ``k`` points cover ``U``
  within ``rho_U <= 2 r*``.
* *Composition.* For any row ``x``, with ``u`` its nearest point in ``U``:
  ``d(x, S) <= d(x, u) + d(u, S) <= max_i rho_i + rho_U <= 4 r*``.

So the covering radius is at most 4x optimal, hence at most 4x the single-machine greedy
radius (which is at least ``r*``). Every run also *certifies* its own factor from measured
numbers: ``radius <= max_i rho_i + rho_U`` and ``r* >= rho_U / 2`` (the ``k`` points and
the farthest point of the union are ``k + 1`` points pairwise ``rho_U`` apart), so
``radius / r* <= 2 + 2 max_i rho_i / rho_U``, which tends to 2 as ``local_k`` grows. The
order is still greedy (on the union), so every prefix is a valid selection of its size.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.kcenter.check import covering_radius
from vlprune.select.kcenter.driver import (
    METRICS,
    check_start,
    farthest_point_order,
    first_position,
    resolve_backend,
)
from vlprune.select.kcenter.matrix import StreamedMatrix, open_embeddings


class PartitionMap(Protocol):
    """How the partitions run: ``map_fn(fn, shared, tasks)`` returns
    ``[fn(*shared, **task) for task in tasks]``, in order. ``shared`` holds the arguments
    every task reads (the matrix or its ``.npy`` path, the chosen points), so that a
    distributed map can ship each of them once."""

    def __call__(self, fn: Callable[..., Any], shared: tuple, tasks: Sequence[dict[str, Any]]) -> list: ...


def local_map(fn: Callable[..., Any], shared: tuple, tasks: Sequence[dict[str, Any]]) -> list:
    """Run the partitions one after the other in this process (each one streams with every
    thread).

    Example:
        >>> local_map(lambda a, b: a + b, (1,), [{"b": 2}, {"b": 3}])
        [3, 4]
    """
    return [fn(*shared, **task) for task in tasks]


@dataclass
class CoresetResult:
    """The composed selection and the numbers that bound its quality.

    Attributes:
        order: global positions in selection order (greedy on the union).
        radii: covering radius of the union after each step.
        partition_radii: each partition's covering radius by its local selection.
        union_size: rows in the union of the local selections.
        covering_radius: the true covering radius of ``order`` over all rows (None if not
            measured).
        certified_factor: ``min(4, 2 + 2 max(partition_radii) / radii[-1])``: the covering
            radius is at most this times optimal (see the module docstring; Euclidean
            distances, so for cosine the factor applies to ``sqrt(2 (1 - cos))``).
        info: the global step's engine report; ``local_info`` each partition's.
    """

    order: np.ndarray
    radii: np.ndarray
    partition_radii: np.ndarray
    union_size: int
    covering_radius: float | None = None
    certified_factor: float = 4.0
    info: dict[str, Any] = field(default_factory=dict)
    metric: str = "l2"
    local_k: int = 0
    local_info: list[dict[str, Any]] = field(default_factory=list)

    @property
    def radius_bound(self) -> float:
        """An upper bound on the covering radius: ``max(partition_radii) + radii[-1]`` (added
        as Euclidean distances; for cosine the result is converted back to ``1 - cos``)."""
        dist = _euclidean(self.partition_radii.max(initial=0.0), self.metric) + _euclidean(self.radii[-1], self.metric)
        return float(dist**2 / 2 if self.metric == "cosine" else dist)

    def report(self) -> dict[str, Any]:
        """The run as a JSON-ready dict (what ``Selection.info`` carries)."""
        return {
            "optimizer": "coreset", "partitions": len(self.partition_radii), "local_k": self.local_k,
            "union_size": self.union_size, "certified_factor": float(self.certified_factor),
            "radius_bound": self.radius_bound,
            "covering_radius": None if self.covering_radius is None else float(self.covering_radius),
            "partition_radii": [float(r) for r in self.partition_radii],
            "global": self.info, "local": self.local_info,
        }


def _euclidean(radius: float, metric: str) -> float:
    """A radius in the units farthest-point reports, as a Euclidean distance (the triangle
    inequality holds for that, not for ``1 - cos``)."""
    return float(np.sqrt(2 * max(radius, 0.0)) if metric == "cosine" else radius)


def partition_ranges(n: int, partitions: int) -> list[tuple[int, int]]:
    """``partitions`` contiguous row ranges of near-equal size covering ``range(n)``.

    Example:
        >>> partition_ranges(10, 3)
        [(0, 3), (3, 7), (7, 10)]
    """
    if isinstance(partitions, bool) or not isinstance(partitions, int | np.integer) \
            or not 1 <= partitions <= max(n, 1):
        raise ConfigError(f"partitions must be an integer in [1, {n}], got {partitions!r}")
    edges = np.linspace(0, n, partitions + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def local_selection(X, start: int, stop: int, local_k: int, *, metric: str = "l2", seed: int = 0,
                    first: int | None = None, backend: str = "auto", dtype: str | None = None,
                    device: str | None = None) -> tuple[np.ndarray, float, dict[str, Any]]:
    """Farthest-point on rows ``start:stop`` of ``X`` (an array or ``.npy`` path, read as a
    slice): the chosen global positions, the partition's covering radius and the engine's
    report. The selection starts at global position ``first`` when given (it must lie in the
    partition), else at a row drawn with ``seed``.

    Example:
        >>> X = np.arange(10.0)[:, None]
        >>> local_selection(X, 5, 10, 2, first=7)[:2]
        (array([7, 5]), 2.0)
    """
    part = open_embeddings(X)[start:stop]
    j = min(local_k, len(part))
    result = farthest_point_order(part, j, start="random" if first is None else first - start, metric=metric,
                                  rng=np.random.default_rng(seed), backend=backend, dtype=dtype, device=device)
    return start + result.order, float(result.radii[-1]), result.info


def partition_cover(X, points: np.ndarray, *, start: int, stop: int, metric: str = "l2") -> float:
    """Covering radius of rows ``start:stop`` of ``X`` by the given centre coordinates.

    Example:
        >>> partition_cover(np.arange(10.0)[:, None], np.array([[0.0], [9.0]]), start=0, stop=5)
        4.0
    """
    return covering_radius(open_embeddings(X)[start:stop], points=points, metric=metric)


def coreset_farthest_point(
    X,
    k: int,
    *,
    partitions: int = 8,
    local_k: int | None = None,
    metric: str = "l2",
    start: str | int = "random",
    rng: np.random.Generator | None = None,
    backend: str = "auto",
    dtype: str | None = None,
    device: str | None = None,
    measure: bool = True,
    map_fn: PartitionMap = local_map,
) -> CoresetResult:
    """Farthest-point selection of ``k`` rows through ``partitions`` local selections.

    Args:
        X: (n, d) array or ``.npy`` path (each partition reads only its slice; a path is
            what a distributed ``map_fn`` hands to its workers).
        k: points to select.
        partitions: contiguous row ranges selected independently.
        local_k: points each partition keeps (default ``k``; more tightens the bound).
        start, rng: the first centre, chosen over all rows as
            :func:`~vlprune.select.kcenter.driver.farthest_point_order` chooses it; ``rng``
            also seeds the partitions' own starts.
        metric, backend, dtype, device: as for ``farthest_point_order``, in every partition
            and in the global step.
        measure: also compute the true covering radius over all rows (one more pass).
        map_fn: how to run the partitions (:func:`local_map`; Ray tasks with
            :class:`vlprune.distributed.ray_kcenter.RayPartitionMap`).

    Example:
        >>> X = np.random.default_rng(0).normal(size=(2000, 8))
        >>> res = coreset_farthest_point(X, 20, partitions=4)
        >>> res.covering_radius <= res.radius_bound + 1e-9, res.certified_factor <= 4
        (True, True)
    """
    source = os.fspath(X) if isinstance(X, str | os.PathLike) else None
    X = open_embeddings(X)
    n = len(X)
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 < k <= n:
        raise ConfigError(f"k={k} must be an integer in [1, {n}]")
    local_k = k if local_k is None else local_k
    if isinstance(local_k, bool) or not isinstance(local_k, int | np.integer) or local_k < k:
        raise ConfigError(f"local_k={local_k!r} must be an integer of at least k={k} for the bound to hold")
    ranges = partition_ranges(n, partitions)
    check_start(start, n)
    rng = rng or np.random.default_rng(0)
    # The first centre as the exact path draws it (the first draw from rng); the partition
    # seeds come after it.
    if start == "random":
        first = int(rng.integers(n))
    else:
        # "mean": the row nearest the mean of the matrix the exact path would prepare.
        host_dtype = None if resolve_backend(backend, device) == "torch" else dtype
        first = first_position(start, StreamedMatrix(X, metric=metric, dtype=host_dtype), rng) \
            if start == "mean" else int(start)
    seeds = rng.integers(2**63, size=len(ranges))
    shared = (source if source is not None else X,)
    tasks = [{"start": a, "stop": b, "local_k": local_k, "metric": metric, "seed": int(s),
              "first": first if a <= first < b else None, "backend": backend, "dtype": dtype,
              "device": device} for (a, b), s in zip(ranges, seeds, strict=True)]
    local = list(map_fn(local_selection, shared, tasks))
    positions, radii, infos = zip(*local, strict=True)
    # Never smaller than k: a partition keeps min(local_k, its size) >= min(k, its size) rows.
    union = np.unique(np.concatenate(positions))
    rows = np.take(X, union, axis=0)
    result = farthest_point_order(rows, k, start=int(np.searchsorted(union, first)), metric=metric,
                                  backend=backend, dtype=dtype, device=device)
    partition_radii = np.asarray(radii, dtype=np.float64)
    rho_u = _euclidean(result.radii[-1], metric)
    factor = 2 + 2 * _euclidean(partition_radii.max(), metric) / rho_u if rho_u > 0 else 4.0
    out = CoresetResult(union[result.order], result.radii, partition_radii, len(union),
                        certified_factor=min(factor, 4.0), info=result.info, metric=metric, local_k=int(local_k),
                        local_info=list(infos))
    if measure:
        points = np.take(X, out.order, axis=0)
        out.covering_radius = max(map_fn(partition_cover, (*shared, points),
                                         [{"start": a, "stop": b, "metric": metric} for a, b in ranges]))
    return out
