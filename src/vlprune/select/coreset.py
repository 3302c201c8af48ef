"""Farthest-point through composable coresets: select in every partition, then on the union.

Each partition of the rows runs farthest-point on its own (``local_k`` points); one more
farthest-point pass over the union of the local selections picks the final ``k``. Partitions
never talk to each other, so they can run on different machines (see
:func:`vlprune.distributed.farthest_point_with_ray`), and the union is small
(``partitions * local_k`` rows).

Approximation bound (metric distances; ``r*`` is the optimal k-center radius of all rows):

* *Gonzalez's argument.* A greedy selection of ``j`` points from any subset ``Q`` of the
  rows, with ``|Q| > j``, leaves a covering radius ``rho`` with ``rho <= 2 r*_j``: the ``j``
  chosen points and the farthest remaining one are ``j + 1`` points pairwise at least ``rho``
  apart (each was the farthest when chosen, and the radius never grows); an optimal
  ``j``-clustering of all the rows puts two of them in one ball of radius ``r*_j``, so
  ``rho <= 2 r*_j``.
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.kcenter import covering_radius, farthest_point_order
from vlprune.select.kcenter_stream import open_embeddings


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
    """

    order: np.ndarray
    radii: np.ndarray
    partition_radii: np.ndarray
    union_size: int
    covering_radius: float | None = None
    certified_factor: float = 4.0
    info: dict[str, Any] = field(default_factory=dict)

    metric: str = "l2"

    @property
    def radius_bound(self) -> float:
        """An upper bound on the covering radius: ``max(partition_radii) + radii[-1]`` (added
        as Euclidean distances; for cosine the result is converted back to ``1 - cos``)."""
        dist = _euclidean(self.partition_radii.max(initial=0.0), self.metric) + _euclidean(self.radii[-1], self.metric)
        return float(dist**2 / 2 if self.metric == "cosine" else dist)


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
    if not 1 <= partitions <= max(n, 1):
        raise ConfigError(f"partitions must lie in [1, {n}], got {partitions}")
    edges = np.linspace(0, n, partitions + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def local_selection(X, start: int, stop: int, local_k: int, *, metric: str = "l2", seed: int = 0,
                    backend: str = "auto", dtype: str | None = None) -> tuple[np.ndarray, float]:
    """Farthest-point on rows ``start:stop`` of ``X`` (an array or ``.npy`` path, read as a
    slice): the chosen global positions and the partition's covering radius.

    Example:
        >>> X = np.arange(10.0)[:, None]
        >>> local_selection(X, 5, 10, 2, seed=0)
        (array([8, 5]), 1.0)
    """
    part = open_embeddings(X)[start:stop]
    j = min(local_k, len(part))
    rng = np.random.default_rng([seed, start])
    result = farthest_point_order(part, j, metric=metric, rng=rng, backend=backend, dtype=dtype)
    return start + result.order, float(result.radii[-1])


def compose(X, k: int, local: Iterable[tuple[np.ndarray, float]], *, metric: str = "l2", seed: int = 0,
            backend: str = "auto", dtype: str | None = None) -> CoresetResult:
    """The global step: farthest-point over the union of the local selections."""
    positions, radii = zip(*local, strict=True)
    union = np.unique(np.concatenate(positions))
    if k > len(union):
        raise ConfigError(f"k={k} exceeds the {len(union)} points the partitions selected; raise local_k")
    rows = np.take(open_embeddings(X), union, axis=0)
    result = farthest_point_order(rows, k, metric=metric, rng=np.random.default_rng(seed), backend=backend,
                                  dtype=dtype)
    partition_radii = np.asarray(radii, dtype=np.float64)
    rho_u = _euclidean(result.radii[-1], metric)
    factor = 2 + 2 * _euclidean(partition_radii.max(), metric) / rho_u if rho_u > 0 else 4.0
    return CoresetResult(union[result.order], result.radii, partition_radii, len(union),
                         certified_factor=min(factor, 4.0), info=result.info, metric=metric)


def coreset_farthest_point(
    X,
    k: int,
    *,
    partitions: int = 8,
    local_k: int | None = None,
    metric: str = "l2",
    seed: int = 0,
    backend: str = "auto",
    dtype: str | None = None,
    measure: bool = True,
    map_fn: Callable = map,
) -> CoresetResult:
    """Farthest-point selection of ``k`` rows through ``partitions`` local selections.

    Args:
        X: (n, d) array or ``.npy`` path (each partition reads only its slice).
        k: points to select.
        partitions: contiguous row ranges selected independently.
        local_k: points each partition keeps (default ``k``; more tightens the bound).
        measure: also compute the true covering radius over all rows (one more pass).
        map_fn: how to run the local selections (``map`` here; Ray tasks in
            :func:`vlprune.distributed.farthest_point_with_ray`).

    Example:
        >>> X = np.random.default_rng(0).normal(size=(2000, 8))
        >>> res = coreset_farthest_point(X, 20, partitions=4)
        >>> res.covering_radius <= res.radius_bound + 1e-9, res.certified_factor <= 4
        (True, True)
    """
    X = open_embeddings(X)
    local_k = k if local_k is None else local_k
    if local_k < k:
        raise ConfigError(f"local_k={local_k} must be at least k={k} for the bound to hold")
    ranges = partition_ranges(len(X), partitions)
    local = list(map_fn(lambda r: local_selection(X, r[0], r[1], local_k, metric=metric, seed=seed,
                                                   backend=backend, dtype=dtype), ranges))
    result = compose(X, k, local, metric=metric, seed=seed, backend=backend, dtype=dtype)
    if measure:
        points = np.take(X, result.order, axis=0)
        result.covering_radius = max(map_fn(lambda r: partition_cover(X, r[0], r[1], points, metric=metric),
                                            ranges))
    return result


def partition_cover(X, start: int, stop: int, points: np.ndarray, *, metric: str = "l2") -> float:
    """Covering radius of rows ``start:stop`` of ``X`` by the given centre coordinates.

    Example:
        >>> partition_cover(np.arange(10.0)[:, None], 0, 5, np.array([[0.0], [9.0]]))
        4.0
    """
    return covering_radius(open_embeddings(X)[start:stop], points=points, metric=metric)
