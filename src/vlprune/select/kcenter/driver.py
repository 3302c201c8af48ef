"""The farthest-point driver: one loop over any engine.

An *engine* holds the state of a greedy k-center run (each row's squared distance to its
nearest chosen centre) and knows how to add a centre; the driver owns everything else: the
arguments, the first centre, the warm start, the progress bar, the order and radii, and the
run report. Engines (all exact: every step takes a point at the largest float32 distance
from the points chosen before it, ties to the lowest position):

* ``"numpy"``: :class:`~vlprune.select.kcenter.streaming.StreamingEngine`, one pass over
  the matrix per step;
* ``"bounds"``: :class:`~vlprune.select.kcenter.bounds.BoundsEngine`, skips rows the
  triangle inequality proves the new centre cannot move closer (several times faster on
  clustered data; on data where the bounds prune nothing it falls back to streaming);
* ``"torch"``: :class:`~vlprune.select.kcenter.torch_engine.TorchEngine`, the matrix on a
  torch device, float16 on a GPU;
* ``"auto"``: ``torch`` when a CUDA GPU is present, else ``bounds``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.kcenter.matrix import StreamedMatrix, open_embeddings, single_threaded_blas

METRICS = ("l2", "cosine")
BACKENDS = ("auto", "numpy", "bounds", "torch")


class Engine(Protocol):
    """The state of one farthest-point run over a prepared matrix.

    ``warm`` and ``add`` return the next centre (the row farthest from every centre so far,
    the lowest position among equal ones) and its squared distance. CPU engines return
    Python numbers; the torch engine returns device tensors, which the driver only passes
    back to ``add`` and to ``finish``, so that the loop never waits for the device.
    """

    def warm(self, positions: np.ndarray) -> tuple[Any, Any]:
        """Start from centres already chosen."""

    def add(self, position: Any) -> tuple[Any, Any]:
        """Make ``position`` a centre."""

    def finish(self, order: list, radii2: list) -> tuple[np.ndarray, np.ndarray]:
        """The values ``add`` returned, as an int64 order and float64 squared radii."""

    def report(self) -> dict[str, Any]:
        """What the engine did, JSON-ready: ``engine``, ``dtype``, ``product``,
        ``rows_computed``, ``rows_skipped``, ``dense_steps``, ``sparse_steps``,
        ``fallbacks`` (and engine-specific keys)."""


@dataclass
class KCenterResult:
    """Positions in selection order and the covering radius after each step.

    ``radii[t]`` is the largest distance from any point to its nearest chosen point once the
    first ``t + 1`` points (plus any warm-start points) are chosen; it never increases, and
    ``radii[t]`` is the distance of point ``t + 1`` to the points chosen before it.
    ``info`` is the run report (engine used, dtype, rows computed and skipped, dense and
    sparse steps, fallbacks; deterministic and JSON-ready); ``seconds`` the time spent
    preparing the matrix and selecting.
    """

    order: np.ndarray
    radii: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


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
    from vlprune.select.kcenter.torch_engine import cuda_available

    return "torch" if cuda_available() else "bounds"


def make_engine(backend: str, M: StreamedMatrix, *, dtype: str | None = None, device: str | None = None,
                progress: bool = False) -> Engine:
    """The engine named ``backend`` (a resolved name) over the prepared matrix ``M``."""
    if backend == "torch":
        from vlprune.select.kcenter.torch_engine import TorchEngine

        return TorchEngine(M, dtype=dtype, device=device, progress=progress)
    if backend == "bounds":
        from vlprune.select.kcenter.bounds import BoundsEngine

        return BoundsEngine(M)
    from vlprune.select.kcenter.streaming import StreamingEngine

    return StreamingEngine(M)


def check_start(start: str | int, n: int) -> None:
    """Raise ConfigError unless ``start`` is ``"random"``, ``"mean"`` or a position in [0, n)."""
    if start in ("random", "mean"):
        return
    if isinstance(start, int | np.integer) and not isinstance(start, bool):
        if not 0 <= start < n:
            raise ConfigError(f"start position {start} is outside [0, {n})")
        return
    raise ConfigError(f"start must be 'random', 'mean' or a position, not {start!r}")


def first_position(start: str | int, M: StreamedMatrix, rng: np.random.Generator | None) -> int:
    """The first centre: a position drawn from ``rng`` (``"random"``), the row nearest the
    mean (``"mean"``, the smallest centred norm), or ``start`` itself.

    Example:
        >>> M = StreamedMatrix(np.array([[0.0], [1.0], [5.0]], dtype=np.float32))
        >>> first_position("mean", M, None), first_position(2, M, None)
        (1, 2)
    """
    check_start(start, M.n)
    if start == "random":
        return int((rng or np.random.default_rng(0)).integers(M.n))
    if start == "mean":
        return int(M.q.argmin())
    return int(start)


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
        block_rows: rows per streamed block (CPU engines).
        device: torch device for the torch engine (default: CUDA when present).

    Example:
        >>> X = np.array([[0.0, 0], [1, 0], [10, 0], [5, 0]])
        >>> farthest_point_order(X, 3, start=0).order.tolist()
        [0, 2, 3]
    """
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    requested = backend
    backend = resolve_backend(backend, device)
    X = open_embeddings(X)
    n = len(X)
    warm = np.unique(np.asarray([] if warm_start is None else warm_start, dtype=np.int64))
    if warm.size and (warm.min() < 0 or warm.max() >= n):
        raise ConfigError(f"warm-start positions must lie in [0, {n})")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 < k <= n - warm.size:
        raise ConfigError(f"k={k} must be an integer in [1, {n - warm.size}] (n={n}, {warm.size} warm-start points)")
    if not warm.size:
        check_start(start, n)

    t0 = time.perf_counter()
    # The torch engine keeps its own (device) copy: the host matrix is read as given.
    M = StreamedMatrix(X, metric=metric, dtype=None if backend == "torch" else dtype,
                       block_rows=block_rows, progress=progress)
    engine = make_engine(backend, M, dtype=dtype, device=device, progress=progress)
    t1 = time.perf_counter()
    current, _ = engine.warm(warm) if warm.size else (first_position(start, M, rng), None)
    order, radii2 = [], []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=k, desc=f"farthest-point ({backend})", unit="pt", mininterval=0.5)
    # Every product in a step is a matrix-vector one, memory-bound: the CPU engines split
    # rows over their own threads, and BLAS stays on one thread, whose helper threads would
    # otherwise be woken for every call (milliseconds each on a busy machine).
    with single_threaded_blas():
        for _ in range(k):
            order.append(current)
            current, r2 = engine.add(current)
            radii2.append(r2)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    order_np, radii2_np = engine.finish(order, radii2)
    t2 = time.perf_counter()
    radii2_np = np.maximum(radii2_np, 0)
    radii = radii2_np / 2 if metric == "cosine" else np.sqrt(radii2_np)
    info = {"backend": requested, **engine.report(), "metric": metric, "warm_start": int(warm.size)}
    return KCenterResult(order_np, radii, info, {"prepare_s": t1 - t0, "select_s": t2 - t1})
