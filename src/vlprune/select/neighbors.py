"""k-means and nearest neighbours over embeddings, with faiss, for the clustering and graph
selectors (typicality, prototypes, semdedup, cluster-balanced, d2-pruning, facility location).

Memory is the point at LLaVA-665k scale (665,000 x 384 float32 = 1 GB): nothing here forms an
n x n matrix, the embeddings are read block by block (a memory map stays one), and the only
copies are a k-means training sample and, for approximate neighbours, an 8-bit index of
the rows (a quarter of the matrix). Cosine metrics normalise block by block instead of
copying the matrix.

Deterministic: k-means is seeded; exact neighbour search has no randomness; the approximate
index is trained on a seeded sample. Ties in neighbour lists follow faiss's order.

faiss runs OpenMP threads; their default busy-waiting makes them 10-20x slower on a machine
whose cores are shared with other processes, so the passive wait policy is set before faiss
is first imported (``OMP_WAIT_POLICY``, unless the user has set it).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from vlprune.errors import ConfigError
from vlprune.numeric import l2_normalise

Metric = Literal["l2", "cosine"]
#: Rows per block when a pass reads the matrix (32k x 1,024 float32 = 128 MB at most).
BLOCK_ROWS = 32_768
#: Above this many rows, neighbours are searched in an approximate (IVF, 8-bit) index.
EXACT_MAX_ROWS = 60_000


def faiss_module() -> Any:
    """faiss, imported with OpenMP's passive wait policy (see the module docstring)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # faiss's loader logs which CPU build it loads at INFO, which the CLI would print.
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    import faiss

    return faiss


@contextlib.contextmanager
def faiss_threads(threads: int | None) -> Iterator[None]:
    """Run faiss with ``threads`` OpenMP threads inside the block (None: leave as is)."""
    faiss = faiss_module()
    if threads is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(max(1, int(threads)))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def rows_float32(X: np.ndarray, start: int, stop: int, metric: Metric) -> np.ndarray:
    """Rows ``start:stop`` as a contiguous float32 block (unit length for cosine)."""
    block = np.ascontiguousarray(X[start:stop], dtype=np.float32)
    if metric == "cosine":
        block = l2_normalise(block)
    return block


def check_metric(metric: str) -> None:
    if metric not in ("l2", "cosine"):
        raise ConfigError(f"metric must be 'l2' or 'cosine', not {metric!r}")


@dataclass
class Clusters:
    """A k-means partition: ``centroids`` (c, d), each row's cluster ``labels`` (n,) and its
    distance to its centroid ``distances`` (n,: Euclidean for l2, ``1 - cos`` for cosine)."""

    centroids: np.ndarray
    labels: np.ndarray
    distances: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(self.centroids))

    def members(self) -> list[np.ndarray]:
        """The row positions of every cluster (ascending within each)."""
        order = np.argsort(self.labels, kind="stable")
        return np.split(order, np.cumsum(self.sizes)[:-1])


def kmeans(X: np.ndarray, n_clusters: int, *, seed: int = 0, metric: Metric = "l2", niter: int = 20,
           max_points_per_centroid: int = 64, init: Literal["k-means++", "random"] = "k-means++",
           threads: int | None = None) -> Clusters:
    """k-means of the rows of ``X`` (spherical k-means for cosine), seeded.

    The centroids are trained on at most ``max_points_per_centroid * n_clusters`` rows
    drawn with the seed (64 per centroid by default: faiss's 256 took over 12 minutes for
    1,000 centroids of 665,000 x 384 rows on the loaded 2-core machine, 64 about 2),
    starting from k-means++ seeds (:func:`kmeans_plusplus`) or, with ``init="random"``,
    faiss's random rows; then every row is assigned block by block. Lloyd's iterations are
    faiss's.

    Example:
        >>> X = np.r_[np.zeros((50, 2)), np.ones((50, 2)) * 10] + np.random.default_rng(0).normal(size=(100, 2))
        >>> c = kmeans(X, 2, seed=0)
        >>> sorted(c.sizes.tolist())
        [50, 50]
    """
    check_metric(metric)
    n, d = X.shape
    if not 1 <= n_clusters <= n:
        raise ConfigError(f"cannot make {n_clusters} clusters of {n} rows")
    faiss = faiss_module()
    sample_size = min(n, max_points_per_centroid * n_clusters)
    sample = np.sort(np.random.default_rng(seed).choice(n, sample_size, replace=False)) if sample_size < n \
        else np.arange(n)
    train = np.ascontiguousarray(X[sample], dtype=np.float32)
    if metric == "cosine":
        train = l2_normalise(train, out=train)
    with faiss_threads(threads):
        km = faiss.Kmeans(d, n_clusters, niter=niter, seed=int(seed), spherical=metric == "cosine",
                          max_points_per_centroid=max_points_per_centroid, verbose=False,
                          # only the threshold of a warning faiss prints to stderr (fewer than
                          # 39 rows per centroid), which small pools always trigger
                          min_points_per_centroid=1)
        start = None
        if init == "k-means++":
            start = kmeans_plusplus(train, n_clusters, np.random.default_rng([int(seed), 1]))
            if metric == "cosine":
                start = l2_normalise(start, out=start)
        km.train(train, init_centroids=start)
        del train
        centroids = km.centroids.copy()
        labels = np.empty(n, dtype=np.int64)
        distances = np.empty(n, dtype=np.float32)
        index = faiss.IndexFlatL2(d)
        index.add(centroids)
        for start in range(0, n, BLOCK_ROWS):
            block = rows_float32(X, start, min(n, start + BLOCK_ROWS), metric)
            sq, nearest = index.search(block, 1)
            labels[start:start + len(block)] = nearest[:, 0]
            distances[start:start + len(block)] = np.sqrt(np.maximum(sq[:, 0], 0))
    if metric == "cosine":  # |a - b|^2 = 2 (1 - cos) for unit rows; centroids are unit (spherical)
        distances = distances**2 / 2
    return Clusters(centroids, labels, distances)


#: k-means++ seeds are drawn from at most this many rows per cluster of the training sample.
INIT_POINTS_PER_CENTROID = 16


def kmeans_plusplus(X: np.ndarray, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """``n_clusters`` k-means++ seeds (Arthur and Vassilvitskii 2007, one trial per step),
    rows of ``X`` (float32), drawn from a seeded subsample of at most
    ``max(2048, INIT_POINTS_PER_CENTROID * n_clusters)`` rows.

    Every step is one float32 matrix-vector product over the subsample (scikit-learn's
    version upcasts to float64 chunk by chunk: 13 minutes for 1,000 seeds of 64,000 rows
    of 384 on a loaded 2-core machine); seeding from a subsample is what bounds the
    sequential part, and Lloyd's iterations on the full training sample refine it. When
    fewer distinct rows than seeds remain, the rest are drawn uniformly (duplicate seeds:
    faiss then splits clusters).

    Example:
        >>> X = np.r_[np.zeros((5, 2)), np.full((5, 2), 9.0)].astype(np.float32)
        >>> sorted(kmeans_plusplus(X, 2, np.random.default_rng(0))[:, 0].tolist())
        [0.0, 9.0]
    """
    n = len(X)
    rows = max(2048, INIT_POINTS_PER_CENTROID * n_clusters)
    if n > rows:
        X = X[np.sort(rng.choice(n, rows, replace=False))]
        n = rows
    X = np.ascontiguousarray(X, dtype=np.float32)
    sq = np.einsum("ij,ij->i", X, X)
    chosen = np.empty(n_clusters, dtype=np.int64)
    chosen[0] = rng.integers(n)
    closest = np.maximum(sq - 2 * (X @ X[chosen[0]]) + sq[chosen[0]], 0)
    for t in range(1, n_clusters):
        cumulative = np.cumsum(closest, dtype=np.float64)
        if cumulative[-1] > 0:
            # The first row whose cumulative weight passes the draw has weight > 0: never a seed again.
            i = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")), n - 1)
        else:
            i = int(rng.integers(n))
        chosen[t] = i
        np.minimum(closest, np.maximum(sq - 2 * (X @ X[i]) + sq[i], 0), out=closest)
    return X[chosen].copy()


def nearest_neighbors(X: np.ndarray, n_neighbors: int, *, metric: Metric = "cosine", exact: bool | None = None,
                      seed: int = 0, nprobe: int = 16, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_neighbors`` nearest other rows of every row: ``(similarity or distance,
    indices)``, each (n, n_neighbors), nearest first. For ``cosine`` the first array holds
    cosine similarities; for ``l2`` Euclidean distances. A row is never its own neighbour.

    ``exact`` (default: when n <= :data:`EXACT_MAX_ROWS`) searches every row; otherwise an
    inverted-file index with 8-bit codes (about sqrt(n) lists, ``nprobe`` searched), trained
    on a seeded sample: approximate, a quarter of the matrix in memory, minutes at 665k.

    Example:
        >>> X = np.array([[0.0, 1], [0, 2], [5, 0], [6, 0]])
        >>> nearest_neighbors(X, 1, metric="l2")[1].ravel().tolist()
        [1, 0, 3, 2]
    """
    check_metric(metric)
    n, d = X.shape
    if not 1 <= n_neighbors < n:
        raise ConfigError(f"n_neighbors must lie in [1, {n - 1}] for {n} rows, got {n_neighbors}")
    faiss = faiss_module()
    exact = n <= EXACT_MAX_ROWS if exact is None else exact
    inner = metric == "cosine"
    with faiss_threads(threads):
        if exact:
            index = faiss.IndexFlatIP(d) if inner else faiss.IndexFlatL2(d)
        else:
            lists = int(max(16, min(np.sqrt(n), n // 39)))
            quantizer = faiss.IndexFlatIP(d) if inner else faiss.IndexFlatL2(d)
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, d, lists, faiss.ScalarQuantizer.QT_8bit,
                faiss.METRIC_INNER_PRODUCT if inner else faiss.METRIC_L2)
            sample = np.sort(np.random.default_rng(seed).choice(n, min(n, 64 * lists), replace=False))
            train = np.ascontiguousarray(X[sample], dtype=np.float32)
            index.train(l2_normalise(train, out=train) if inner else train)
            del train
            index.nprobe = min(nprobe, lists)
        for start in range(0, n, BLOCK_ROWS):
            index.add(rows_float32(X, start, min(n, start + BLOCK_ROWS), metric))
        values = np.empty((n, n_neighbors), dtype=np.float32)
        indices = np.empty((n, n_neighbors), dtype=np.int64)
        for start in range(0, n, BLOCK_ROWS):
            stop = min(n, start + BLOCK_ROWS)
            found_v, found_i = index.search(rows_float32(X, start, stop, metric), n_neighbors + 1)
            values[start:stop], indices[start:stop] = _drop_self(found_v, found_i, np.arange(start, stop), n_neighbors)
    if not inner:
        values = np.sqrt(np.maximum(values, 0))
    return values, indices


def _drop_self(values: np.ndarray, indices: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own entry from its k + 1 results (or the last one, when a duplicate
    row took its place or the approximate search missed it); -1 entries (too few found)
    stay as they are."""
    keep = indices != rows[:, None]
    # Rows whose own index is absent keep their first k entries.
    extra = keep.sum(axis=1) > k
    keep[extra, -1] = False
    out_v = values[keep].reshape(len(rows), k)
    out_i = indices[keep].reshape(len(rows), k)
    return out_v, out_i
