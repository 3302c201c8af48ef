"""The streaming engine: every farthest-point step reads the whole matrix once.

:func:`stream_step` reads the matrix in blocks of ``block_rows`` rows; for each block one
BLAS matrix-vector product (:meth:`StreamedMatrix.products`) is followed by a few vector
operations on the block's slice of the running minimum, which is still in cache, and a
running argmax. A separate pass per vector operation would re-read n floats from memory each
time (about 20% of a step's traffic at d = 384).

Float16 storage halves the bytes; blocks are widened to float32 before the product, so the
arithmetic is float32 on the float16-rounded rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vlprune.select.kcenter.matrix import (
    StreamedMatrix,
    _executor,
    nearest_centres,
    single_threaded_blas,
)


def stream_step(M: StreamedMatrix, w: np.ndarray, m2: np.ndarray, *,
                assign: np.ndarray | None = None, label: int = 0) -> tuple[int, float]:
    """One farthest-point step over every row: lower ``m2`` (squared distance of each row to
    its nearest centre) with the distances to the centre ``w``, and return the position and
    value of the new maximum of ``m2`` (the lowest position among equal maxima). With
    ``assign``, rows whose minimum was lowered get ``label`` (the index of their nearest
    centre).

    The rows are split into ``M.threads`` contiguous ranges, each streamed by its own thread
    with single-threaded BLAS: threads meet once per step rather than once per block (a
    multi-threaded BLAS call per block waits for its slowest thread every time, which on a
    busy machine costs more than the product itself).

    Example:
        >>> M = StreamedMatrix(np.array([[0.0], [1.0], [5.0]], dtype=np.float32))
        >>> m2 = np.array([-np.inf, np.inf, np.inf], dtype=np.float32)
        >>> stream_step(M, M.centre(0), m2)
        (2, 25.0)
    """
    w2, const = M.step_constants(w)
    spans = M.spans()
    if len(spans) == 1:
        return _stream_span(M, 0, spans[0], w2, const, m2, assign, label)
    with single_threaded_blas():
        results = list(_executor(len(spans)).map(
            lambda i: _stream_span(M, i, spans[i], w2, const, m2, assign, label), range(len(spans))))
    # max() keeps the first of equal values: spans are in row order, so ties go to the lowest row.
    return max(results, key=lambda r: r[1])


def _stream_span(M: StreamedMatrix, worker: int, span: tuple[int, int], w2: np.ndarray, const: np.float32,
                 m2: np.ndarray, assign: np.ndarray | None, label: int) -> tuple[int, float]:
    scratch, mask = M.workspace(worker)
    best_pos, best_val = -1, -np.inf
    for r0 in range(span[0], span[1], M.block_rows):
        r1 = min(r0 + M.block_rows, span[1])
        d2 = scratch[: r1 - r0]
        M.products(r0, r1, w2, d2, worker)
        d2 += M.q[r0:r1]
        d2 += const
        mb = m2[r0:r1]
        if assign is None:
            np.minimum(mb, d2, out=mb)
        else:
            mk = mask[: r1 - r0]
            np.less(d2, mb, out=mk)
            np.copyto(mb, d2, where=mk)
            np.copyto(assign[r0:r1], label, where=mk)
        i = int(mb.argmax())  # the first maximum of the block
        if mb[i] > best_val:  # strictly greater: an earlier block keeps a tie
            best_pos, best_val = r0 + i, float(mb[i])
    return best_pos, best_val


class StreamingEngine:
    """Exact farthest-point state without shortcuts: every step streams the whole matrix.

    Holds ``m2``, each row's squared distance to its nearest centre (``-inf`` once chosen).
    Implements the :class:`~vlprune.select.kcenter.driver.Engine` protocol.

    Example:
        >>> M = StreamedMatrix(np.array([[0.0], [1.0], [5.0]], dtype=np.float32))
        >>> StreamingEngine(M).add(0)
        (2, 25.0)
    """

    name = "numpy"

    def __init__(self, M: StreamedMatrix) -> None:
        self.M = M
        self.m2 = np.full(M.n, np.inf, np.float32)
        self.steps = 0

    def warm(self, positions: np.ndarray) -> tuple[int, float]:
        """Start from centres already chosen; returns the farthest row from them."""
        self.m2, _ = nearest_centres(self.M, positions)
        self.m2[positions] = -np.inf
        i = int(self.m2.argmax())
        return i, float(self.m2[i])

    def add(self, position: int) -> tuple[int, float]:
        self.m2[position] = -np.inf
        self.steps += 1
        return stream_step(self.M, self.M.centre(position), self.m2)

    def finish(self, order: list, radii2: list) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(order, dtype=np.int64), np.asarray(radii2, dtype=np.float64)

    def report(self) -> dict[str, Any]:
        rows = self.M.n * self.steps
        return {"engine": self.name, "dtype": str(self.M.X.dtype), "product": product_mode(self.M),
                "rows_computed": rows, "rows_skipped": 0, "dense_steps": self.steps, "sparse_steps": 0,
                "fallbacks": 0}


def product_mode(M: StreamedMatrix) -> str:
    """How rows enter the product: ``"centred"`` or ``"raw"`` (see :mod:`.matrix`)."""
    return "centred" if M.centre_rows else "raw"
