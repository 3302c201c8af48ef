"""The embedding matrix as farthest-point sees it: read in row blocks, in a centred frame.

Farthest-point is memory-bound: every step reads the whole (n, d) matrix once to compute one
distance per row, and does O(1) arithmetic per element read. So the code here is about
reading the matrix exactly once per step and doing everything else in cache.

:class:`StreamedMatrix` never copies the caller's float32 or float16 matrix (in memory or
memory-mapped from a ``.npy`` file). It works in a *centred* frame, ``y_i = s_i x_i - mu``
(``s_i = 1`` for L2, ``1 / |x_i|`` for cosine; ``mu`` the mean of the scaled rows, rounded
once to float32), and computes squared distances to a centre ``w`` as
``|y_i - w|^2 = q_i + |w|^2 - 2 y_i . w`` with ``q_i = |y_i|^2`` precomputed.

**Precision.** In float32 the error of that expansion is about ``d * eps * |a_i| * |w|``,
where ``a_i`` is the vector the product reads. Rows far from the origin therefore have to be
centred *before* the product: multiplying the raw rows and subtracting ``mu . w`` afterwards
leaves an error proportional to ``|mu|``, which swamps the distances once the mean lies far
beyond the data's spread (at offset 1e4 with spread 0.05, d = 8, a step then picked a point
19% short of the true farthest distance). Centring costs a copy per chunk per step (1.7-1.8x
the time of a step, ``benchmarks/bench_kcenter_product.py``), so it is done only where it
matters:

* ``centre_rows`` (the *centred product*): when ``|mu| > RAW_PRODUCT_OFFSET * R`` (``R`` the
  largest centred norm), each chunk of rows is centred into an L2-sized buffer and multiplied
  there;
* otherwise (the *raw product*, normalised embeddings and anything near the origin) the raw
  rows are multiplied in place and ``mu`` enters through a constant; the product's error
  bound is then at most ``1 + RAW_PRODUCT_OFFSET`` (4) times the centred one.

:attr:`StreamedMatrix.d2_error` is a rigorous bound on the absolute error of a computed
squared distance in either mode (the bounds engine widens its tests by it).
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
#: Bytes of rows per chunk when rows are copied before the product (gathered rows for the
#: bounds engine, centred rows for the centred product): small enough that the copy stays
#: in L2 and is read back from there.
GATHER_BYTES = 512 << 10
#: Matrices with fewer rows per thread than this are streamed by one thread.
MIN_ROWS_PER_THREAD = 16_384
#: Gathers of fewer rows per thread than this run on the calling thread.
MIN_GATHER_PER_THREAD = 2_048
#: Bytes of (rows x centres) distance temporaries in blocked nearest-centre passes.
PAIR_BYTES = 16 << 20
#: Relative precision of float32.
EPS32 = float(np.finfo(np.float32).eps)
#: Rows are centred before the product when the mean lies farther than this many times the
#: largest centred norm from the origin (see the module docstring).
RAW_PRODUCT_OFFSET = 3.0
#: Every matrix-vector product covers a multiple of this many rows (a short tail goes
#: through a zero-padded buffer). BLAS kernels compute rows in small groups and a partial
#: group by other code, which rounds differently: without this, the same row would get a
#: distance one ulp apart when streamed and when gathered, and duplicated rows would not
#: tie (OpenBLAS's sgemv groups 4 rows; 16 covers groups of 2, 4, 8 and 16).
ROW_GROUP = 16


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
        threads: threads streaming each step (default: as many as BLAS uses).

    Attributes:
        mu: the float32 mean of the (scaled) rows; ``q`` the centred squared norms.
        centre_rows: whether products read centred rows (see the module docstring).
        d2_error: bound on the absolute float32 error of a computed squared distance.

    Example:
        >>> M = StreamedMatrix(np.array([[0.0, 0], [3, 4]], dtype=np.float32), metric="l2")
        >>> M.sq_dists_to(np.array([0, 1]), M.centre(0)).tolist()
        [0.0, 25.0]
    """

    def __init__(self, X, *, metric: str = "l2", dtype: str | None = None,
                 block_rows: int | None = None, progress: bool = False,
                 threads: int | None = None) -> None:
        X = open_embeddings(X)
        if dtype not in (None, "float32", "float16"):
            raise ConfigError(f"dtype must be 'float32' or 'float16', not {dtype!r}")
        if X.dtype not in (np.float32, np.float16):
            X = X.astype(np.float16 if dtype == "float16" else np.float32)
            if dtype == "float16" and not np.isfinite(X).all():
                raise ConfigError("embeddings overflow float16 (values beyond 65504) or contain NaN; "
                                  "use dtype='float32'")
        elif dtype == "float16" and X.dtype != np.float16:
            X = _to_float16(X)
        self.X = X
        self.n, self.d = X.shape
        self.metric = metric
        if block_rows is not None and block_rows < 1:
            raise ConfigError(f"block_rows must be positive, got {block_rows}")
        row_bytes = 4 * max(self.d, 1)
        #: Rows per block of the preparation passes: a function of n and d only, so that the
        #: mean (summed block by block in float64) does not depend on ``block_rows``.
        self.prep_rows = max(64, int(min(TEMP_BYTES, TEMP_FRACTION * self.n * row_bytes)) // row_bytes)
        # Streaming a float32 matrix reads it in place, so its blocks can be long; other
        # storage is widened into a buffer of prep_rows rows.
        default = DEFAULT_BLOCK_ROWS if X.dtype == np.float32 else self.prep_rows
        self.block_rows = _round_up(int(block_rows or default), ROW_GROUP)
        #: Rows per block of passes that make float32 temporaries.
        self.temp_rows = min(self.prep_rows, self.block_rows)
        #: Rows per chunk copied (gathered or centred) into an L2-sized buffer before a product.
        self.chunk_rows = max(ROW_GROUP, GATHER_BYTES // row_bytes // ROW_GROUP * ROW_GROUP)
        self._widen = _widener(X.dtype)
        self._buffers: dict[tuple[str, int], np.ndarray] = {}
        self._workspaces: list = []
        #: Threads streaming a step (see :func:`~vlprune.select.kcenter.streaming.stream_step`).
        self.threads = int(threads or default_threads())
        self._prepare(progress)

    # -- preparation: two passes, scale and mean, then centred squared norms ---------------------
    def _prepare(self, progress: bool) -> None:
        n = self.n
        self.scale = np.empty(n, np.float32) if self.metric == "cosine" else None
        total = np.zeros(self.d, np.float64)
        for r0, r1, B in self.blocks(progress=progress, desc="embeddings: mean", rows=self.prep_rows):
            if self.scale is not None:
                lengths = np.sqrt(np.einsum("ij,ij->i", B, B))
                self.scale[r0:r1] = 1.0 / np.maximum(lengths, np.float32(1e-12))
                total += (B * self.scale[r0:r1, None]).sum(axis=0, dtype=np.float64)
            else:
                total += B.sum(axis=0, dtype=np.float64)
        if not np.isfinite(total).all():
            raise ConfigError("embeddings contain NaN or infinite values")
        # Any mu is exact (it only translates the rows); the mean rounded once to float32 keeps
        # the centred rows small however far the data sit from the origin (float16, as before,
        # left an offset of 2^-11 |mean| and overflowed beyond 65504).
        self.mu = (total / max(n, 1)).astype(np.float32)
        self.q = np.empty(n, np.float32)
        for r0, r1, B in self.blocks(progress=progress, desc="embeddings: norms", rows=self.prep_rows):
            Y = self._centred(B, r0, r1)
            self.q[r0:r1] = np.einsum("ij,ij->i", Y, Y)
        if not np.isfinite(self.q).all():
            raise ConfigError("embeddings contain NaN or infinite values (or values too large "
                              "to square in float32)")
        self.max_q = float(self.q.max()) if n else 0.0
        radius = float(np.sqrt(self.max_q))
        offset = float(np.linalg.norm(self.mu.astype(np.float64)))
        self.centre_rows = offset > RAW_PRODUCT_OFFSET * radius
        # Norm of the vectors the product reads: centred rows, or raw (scaled) rows.
        read = radius if self.centre_rows else radius + offset
        # q_i, the product (d terms each), |w|^2 + 2 mu.w and three additions, each within
        # d * eps of its magnitude (recursive summation, the worst summation order); doubled
        # for the rounding of the centred coordinates and the centre itself.
        self.d2_error = 4.0 * (self.d + 8) * EPS32 * radius * (radius + read)

    # -- access -------------------------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        return self.n * self.d * self.X.dtype.itemsize

    def _buffer(self, name: str, worker: int, rows: int) -> np.ndarray:
        """A float32 (rows, d) scratch buffer, kept per name and thread."""
        buf = self._buffers.get((name, worker))
        if buf is None or len(buf) < rows:
            buf = self._buffers[(name, worker)] = np.empty((rows, self.d), np.float32)
        return buf

    def blocks(self, *, progress: bool = False, desc: str = "",
               rows: int | None = None) -> Iterator[tuple[int, int, np.ndarray]]:
        """``(start, stop, float32 rows)`` for every block of ``rows`` rows (default
        ``block_rows``); the rows array is a view or a reused buffer."""
        rows = rows or self.block_rows
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.n, desc=desc, unit="row", unit_scale=True, mininterval=0.5)
        buf = None if self.X.dtype == np.float32 else self._buffer("blocks", 0, min(rows, self.n))
        for r0 in range(0, self.n, rows):
            r1 = min(r0 + rows, self.n)
            yield r0, r1, self.block(r0, r1, buf)
            if bar is not None:
                bar.update(r1 - r0)
        if bar is not None:
            bar.close()

    def block(self, r0: int, r1: int, buf: np.ndarray | None = None) -> np.ndarray:
        """Rows ``r0:r1`` as float32: a view for float32 storage, else widened into ``buf``."""
        raw = self.X[r0:r1]
        if self.X.dtype == np.float32:
            return raw
        out = (buf if buf is not None else self._buffer("block", 0, r1 - r0))[: r1 - r0]
        self._widen(raw, out)
        return out

    def _centred(self, B: np.ndarray, r0: int, r1: int, out: np.ndarray | None = None) -> np.ndarray:
        """Centred rows ``s * B - mu`` for rows ``r0:r1`` (a new array unless ``out``). Every
        path that forms centred rows goes through here, so they agree to the last bit."""
        if self.scale is not None:
            Y = np.multiply(B, self.scale[r0:r1, None], out=out)
        elif out is None:
            Y = B.copy()
        else:
            Y = out
            np.copyto(Y, B)
        Y -= self.mu
        return Y

    def spans(self) -> list[tuple[int, int]]:
        """Contiguous row ranges of near-equal size, one per streaming thread (one range
        for small matrices, where a thread hand-off costs more than it saves)."""
        parts = max(1, min(self.threads, self.n // MIN_ROWS_PER_THREAD))
        edges = [min(self.n, _round_up(self.n * i // parts, ROW_GROUP)) for i in range(parts)] + [self.n]
        return list(itertools.pairwise(edges))

    def workspace(self, worker: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-thread scratch for a streamed block: distances and a mask."""
        while len(self._workspaces) <= worker:
            rows = min(self.block_rows, self.n)
            self._workspaces.append((np.empty(rows, np.float32), np.empty(rows, bool)))
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

    def centred_rows(self, positions: np.ndarray) -> np.ndarray:
        """Centred coordinates of several rows (k x d, float32)."""
        positions = np.asarray(positions, dtype=np.int64)
        Y = self.rows(positions)
        if self.scale is not None:
            Y *= self.scale[positions, None]
        Y -= self.mu
        return Y

    def centre(self, position: int) -> np.ndarray:
        """The centred coordinates ``y`` of one row, float32 (as every product sees it)."""
        return self.centred_rows(np.array([position]))[0]

    def to_frame(self, rows: np.ndarray) -> np.ndarray:
        """Raw (k, d) points from elsewhere in this matrix's centred frame."""
        Y = np.array(rows, dtype=np.float32, ndmin=2)
        if self.scale is not None:
            Y /= np.maximum(np.linalg.norm(Y, axis=1, keepdims=True), np.float32(1e-12))
        Y -= self.mu
        return Y

    def step_constants(self, w: np.ndarray) -> tuple[np.ndarray, np.float32]:
        """For a centre ``w``: the vector to multiply rows by (``-2 w``) and the constant
        that completes the squared distance: ``|w|^2`` for the centred product, ``|w|^2 +
        2 mu.w`` for the raw one (``d2 = q + s * (x @ (-2 w)) + constant``)."""
        w64 = w.astype(np.float64)
        const = w64 @ w64
        if not self.centre_rows:
            const += 2.0 * (self.mu.astype(np.float64) @ w64)
        return (-2.0 * w).astype(np.float32), np.float32(const)

    def products(self, r0: int, r1: int, w2: np.ndarray, out: np.ndarray, worker: int = 0) -> None:
        """``out = (rows r0:r1) @ w2`` in the product mode of this matrix: centred rows (chunk
        by chunk, through an L2-sized buffer) or raw rows times their scale."""
        if not self.centre_rows:
            raw = self.block(r0, r1, None if self.X.dtype == np.float32
                             else self._buffer("stream", worker, min(self.block_rows, self.n)))
            self._matvec(raw, w2, out, worker)
            if self.scale is not None:
                out *= self.scale[r0:r1]
            return
        buf = self._buffer("centre", worker, self.chunk_rows)
        for c0 in range(r0, r1, self.chunk_rows):
            c1 = min(c0 + self.chunk_rows, r1)
            Y = buf[: c1 - c0]
            raw = self.X[c0:c1]
            if self.X.dtype == np.float32:
                self._centred(raw, c0, c1, out=Y)
            else:
                self._widen(raw, Y)
                self._centred(Y, c0, c1, out=Y)
            self._matvec(Y, w2, out[c0 - r0:c1 - r0], worker)

    def _matvec(self, rows: np.ndarray, w2: np.ndarray, out: np.ndarray, worker: int) -> None:
        """``out = rows @ w2``, whole groups of :data:`ROW_GROUP` rows at a time, so that a
        row's result does not depend on where it sits in the call (see ROW_GROUP)."""
        full = len(rows) - len(rows) % ROW_GROUP
        if full:
            np.matmul(rows[:full], w2, out=out[:full])
        if full < len(rows):
            pad = self._buffers.get(("pad", worker))
            if pad is None:
                pad = self._buffers[("pad", worker)] = np.zeros((ROW_GROUP, self.d), np.float32)
            tail = len(rows) - full
            pad[:tail] = rows[full:]
            out[full:] = (pad @ w2)[:tail]

    def sq_dists_to(self, positions: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Squared distances from the rows at ``positions`` to the centred point ``w``,
        gathered in chunks of about :data:`GATHER_BYTES`, split over the streaming threads
        when there are many (a random gather is latency-bound: threads overlap the waits).
        The arithmetic is the streamed step's, operation for operation."""
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
        buf = self._buffer("gather", worker, self.chunk_rows)
        for c0 in range(0, len(positions), self.chunk_rows):
            pos = positions[c0:c0 + self.chunk_rows]
            o = out[c0:c0 + self.chunk_rows]
            rows = self.rows(pos, out=buf)
            if self.centre_rows:
                if self.scale is not None:
                    rows *= self.scale[pos, None]
                rows -= self.mu
                self._matvec(rows, w2, o, worker)
            else:
                self._matvec(rows, w2, o, worker)
                if self.scale is not None:
                    o *= self.scale[pos]
            o += self.q[pos]
            o += const


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
    (use :meth:`StreamedMatrix.to_frame` for raw rows from elsewhere). Ties go to the
    lowest index in ``C``."""
    C = np.ascontiguousarray(C, dtype=np.float32)
    cq = np.einsum("ij,ij->i", C, C)
    best = np.full(M.n, np.inf, np.float32)
    which = np.zeros(M.n, np.int32)
    chunk = max(1, PAIR_BYTES // (4 * min(M.temp_rows, max(M.n, 1))))  # block x chunk temporaries
    for r0, r1, B in M.blocks(rows=M.temp_rows):
        Y = M._centred(B, r0, r1)
        for c0 in range(0, len(C), chunk):
            d2 = M.q[r0:r1, None] + cq[None, c0:c0 + chunk] - 2.0 * (Y @ C[c0:c0 + chunk].T)
            j = d2.argmin(axis=1)
            v = d2[np.arange(len(j)), j]
            better = v < best[r0:r1]
            best[r0:r1][better] = v[better]
            which[r0:r1][better] = (c0 + j[better]).astype(np.int32)
    return best, which


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


# -- threads ------------------------------------------------------------------------------------
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


_BLAS: list = []


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run BLAS on one thread inside the block (a few microseconds to enter and leave).

    Small products (a few thousand gathered rows, the group centres) finish in ~0.1 ms on one
    thread, but a multi-threaded OpenBLAS call waits for its helper threads, which costs ms
    on a busy machine. Streaming splits the rows over its own threads instead.
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
