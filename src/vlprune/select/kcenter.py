"""Greedy k-center (Gonzalez's farthest-point traversal) over an embedding matrix.

Memory is O(n*d) for the matrix plus O(n) for a running vector of squared distances from
every point to its nearest selected centre: no n x k or n x n matrix is ever formed. Each
step is one matrix-vector product ``X @ c`` with the squared norms precomputed once:
``|x - c|^2 = |x|^2 + |c|^2 - 2 x.c``, in float32.

The greedy order has two useful properties: every prefix of it is the farthest-point
selection of that size, and the covering radius it achieves is at most twice the optimal
k-center radius (Gonzalez 1985).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vlprune.errors import ConfigError

METRICS = ("l2", "cosine")


@dataclass
class KCenterResult:
    """Positions in selection order and the covering radius after each step.

    ``radii[t]`` is the largest distance from any point to its nearest chosen point once the
    first ``t + 1`` points (plus any warm-start points) are chosen; it never increases, and
    ``radii[t]`` is the distance of point ``t + 1`` to the points chosen before it.
    """

    order: np.ndarray
    radii: np.ndarray


def _as_float32(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2:
        raise ConfigError(f"embeddings must be a 2-D array (n, d), got shape {X.shape}")
    if X.dtype != np.float32:
        X = X.astype(np.float32)
    if not np.isfinite(X).all():
        raise ConfigError("embeddings contain NaN or infinite values")
    return np.ascontiguousarray(X)


def _normalise_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norms, np.float32(1e-12))


def min_sq_dist_to(X: np.ndarray, sq: np.ndarray, centres: np.ndarray, *, block: int = 1024) -> np.ndarray:
    """Squared distance from every row of X to its nearest row in ``centres`` (blocked)."""
    best = np.full(len(X), np.inf, dtype=np.float32)
    for start in range(0, len(centres), block):
        C = X[centres[start:start + block]]
        for r0 in range(0, len(X), 65536):
            rows = slice(r0, r0 + 65536)
            d2 = sq[rows, None] + sq[centres[start:start + block]][None, :] - 2 * (X[rows] @ C.T)
            np.minimum(best[rows], d2.min(axis=1), out=best[rows])
    return np.maximum(best, 0)


def farthest_point_order(
    X: np.ndarray,
    k: int,
    *,
    start: str | int = "random",
    metric: str = "l2",
    warm_start: Sequence[int] | np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    progress: bool = False,
) -> KCenterResult:
    """Greedy max-min selection of ``k`` rows of ``X``.

    Args:
        X: (n, d) embeddings; converted to float32.
        k: how many points to choose (warm-start points not counted).
        start: ``"random"`` (a point drawn from ``rng``), ``"mean"`` (the point nearest the
            mean), or an int position. Ignored with a warm start: the first new point is then
            the one farthest from the warm-start set.
        metric: ``"l2"`` or ``"cosine"`` (L2 on unit-normalised rows; radii reported as
            cosine distances ``1 - cos``).
        warm_start: positions already selected; the new points are chosen to be far from
            them too and never repeat them.

    Example:
        >>> X = np.array([[0.0, 0], [1, 0], [10, 0], [5, 0]])
        >>> farthest_point_order(X, 3, start=0).order.tolist()
        [0, 2, 3]
    """
    X = _as_float32(X)
    n = len(X)
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    warm = np.unique(np.asarray([] if warm_start is None else warm_start, dtype=np.int64))
    if warm.size and (warm.min() < 0 or warm.max() >= n):
        raise ConfigError(f"warm-start positions must lie in [0, {n})")
    if not 0 < k <= n - warm.size:
        raise ConfigError(f"k={k} must lie in [1, {n - warm.size}] (n={n}, {warm.size} warm-start points)")
    if metric == "cosine":
        X = _normalise_rows(X)
    sq = np.einsum("ij,ij->i", X, X)

    order = np.empty(k, dtype=np.int64)
    radii = np.empty(k, dtype=np.float64)
    if warm.size:
        min_d2 = min_sq_dist_to(X, sq, warm)
        min_d2[warm] = -np.inf
        current = int(np.argmax(min_d2))
    else:
        min_d2 = np.full(n, np.inf, dtype=np.float32)
        if start == "random":
            current = int((rng or np.random.default_rng(0)).integers(n))
        elif start == "mean":
            current = int(np.argmin(((X - X.mean(axis=0)) ** 2).sum(axis=1)))
        elif isinstance(start, int | np.integer) and not isinstance(start, bool):
            if not 0 <= start < n:
                raise ConfigError(f"start position {start} is outside [0, {n})")
            current = int(start)
        else:
            raise ConfigError(f"start must be 'random', 'mean' or a position, not {start!r}")

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=k, desc="farthest-point", unit="pt", mininterval=0.5)
    d2 = np.empty(n, dtype=np.float32)
    for t in range(k):
        order[t] = current
        # d2 = |x|^2 + |c|^2 - 2 x.c, computed in place to touch each n-vector once.
        np.matmul(X, X[current], out=d2)
        d2 *= -2
        d2 += sq
        d2 += sq[current]
        np.minimum(min_d2, d2, out=min_d2)
        min_d2[current] = -np.inf  # never choose a point twice, even among exact duplicates
        current = int(np.argmax(min_d2))
        radii[t] = max(float(min_d2[current]), 0.0)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    radii = radii / 2 if metric == "cosine" else np.sqrt(radii)
    return KCenterResult(order, radii)
