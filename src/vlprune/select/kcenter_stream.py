"""The embedding matrix as farthest-point sees it, read in row blocks, and the streaming step.

Farthest-point is memory-bound: every step reads the whole (n, d) matrix once to compute one
distance per row, and does O(1) arithmetic per element read. So the code here is about
reading the matrix exactly once per step and doing everything else in cache:

* :class:`StreamedMatrix` never copies the caller's float32 or float16 matrix (in memory or
  memory-mapped from a ``.npy`` file). It works in a *centred* frame, ``y_i = s_i x_i - mu``
  (``s_i = 1`` for L2, ``1 / |x_i|`` for cosine; ``mu`` the mean of the scaled rows), without
  ever writing ``y`` down: ``|y_i - w|^2 = q_i + |w|^2 - 2 s_i (x_i . w) + 2 mu . w`` with
  ``q_i = |y_i|^2`` precomputed. Centring costs nothing per step and keeps the float32
  expansion accurate when the data sit far from the origin (real embeddings do).
* :func:`stream_step` reads the matrix in blocks of ``block_rows`` rows; for each block one
  BLAS matrix-vector product is followed by a few vector operations on the block's slice of
  the running minimum, which is still in cache, and a running argmax. A separate pass per
  vector operation would re-read n floats from memory each time (about 20% of a step's
  traffic at d = 384).

Float16 storage halves the bytes; blocks are widened to float32 before the product (torch
does that conversion an order of magnitude faster than numpy, so it is used when installed),
so the arithmetic is float32 on the float16-rounded rows.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from vlprune.errors import ConfigError

#: Rows per streamed block: a block's per-row vectors (distances, running minimum, norms,
#: mask: about 13 bytes a row) stay within a 1 MiB cache while the block's rows stream past.
DEFAULT_BLOCK_ROWS = 65_536
#: Bytes of float32 temporaries a pass may hold at once (float16 widening buffer, centred
#: copies of a block), and at most this fraction of the matrix, so that peak memory stays
#: the matrix plus O(n) plus a few percent.
TEMP_BYTES, TEMP_FRACTION = 16 << 20, 1 / 32
#: Bytes of gathered rows per chunk when only some rows are needed (bounds backend): small
#: enough that the copy stays in L2 and is read back from there, so a gathered row costs
#: about 2x a streamed one instead of 6x for copies that spill to memory.
GATHER_BYTES = 512 << 10
#: Matrices with fewer rows per thread than this are streamed by one thread.
MIN_ROWS_PER_THREAD = 16_384
#: Gathers of fewer rows per thread than this run on the calling thread.
MIN_GATHER_PER_THREAD = 2_048
#: Bytes of (rows x centres) distance temporaries in blocked nearest-centre passes.
PAIR_BYTES = 16 << 20
#: Relative precision of float32; bounds and checks are widened by a multiple of its root.
EPS32 = float(np.finfo(np.float32).eps)


def open_embeddings(X) -> np.ndarray:
    """``X`` as an array without loading it: a path to a ``.npy`` file is memory-mapped.

    Example:
        >>> open_embeddings(np.zeros((3, 2), dtype=np.float32)).shape
        (3, 2)
    """
    if isinstance(X, str | os.PathLike):
        path = os.fspath(X)
        if not os.path.exists(path):
            raise ConfigError(f"embeddings file {path} does not exist")
        try:
            X = np.load(path, mmap_mode="r")
        except ValueError as exc:
            raise ConfigError(f"embeddings file {path} is not a readable .npy array: {exc}") from None
    elif not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if X.ndim != 2:
        raise ConfigError(f"embeddings must be a 2-D array (n, d), got shape {X.shape}")
    return X


class StreamedMatrix:
    """Row-block access to an (n, d) embedding matrix in the centred frame described above.

    Args:
        X: (n, d) array, ``np.memmap`` or path to a ``.npy`` file. float32 and float16 are
            used in place; other dtypes are converted to float32 (a copy).
        metric: ``"l2"`` or ``"cosine"`` (rows scaled to unit length on the fly).
        dtype: ``None`` (keep float32/float16 as given), ``"float32"`` or ``"float16"`` (store
            a float16 copy when the input is wider: half the memory, rows rounded to 11
            significant bits).
        block_rows: rows per streamed block.
        progress: show a progress bar over the preparation passes.
        norms: compute the centred squared norms ``q`` (a second pass).
        threads: threads streaming each step (default: as many as BLAS uses).

    Example:
        >>> M = StreamedMatrix(np.array([[0.0, 0], [3, 4]], dtype=np.float32), metric="l2")
        >>> M.sq_dists_to(np.array([0, 1]), M.centre(0)).tolist()
        [0.0, 25.0]
    """

    def __init__(self, X, *, metric: str = "l2", dtype: str | None = None,
                 block_rows: int | None = None, progress: bool = False, norms: bool = True,
                 threads: int | None = None) -> None:
        X = open_embeddings(X)
        if dtype not in (None, "float32", "float16"):
            raise ConfigError(f"dtype must be 'float32' or 'float16', not {dtype!r}")
        if X.dtype not in (np.float32, np.float16):
            X = X.astype(np.float16 if dtype == "float16" else np.float32)
        elif dtype == "float16" and X.dtype != np.float16:
            X = _to_float16(X)
        self.X = X
        self.n, self.d = X.shape
        self.metric = metric
        if block_rows is not None and block_rows < 1:
            raise ConfigError(f"block_rows must be positive, got {block_rows}")
        row_bytes = 4 * max(self.d, 1)
        #: Rows per block of passes that make float32 temporaries.
        self.temp_rows = max(64, int(min(TEMP_BYTES, TEMP_FRACTION * self.n * row_bytes)) // row_bytes)
        # Streaming a float32 matrix reads it in place, so its blocks can be long; other
        # storage is widened into a buffer of temp_rows rows.
        default = DEFAULT_BLOCK_ROWS if X.dtype == np.float32 else self.temp_rows
        self.block_rows = int(block_rows or default)
        self.temp_rows = min(self.temp_rows, self.block_rows)
        self._widen = _widener(X.dtype)
        self._buf = None
        self._gather: list[np.ndarray] = []
        self._workspaces: list = []
        #: Threads streaming a step (see :func:`stream_step`).
        self.threads = int(threads or default_threads())
        self._prepare(progress, norms)

    # -- preparation: two passes, scale and mean, then centred squared norms ---------------------
    def _prepare(self, progress: bool, norms: bool) -> None:
        n = self.n
        self.scale = np.empty(n, np.float32) if self.metric == "cosine" else None
        total = np.zeros(self.d, np.float64)
        for r0, r1, B in self.blocks(progress=progress, desc="embeddings: mean", rows=self.temp_rows):
            if self.scale is not None:
                lengths = np.sqrt(np.einsum("ij,ij->i", B, B))
                self.scale[r0:r1] = 1.0 / np.maximum(lengths, np.float32(1e-12))
                total += (B * self.scale[r0:r1, None]).sum(axis=0, dtype=np.float64)
            else:
                total += B.sum(axis=0, dtype=np.float64)
        if not np.isfinite(total).all():
            raise ConfigError("embeddings contain NaN or infinite values")
        # Any mu is exact (it only translates); rounding it to 11 bits makes it, and so every
        # distance, independent of how the rows were blocked.
        self.mu = (total / max(n, 1)).astype(np.float16).astype(np.float32)
        if not norms:  # the caller computes its own (the torch path, from its rounded copy)
            return
        self.q = np.empty(n, np.float32)
        for r0, r1, B in self.blocks(progress=progress, desc="embeddings: norms", rows=self.temp_rows):
            Y = B * self.scale[r0:r1, None] if self.scale is not None else B.copy()
            Y -= self.mu
            self.q[r0:r1] = np.einsum("ij,ij->i", Y, Y)
        if not np.isfinite(self.q).all():
            raise ConfigError("embeddings contain NaN or infinite values (or values too large "
                              "to square in float32)")
        self.max_q = float(self.q.max()) if n else 0.0
        #: Absolute slack on distances that covers float32 rounding of the expansion.
        self.slack = 4.0 * np.sqrt(EPS32 * max(self.max_q, 1e-30))

    # -- access -------------------------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        return self.n * self.d * self.X.dtype.itemsize

    def blocks(self, *, progress: bool = False, desc: str = "",
               rows: int | None = None) -> Iterator[tuple[int, int, np.ndarray]]:
        """``(start, stop, float32 rows)`` for every block of ``rows`` rows (default
        ``block_rows``); the rows array is a view or a reused buffer."""
        rows = rows or self.block_rows
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.n, desc=desc, unit="row", unit_scale=True, mininterval=0.5)
        for r0 in range(0, self.n, rows):
            r1 = min(r0 + rows, self.n)
            yield r0, r1, self.block(r0, r1)
            if bar is not None:
                bar.update(r1 - r0)
        if bar is not None:
            bar.close()

    def block(self, r0: int, r1: int, buf: np.ndarray | None = None) -> np.ndarray:
        """Rows ``r0:r1`` as float32: a view for float32 storage, else widened into ``buf``
        (default: the matrix's own buffer of ``block_rows`` rows)."""
        raw = self.X[r0:r1]
        if self.X.dtype == np.float32:
            return raw
        if buf is None:
            if self._buf is None:
                self._buf = np.empty((min(self.block_rows, self.n), self.d), np.float32)
            buf = self._buf
        out = buf[: r1 - r0]
        self._widen(raw, out)
        return out

    def spans(self) -> list[tuple[int, int]]:
        """Contiguous row ranges of near-equal size, one per streaming thread (one range
        for small matrices, where a thread hand-off costs more than it saves)."""
        parts = max(1, min(self.threads, self.n // MIN_ROWS_PER_THREAD))
        edges = [self.n * i // parts for i in range(parts + 1)]
        return list(itertools.pairwise(edges))

    def workspace(self, worker: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Per-thread scratch: distances, mask and (for float16 storage) a widening buffer."""
        while len(self._workspaces) <= worker:
            rows = min(self.block_rows, self.n)
            buf = None if self.X.dtype == np.float32 else np.empty((rows, self.d), np.float32)
            self._workspaces.append((np.empty(rows, np.float32), np.empty(rows, bool), buf))
        return self._workspaces[worker]

    def rows(self, positions: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Raw rows at ``positions`` as float32 (into ``out`` if given; keep chunks small)."""
        if self.X.dtype == np.float32:
            if out is None:
                return np.take(self.X, positions, axis=0)
            return np.take(self.X, positions, axis=0, out=out[: len(positions)])
        raw = np.take(self.X, positions, axis=0)
        dst = np.empty(raw.shape, np.float32) if out is None else out[: len(positions)]
        self._widen(raw, dst)
        return dst

    def centre(self, position: int) -> np.ndarray:
        """The centred coordinates ``y`` of one row, float32."""
        x = np.asarray(self.X[position], dtype=np.float64)
        if self.scale is not None:
            x = x * float(self.scale[position])
        return (x - self.mu).astype(np.float32)

    def centred_rows(self, positions: np.ndarray) -> np.ndarray:
        """Centred coordinates of several rows (k x d, float32)."""
        Y = self.rows(positions)
        if self.scale is not None:
            Y *= self.scale[positions, None]
        Y -= self.mu
        return Y

    def to_frame(self, rows: np.ndarray) -> np.ndarray:
        """Raw (k, d) points from elsewhere in this matrix's centred frame."""
        Y = np.array(rows, dtype=np.float32, ndmin=2)
        if self.scale is not None:
            Y /= np.maximum(np.linalg.norm(Y, axis=1, keepdims=True), np.float32(1e-12))
        Y -= self.mu
        return Y

    def step_constants(self, w: np.ndarray) -> tuple[np.ndarray, np.float32]:
        """For a centre ``w``: the vector to multiply raw rows by (``-2 w``) and the constant
        ``|w|^2 + 2 mu.w`` so that ``d2 = q + s * (x @ (-2 w)) + constant``."""
        w64 = w.astype(np.float64)
        const = np.float32(w64 @ w64 + 2.0 * (self.mu.astype(np.float64) @ w64))
        return (-2.0 * w).astype(np.float32), const

    def sq_dists_to(self, positions: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Squared distances from the rows at ``positions`` to the centred point ``w``,
        gathered in chunks of about :data:`GATHER_BYTES`, split over the streaming threads
        when there are many (a random gather is latency-bound: threads overlap the waits)."""
        w2, const = self.step_constants(w)
        positions = np.asarray(positions, dtype=np.int64)
        out = np.empty(len(positions), np.float32)
        parts = max(1, min(self.threads, len(positions) // MIN_GATHER_PER_THREAD))
        if parts == 1:
            self._gather_span(0, positions, out, w2, const)
            return out
        edges = [len(positions) * i // parts for i in range(parts + 1)]
        with single_threaded_blas():
            list(_executor(parts).map(
                lambda i: self._gather_span(i, positions[edges[i]:edges[i + 1]], out[edges[i]:edges[i + 1]],
                                            w2, const), range(parts)))
        return out

    def _gather_span(self, worker: int, positions: np.ndarray, out: np.ndarray, w2: np.ndarray,
                     const: np.float32) -> None:
        chunk = max(1, GATHER_BYTES // (self.d * 4))
        while len(self._gather) <= worker:
            self._gather.append(np.empty((chunk, self.d), np.float32))
        buf = self._gather[worker]
        for c0 in range(0, len(positions), chunk):
            pos = positions[c0:c0 + chunk]
            o = out[c0:c0 + chunk]
            np.matmul(self.rows(pos, out=buf), w2, out=o)
            if self.scale is not None:
                o *= self.scale[pos]
            o += self.q[pos]
            o += const


def stream_step(M: StreamedMatrix, w: np.ndarray, m2: np.ndarray, *,
                assign: np.ndarray | None = None, label: int = 0) -> tuple[int, float]:
    """One farthest-point step over every row: lower ``m2`` (squared distance of each row to
    its nearest centre) with the distances to the centre ``w``, and return the position and
    value of the new maximum of ``m2``. With ``assign``, rows whose minimum was lowered get
    ``label`` (the index of their nearest centre).

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
    return max(results, key=lambda r: r[1])


def _stream_span(M: StreamedMatrix, worker: int, span: tuple[int, int], w2: np.ndarray, const: np.float32,
                 m2: np.ndarray, assign: np.ndarray | None, label: int) -> tuple[int, float]:
    scratch, mask, buf = M.workspace(worker)
    best_pos, best_val = -1, -np.inf
    scale = M.scale
    for r0 in range(span[0], span[1], M.block_rows):
        r1 = min(r0 + M.block_rows, span[1])
        d2 = scratch[: r1 - r0]
        np.matmul(M.block(r0, r1, buf), w2, out=d2)
        if scale is not None:
            d2 *= scale[r0:r1]
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
        i = int(mb.argmax())
        if mb[i] > best_val:
            best_pos, best_val = r0 + i, float(mb[i])
    return best_pos, best_val


_EXECUTORS: dict[int, Any] = {}
if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads
    os.register_at_fork(after_in_child=_EXECUTORS.clear)


def _executor(threads: int):
    if threads not in _EXECUTORS:
        from concurrent.futures import ThreadPoolExecutor

        _EXECUTORS[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="vlprune-stream")
    return _EXECUTORS[threads]


def default_threads() -> int:
    """Threads for streaming: as many as BLAS would use (``OMP_NUM_THREADS``,
    ``OPENBLAS_NUM_THREADS`` and threadpoolctl limits are respected), else the CPU count."""
    try:
        from threadpoolctl import threadpool_info

        counts = [info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"]
        if counts:
            return max(1, min(counts))
    except ImportError:
        pass
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def nearest_centres(M: StreamedMatrix, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the squared distance to its nearest row among ``centres`` (positions)
    and that centre's index in ``centres``; blocked over rows and centres.

    Example:
        >>> M = StreamedMatrix(np.array([[0.0], [1.0], [5.0]], dtype=np.float32))
        >>> d2, which = nearest_centres(M, np.array([0, 2]))
        >>> d2.tolist(), which.tolist()
        ([0.0, 1.0, 0.0], [0, 0, 1])
    """
    return nearest_points(M, M.centred_rows(np.asarray(centres, dtype=np.int64)))


def nearest_points(M: StreamedMatrix, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`nearest_centres` for points given by their centred coordinates ``C``
    (use :meth:`StreamedMatrix.to_frame` for raw rows from elsewhere)."""
    C = np.ascontiguousarray(C, dtype=np.float32)
    cq = np.einsum("ij,ij->i", C, C)
    best = np.full(M.n, np.inf, np.float32)
    which = np.zeros(M.n, np.int32)
    chunk = max(1, PAIR_BYTES // (4 * min(M.temp_rows, max(M.n, 1))))  # block x chunk temporaries
    for r0, r1, B in M.blocks(rows=M.temp_rows):
        Y = B * M.scale[r0:r1, None] if M.scale is not None else B.copy()
        Y -= M.mu
        for c0 in range(0, len(C), chunk):
            d2 = M.q[r0:r1, None] + cq[None, c0:c0 + chunk] - 2.0 * (Y @ C[c0:c0 + chunk].T)
            j = d2.argmin(axis=1)
            v = d2[np.arange(len(j)), j]
            better = v < best[r0:r1]
            best[r0:r1][better] = v[better]
            which[r0:r1][better] = (c0 + j[better]).astype(np.int32)
    return best, which


# -- BLAS threads -------------------------------------------------------------------------------
_BLAS = []


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run BLAS on one thread inside the block (a few microseconds to enter and leave).

    Small products (a few thousand gathered rows, the group centres) finish in ~0.1 ms on one
    thread, but a multi-threaded OpenBLAS call waits for its helper threads, which costs ms
    on a busy machine. Streaming the whole matrix keeps every thread.
    """
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController().select(user_api="blas"))
        except ImportError:
            _BLAS.append(None)
    if _BLAS[0] is None:
        yield
        return
    limiter = _BLAS[0].limit(limits=1)
    try:
        yield
    finally:
        limiter.restore_original_limits()


# -- float16 helpers ----------------------------------------------------------------------------
def _widener(dtype: np.dtype):
    """A function copying a float16 block into a float32 buffer, as fast as available.

    torch converts with F16C vector instructions (about 4e9 values/s on one core, 10x
    numpy's scalar loop). Each call converts at most 32768 values, the size below which
    torch does not hand work to its OpenMP threads: waking them costs milliseconds on a
    busy machine, and OpenMP threads do not survive ``fork`` (Ray and multiprocessing
    workers would hang).
    """
    if dtype == np.float32:
        return None
    try:
        import torch
    except ImportError:  # numpy's float16 conversion is scalar code, but correct
        def widen(src, dst):
            dst[...] = src
        return widen

    chunk = 32_768

    def widen(src, dst):
        src = np.ascontiguousarray(src).reshape(-1)
        flat = dst.reshape(-1)
        with warnings.catch_warnings():  # read-only memmaps: torch only reads them here
            warnings.simplefilter("ignore", UserWarning)
            s, d = torch.from_numpy(src), torch.from_numpy(flat)
        for i in range(0, len(src), chunk):
            d[i:i + chunk].copy_(s[i:i + chunk])
    return widen


def _to_float16(X: np.ndarray, block_rows: int = DEFAULT_BLOCK_ROWS) -> np.ndarray:
    """A float16 copy of ``X`` made block by block (no full-size float32 temporary)."""
    out = np.empty(X.shape, np.float16)
    for r0 in range(0, len(X), block_rows):
        part = out[r0:r0 + block_rows]
        with np.errstate(over="ignore"):  # reported below, with the remedy
            part[...] = X[r0:r0 + block_rows]
        if not np.isfinite(part).all():
            raise ConfigError("embeddings overflow float16 (values beyond 65504) or contain NaN; "
                              "use dtype='float32'")
    return out


class StreamingEngine:
    """Exact farthest-point state without shortcuts: every step streams the whole matrix.

    Holds ``m2``, each row's squared distance to its nearest centre (``-inf`` once chosen).
    :meth:`add` makes a row a centre and returns the next farthest row and its ``m2``.

    Example:
        >>> M = StreamedMatrix(np.array([[0.0], [1.0], [5.0]], dtype=np.float32))
        >>> StreamingEngine(M).add(0)
        (2, 25.0)
    """

    def __init__(self, M: StreamedMatrix) -> None:
        self.M = M
        self.m2 = np.full(M.n, np.inf, np.float32)
        self.stats = {"dense_steps": 0}

    def warm(self, positions: np.ndarray) -> tuple[int, float]:
        """Start from centres already chosen; returns the farthest row from them."""
        self.m2, _ = nearest_centres(self.M, positions)
        self.m2[positions] = -np.inf
        i = int(self.m2.argmax())
        return i, float(self.m2[i])

    def add(self, position: int) -> tuple[int, float]:
        self.m2[position] = -np.inf
        self.stats["dense_steps"] += 1
        return stream_step(self.M, self.M.centre(position), self.m2)
