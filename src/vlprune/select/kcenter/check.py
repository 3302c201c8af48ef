"""Checking a farthest-point order in float64, and measuring a covering radius.

The check is independent of the engines: a float64 walk over the order that computes every
distance as a direct difference ``|x - c|^2`` (no norms, no expansion, so no cancellation
however far the data sit from the origin), and reports for each step ``t`` the *relative
gap*

    (max_x d2(x, S_t) - d2(o_t, S_t)) / max_x d2(x, S_t)

where ``S_t`` is the set chosen before step ``t`` (with the warm-start points) and ``o_t``
the point chosen at step ``t``: 0 when ``o_t`` is a farthest point, 1 when it was already
covered (distance 0) while another point was not. Gaps of float32 engines are of the order
of the float32 rounding of the distances relative to the step's largest one (see the
precision floor in docs/scale.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.kcenter.matrix import (
    StreamedMatrix,
    nearest_centres,
    nearest_points,
    open_embeddings,
)


def _rows64(X: np.ndarray, positions: np.ndarray, metric: str) -> np.ndarray:
    Y = np.asarray(X[np.asarray(positions, dtype=np.int64)], dtype=np.float64)
    if metric == "cosine":
        Y /= np.maximum(np.linalg.norm(Y, axis=1, keepdims=True), 1e-300)
    return Y


def _sq_dists_direct(P: np.ndarray, c: np.ndarray, out: np.ndarray) -> np.ndarray:
    diff = P - c
    return np.einsum("ij,ij->i", diff, diff, out=out)


def farthest_point_gaps(
    X: np.ndarray | str,
    order: Sequence[int] | np.ndarray,
    *,
    metric: str = "l2",
    warm_start: Sequence[int] | np.ndarray | None = None,
    sample: int | None = None,
    rng: np.random.Generator | None = None,
    block: int = 2048,
) -> np.ndarray:
    """The relative gap of every step of ``order`` (see the module docstring), in float64.

    The first step without a warm start has nothing to be far from: its gap is 0. So is the
    gap of a step where every point is already covered (largest distance 0). ``sample``
    checks that many random points (plus every chosen one) instead of all n, for large
    matrices (the full check costs n x k direct distances); the largest distance of a step
    is then taken over the sample only, so gaps are a lower bound.

    Example:
        >>> X = np.array([[0.0], [1.0], [10.0], [5.0]])
        >>> farthest_point_gaps(X, [0, 2, 3]).tolist(), farthest_point_gaps(X, [0, 1]).tolist()
        ([0.0, 0.0, 0.0], [0.0, 0.99])
    """
    if metric not in ("l2", "cosine"):
        raise ConfigError(f"metric must be 'l2' or 'cosine', not {metric!r}")
    X = open_embeddings(X)
    order = np.asarray(order, dtype=np.int64)
    warm = np.asarray([] if warm_start is None else warm_start, dtype=np.int64)
    n, k = len(X), len(order)
    points = np.arange(n) if sample is None or sample >= n else \
        np.union1d((rng or np.random.default_rng(0)).choice(n, sample, replace=False), order)
    where = np.searchsorted(points, order)  # each chosen point's index in `points`
    C = _rows64(X, order, metric)
    W = _rows64(X, warm, metric)
    step_max = np.full(k, -np.inf)
    chosen = np.full(k, np.nan)
    for b0 in range(0, len(points), block):
        P = _rows64(X, points[b0:b0 + block], metric)
        m = np.full(len(P), np.inf)
        d = np.empty(len(P))
        for w in W:
            np.minimum(m, _sq_dists_direct(P, w, d), out=m)
        mine = np.flatnonzero((where >= b0) & (where < b0 + len(P)))
        local = dict(zip(mine.tolist(), (where[mine] - b0).tolist(), strict=True))
        for t in range(k):
            step_max[t] = max(step_max[t], float(m.max()))
            if t in local:
                chosen[t] = m[local[t]]
            np.minimum(m, _sq_dists_direct(P, C[t], d), out=m)
    gaps = np.zeros(k)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(step_max) & (step_max > 0)
        gaps[ok] = (step_max[ok] - chosen[ok]) / step_max[ok]
    return gaps


def farthest_point_violation(
    X: np.ndarray | str,
    order: Sequence[int] | np.ndarray,
    *,
    metric: str = "l2",
    warm_start: Sequence[int] | np.ndarray | None = None,
    sample: int | None = None,
    rng: np.random.Generator | None = None,
) -> float:
    """The largest per-step relative gap of ``order`` (:func:`farthest_point_gaps`): 0 for an
    exact order, about 1e-7 for float32 rounding, 1 for a step that picks a covered point.

    Example:
        >>> X = np.array([[0.0], [1.0], [10.0], [5.0]])
        >>> farthest_point_violation(X, [0, 2, 3]), farthest_point_violation(X, [0, 1])
        (0.0, 0.99)
    """
    gaps = farthest_point_gaps(X, order, metric=metric, warm_start=warm_start, sample=sample, rng=rng)
    return float(gaps.max(initial=0.0))


def covering_radius(X: np.ndarray | str, centres: np.ndarray | None = None, *, metric: str = "l2",
                    points: np.ndarray | None = None, block_rows: int | None = None) -> float:
    """The largest distance from any row of ``X`` to its nearest centre, in the units of
    ``KCenterResult.radii``. Centres are positions in ``X`` (``centres``) or coordinates
    (``points``, a (m, d) array, e.g. centres chosen from other rows).

    Example:
        >>> X = np.array([[0.0], [1.0], [5.0]])
        >>> covering_radius(X, np.array([0, 2])), covering_radius(X, points=np.array([[4.0]]))
        (1.0, 4.0)
    """
    if (centres is None) == (points is None):
        raise ConfigError("give exactly one of centres (positions) or points (coordinates)")
    M = StreamedMatrix(X, metric=metric, block_rows=block_rows)
    if points is not None:
        d2, _ = nearest_points(M, M.to_frame(points))
    else:
        d2, _ = nearest_centres(M, np.asarray(centres, dtype=np.int64))
    r2 = max(float(d2.max()), 0.0)
    return r2 / 2 if metric == "cosine" else float(np.sqrt(r2))
