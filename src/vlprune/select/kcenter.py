"""Greedy k-center (Gonzalez's farthest-point traversal) over an embedding matrix.

Memory is the matrix, read in place (a ``.npy`` file is memory-mapped, never loaded whole),
plus O(n) for each row's squared distance to its nearest selected centre: no n x k or n x n
matrix is ever formed. Each step is one pass over the matrix: ``|x - c|^2 = |x|^2 + |c|^2 -
2 x.c`` in float32, with the norms precomputed once in a centred frame.

The greedy order has two useful properties: every prefix of it is the farthest-point
selection of that size, and the covering radius it achieves is at most twice the optimal
k-center radius (Gonzalez 1985).

Backends (all exact: each step takes a point at the largest distance from those chosen
before it, up to float32 rounding):

* ``"numpy"`` streams the matrix once per step (:mod:`vlprune.select.kcenter_stream`);
* ``"bounds"`` skips rows that the triangle inequality proves the new centre cannot move
  closer (:mod:`vlprune.select.kcenter_bounds`): several times faster on clustered data,
  the streaming loop plus a few percent where bounds never help;
* ``"torch"`` keeps the matrix on a torch device, float16 on a GPU
  (:mod:`vlprune.select.kcenter_torch`);
* ``"auto"``: ``torch`` when a CUDA GPU is present, else ``bounds``.

See ``docs/scale.md`` for measured speeds and the float16 trade-off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.kcenter_stream import StreamedMatrix, open_embeddings, single_threaded_blas

METRICS = ("l2", "cosine")
BACKENDS = ("auto", "numpy", "bounds", "torch")


@dataclass
class KCenterResult:
    """Positions in selection order and the covering radius after each step.

    ``radii[t]`` is the largest distance from any point to its nearest chosen point once the
    first ``t + 1`` points (plus any warm-start points) are chosen; it never increases, and
    ``radii[t]`` is the distance of point ``t + 1`` to the points chosen before it.
    ``info`` says which backend ran and what it did (rows computed, steps skipped, ...).
    """

    order: np.ndarray
    radii: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def resolve_backend(backend: str, device: str | None = None) -> str:
    """The backend ``"auto"`` stands for on this machine (others are returned as given).

    Example:
        >>> resolve_backend("numpy")
        'numpy'
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend != "auto":
        return backend
    if device is not None:
        return "torch"
    from vlprune.select.kcenter_torch import cuda_available

    return "torch" if cuda_available() else "bounds"


def min_sq_dist_to(X: np.ndarray, sq: np.ndarray, centres: np.ndarray, *, block: int = 1024) -> np.ndarray:
    """Squared distance from every row of X to its nearest row in ``centres`` (blocked).

    Example:
        >>> X = np.array([[0.0], [1.0], [5.0]], dtype=np.float32)
        >>> min_sq_dist_to(X, (X ** 2).sum(1), np.array([0])).tolist()
        [0.0, 1.0, 25.0]
    """
    best = np.full(len(X), np.inf, dtype=np.float32)
    for start in range(0, len(centres), block):
        C = X[centres[start:start + block]]
        for r0 in range(0, len(X), 65536):
            rows = slice(r0, r0 + 65536)
            d2 = sq[rows, None] + sq[centres[start:start + block]][None, :] - 2 * (X[rows] @ C.T)
            np.minimum(best[rows], d2.min(axis=1), out=best[rows])
    return np.maximum(best, 0)


def farthest_point_order(
    X: np.ndarray | str,
    k: int,
    *,
    start: str | int = "random",
    metric: str = "l2",
    warm_start: Sequence[int] | np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    progress: bool = False,
    backend: str = "auto",
    dtype: str | None = None,
    block_rows: int | None = None,
    device: str | None = None,
) -> KCenterResult:
    """Greedy max-min selection of ``k`` rows of ``X``.

    Args:
        X: (n, d) embeddings: an array, an ``np.memmap`` or the path of a ``.npy`` file
            (memory-mapped and streamed in blocks, never loaded whole). float32 and float16
            are read in place; other dtypes are converted to float32.
        k: how many points to choose (warm-start points not counted).
        start: ``"random"`` (a point drawn from ``rng``), ``"mean"`` (the point nearest the
            mean), or an int position. Ignored with a warm start: the first new point is then
            the one farthest from the warm-start set.
        metric: ``"l2"`` or ``"cosine"`` (L2 on unit-normalised rows; radii reported as
            cosine distances ``1 - cos``).
        warm_start: positions already selected; the new points are chosen to be far from
            them too and never repeat them.
        rng: the Generator ``start="random"`` draws from (default: seed 0).
        progress: show progress bars (preparation passes and steps).
        backend: ``"auto"``, ``"numpy"``, ``"bounds"`` or ``"torch"`` (see the module doc).
        dtype: storage precision: ``None`` (float32, or float16 as given; float16 on a GPU),
            ``"float32"`` or ``"float16"`` (a half-size copy when the input is wider; rows
            rounded to 11 significant bits, so the order is exact for the rounded rows).
        block_rows: rows per streamed block (CPU backends).
        device: torch device for the torch backend (default: CUDA when present).

    Example:
        >>> X = np.array([[0.0, 0], [1, 0], [10, 0], [5, 0]])
        >>> farthest_point_order(X, 3, start=0).order.tolist()
        [0, 2, 3]
    """
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    backend = resolve_backend(backend, device)
    X = open_embeddings(X)
    n = len(X)
    warm = np.unique(np.asarray([] if warm_start is None else warm_start, dtype=np.int64))
    if warm.size and (warm.min() < 0 or warm.max() >= n):
        raise ConfigError(f"warm-start positions must lie in [0, {n})")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 < k <= n - warm.size:
        raise ConfigError(f"k={k} must be an integer in [1, {n - warm.size}] (n={n}, {warm.size} warm-start points)")
    first = None if warm.size else _first_position(start, n, rng)

    if backend == "torch":
        from vlprune.select.kcenter_torch import torch_farthest_point

        order, radii2, info = torch_farthest_point(
            X, k, start=start, first=first, metric=metric, warm=warm if warm.size else None,
            dtype=dtype, device=device, block_rows=block_rows, progress=progress)
    else:
        order, radii2, info = _cpu_order(X, k, first=first, metric=metric, warm=warm, backend=backend,
                                         dtype=dtype, block_rows=block_rows, progress=progress)
    radii2 = np.maximum(radii2, 0)
    radii = radii2 / 2 if metric == "cosine" else np.sqrt(radii2)
    info["backend"] = backend
    return KCenterResult(order, radii, info)


def _first_position(start, n: int, rng: np.random.Generator | None) -> int | None:
    if start == "random":
        return int((rng or np.random.default_rng(0)).integers(n))
    if start == "mean":
        return None  # resolved by the backend: the row nearest the mean
    if isinstance(start, int | np.integer) and not isinstance(start, bool):
        if not 0 <= start < n:
            raise ConfigError(f"start position {start} is outside [0, {n})")
        return int(start)
    raise ConfigError(f"start must be 'random', 'mean' or a position, not {start!r}")


def _cpu_order(X, k, *, first, metric, warm, backend, dtype, block_rows, progress):
    from vlprune.select.kcenter_bounds import BoundsEngine
    from vlprune.select.kcenter_stream import StreamingEngine

    M = StreamedMatrix(X, metric=metric, dtype=dtype, block_rows=block_rows, progress=progress)
    Engine = BoundsEngine if backend == "bounds" else StreamingEngine
    engine = Engine(M)
    if warm.size:
        current, _ = engine.warm(warm)
    else:
        current = int(M.q.argmin()) if first is None else first
    order = np.empty(k, dtype=np.int64)
    radii2 = np.empty(k, dtype=np.float64)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=k, desc="farthest-point", unit="pt", mininterval=0.5)
    # Every product in a step is a matrix-vector one, memory-bound: the stream splits rows
    # over its own threads (M.threads), and BLAS stays on one thread, whose helper threads
    # would otherwise be woken for every call (milliseconds each on a busy machine).
    with single_threaded_blas():
        for t in range(k):
            order[t] = current
            current, radii2[t] = engine.add(current)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    info = {"dtype": str(M.X.dtype), **engine.stats}
    return order, radii2, info


# -- checking and measuring a selection -----------------------------------------------------------
def _rows64(X: np.ndarray, positions: np.ndarray, metric: str) -> np.ndarray:
    Y = np.asarray(X[np.asarray(positions)], dtype=np.float64)
    if metric == "cosine":
        Y /= np.maximum(np.linalg.norm(Y, axis=1, keepdims=True), 1e-12)
    return Y


def _sqdist64(P: np.ndarray, C: np.ndarray) -> np.ndarray:
    return np.maximum((P * P).sum(1)[:, None] + (C * C).sum(1)[None, :] - 2.0 * (P @ C.T), 0)


def farthest_point_violation(
    X: np.ndarray | str,
    order: np.ndarray,
    *,
    metric: str = "l2",
    warm_start: Sequence[int] | np.ndarray | None = None,
    sample: int | None = None,
    rng: np.random.Generator | None = None,
    block: int = 512,
) -> float:
    """How far ``order`` is from a valid farthest-point order, checked in float64.

    For each step ``t`` the point chosen must be at least as far from the points chosen
    before it (and the warm-start points) as every other point. Returns the largest excess
    ``d2(x, before t) - d2(order[t], before t)`` over all points and steps, divided by the
    largest of those squared distances: 0 for an exact order, about 1e-7 for float32
    rounding. ``sample`` checks that many random points (plus the chosen ones) instead of
    all n, for large matrices (the full check costs n x k distances).

    Example:
        >>> X = np.array([[0.0], [1.0], [10.0], [5.0]])
        >>> farthest_point_violation(X, np.array([0, 2, 3])), farthest_point_violation(X, np.array([0, 1]))
        (0.0, 0.99)
    """
    X = open_embeddings(X)
    order = np.asarray(order, dtype=np.int64)
    warm = np.asarray([] if warm_start is None else warm_start, dtype=np.int64)
    n, k = len(X), len(order)
    C = _rows64(X, order, metric)
    mu = C.mean(axis=0)
    C -= mu
    Wm = _rows64(X, warm, metric) - mu if warm.size else None

    def before(P: np.ndarray) -> np.ndarray:
        """(b, k): squared distance of each row of P to the set chosen before each step."""
        D = _sqdist64(P, C)
        prev = np.full((len(P), k), np.inf)
        prev[:, 1:] = np.minimum.accumulate(D, axis=1)[:, :-1]
        if Wm is not None:
            np.minimum(prev, _sqdist64(P, Wm).min(axis=1, keepdims=True), out=prev)
        return prev

    r2 = np.concatenate([before(C[i:i + block])[np.arange(min(block, k - i)), i + np.arange(min(block, k - i))]
                         for i in range(0, k, block)])
    points = np.arange(n) if sample is None or sample >= n else \
        np.union1d((rng or np.random.default_rng(0)).choice(n, sample, replace=False), order)
    worst, scale = 0.0, float(np.max(r2[np.isfinite(r2)], initial=0.0))
    for i in range(0, len(points), block):
        P = _rows64(X, points[i:i + block], metric) - mu
        prev = before(P)
        finite = np.isfinite(r2)
        excess = prev[:, finite] - r2[finite][None, :]
        worst = max(worst, float(excess.max(initial=0.0)))
        scale = max(scale, float(prev[np.isfinite(prev)].max(initial=0.0)))
    return worst / scale if scale > 0 else 0.0


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
    from vlprune.select.kcenter_stream import nearest_centres, nearest_points

    if (centres is None) == (points is None):
        raise ConfigError("give exactly one of centres (positions) or points (coordinates)")
    M = StreamedMatrix(X, metric=metric, block_rows=block_rows)
    if points is not None:
        d2, _ = nearest_points(M, M.to_frame(points))
    else:
        d2, _ = nearest_centres(M, np.asarray(centres, dtype=np.int64))
    r2 = max(float(d2.max()), 0.0)
    return r2 / 2 if metric == "cosine" else float(np.sqrt(r2))
