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
from concurrent.futures import ThreadPoolExecutor
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

    ``exact`` (default: when n <= :data:`EXACT_MAX_ROWS`) searches every row (faiss's flat
    index). Otherwise an inverted file searched list by list with matrix products
    (:func:`listwise_neighbors`): the rows are split into about ``sqrt(n * nprobe)``
    k-means lists (trained on a seeded sample), each row is compared with the members of
    its ``nprobe`` nearest lists, exactly (float32), and no copy of the matrix is made.
    Approximate: a neighbour in a list that was not probed is missed.

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
    if not exact:
        return listwise_neighbors(X, n_neighbors, metric=metric, seed=seed, nprobe=nprobe, threads=threads)
    with faiss_threads(threads):
        index = faiss.IndexFlatIP(d) if inner else faiss.IndexFlatL2(d)
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


#: Similarities computed at once when a list is searched (queries x members: 64 MB of float32).
LIST_BLOCK = 1 << 24


def listwise_neighbors(X: np.ndarray, n_neighbors: int, *, metric: Metric = "cosine", seed: int = 0,
                       nprobe: int = 16, lists: int | None = None, threads: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Approximate nearest neighbours by an inverted file searched list by list (see
    :func:`nearest_neighbors`, which returns the same kind of result).

    1. ``lists`` centroids (default ``sqrt(n * nprobe)``, which balances the cost of
       assigning rows to lists against the cost of searching them) by faiss's k-means on a
       seeded sample of 16 rows per centroid (random start: a partition, not a clustering,
       is all the index needs); every row joins the list of its nearest centroid and probes
       the lists of its ``nprobe`` nearest centroids;
    2. for every list, the rows that probe it against its members, as one matrix product
       per block of rows, folded into each row's best ``n_neighbors`` so far.

    Cost: about ``n * lists + n^2 * nprobe / lists`` dot products of length d, in BLAS
    (recall@10 at 50,000 clustered rows of 384: 0.95 at nprobe 4, 0.99 at 8); memory: the
    results, the probe lists (n * nprobe) and one block per worker, never a copy of the
    matrix. ``threads`` workers (default: the usable cores) each take every ``threads``-th
    row, so none writes another's results.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = np.r_[rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + 6]
        >>> _, found = listwise_neighbors(X, 5, metric="l2", nprobe=4)
        >>> bool(((found < 300) == (np.arange(600) < 300)[:, None]).all())   # never across the blobs
        True
    """
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    check_metric(metric)
    faiss = faiss_module()
    n, d = X.shape
    inner = metric == "cosine"
    if lists is None:
        lists = int(np.sqrt(n * nprobe))
    lists = int(min(max(lists, 1), n))
    nprobe = int(min(max(nprobe, 1), lists))
    keep = n_neighbors + 1  # a row finds itself in its own list
    rng = np.random.default_rng(seed)
    with faiss_threads(threads):
        sample = np.sort(rng.choice(n, min(n, 16 * lists), replace=False))
        train = np.ascontiguousarray(X[sample], dtype=np.float32)
        if inner:
            l2_normalise(train, out=train)
        km = faiss.Kmeans(d, lists, niter=10, seed=int(seed), spherical=inner, verbose=False,
                          min_points_per_centroid=1, max_points_per_centroid=16)
        km.train(train)
        del train
        quantizer = faiss.IndexFlatIP(d) if inner else faiss.IndexFlatL2(d)
        quantizer.add(km.centroids)
        probes = np.empty((n, nprobe), dtype=np.int32)
        norms = np.empty(n, dtype=np.float32)  # squared norms of the rows as they are
        for start in range(0, n, BLOCK_ROWS):
            stop = min(n, start + BLOCK_ROWS)
            block = np.array(X[start:stop], dtype=np.float32)  # a copy: normalised in place
            norms[start:stop] = np.einsum("ij,ij->i", block, block)
            if inner:
                l2_normalise(block, out=block)
            probes[start:stop] = quantizer.search(block, nprobe)[1]
        del quantizer
    # Members of each list (a row's own list is its nearest centroid's), and who probes it.
    own = np.argsort(probes[:, 0], kind="stable")
    own_ptr = np.searchsorted(probes[own, 0], np.arange(lists + 1))
    flat = probes.ravel()
    probing = np.argsort(flat, kind="stable")
    probe_ptr = np.searchsorted(flat[probing], np.arange(lists + 1))
    probing //= nprobe  # the probing rows, grouped by list, ascending within each
    del probes, flat
    values = np.full((n, keep), -np.inf, dtype=np.float32)  # similarity, or minus squared distance
    indices = np.full((n, keep), -1, dtype=np.int64)
    # cosine: dividing by the members' norms ranks a row's candidates (its own norm scales them all)
    inverse = 1 / np.sqrt(np.maximum(norms, 1e-24)) if inner else None
    workers = max(1, threads or len(os.sched_getaffinity(0)))

    def search(worker: int) -> None:
        for lst in range(lists):
            members = own[own_ptr[lst]:own_ptr[lst + 1]]
            queries = probing[probe_ptr[lst]:probe_ptr[lst + 1]]
            if workers > 1:
                queries = queries[queries % workers == worker]
            if not len(members) or not len(queries):
                continue
            C = np.ascontiguousarray(X[members], dtype=np.float32)
            step = max(1, LIST_BLOCK // len(members))
            for q0 in range(0, len(queries), step):
                rows = queries[q0:q0 + step]
                S = np.ascontiguousarray(X[rows], dtype=np.float32) @ C.T
                if inner:
                    S *= inverse[members]
                else:  # -|q - c|^2, so that larger is nearer for both metrics
                    S *= 2
                    S -= norms[rows, None]
                    S -= norms[None, members]
                _fold(values, indices, rows, S, members, keep)

    # One BLAS thread per worker: OpenBLAS's threads spin while they wait, which made these
    # many small products 5x slower on a machine shared with other processes.
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        list(pool.map(search, range(workers)))
    if inner:
        values *= inverse[:, None]
    # Nearest first (ties by position), then each row's own entry dropped.
    order = _row_order(values, indices)
    values = np.take_along_axis(values, order, axis=1)
    indices = np.take_along_axis(indices, order, axis=1)
    values, indices = _drop_self(values, indices, np.arange(n), n_neighbors)
    if not inner:
        values = np.sqrt(np.maximum(-values, 0))
    return values, indices


def _fold(values: np.ndarray, indices: np.ndarray, rows: np.ndarray, S: np.ndarray, members: np.ndarray,
          keep: int) -> None:
    """Fold the similarities ``S`` (rows x members) into the rows' best ``keep`` so far."""
    if S.shape[1] > keep:
        top = np.argpartition(S, -keep, axis=1)[:, -keep:]
        S = np.take_along_axis(S, top, axis=1)
        found = members[top]
    else:
        found = np.broadcast_to(members, S.shape)
    both_v = np.concatenate([values[rows], S], axis=1)
    both_i = np.concatenate([indices[rows], found], axis=1)
    top = np.argpartition(both_v, -keep, axis=1)[:, -keep:]
    values[rows] = np.take_along_axis(both_v, top, axis=1)
    indices[rows] = np.take_along_axis(both_i, top, axis=1)


def _row_order(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Each row's entries by value, largest first, ties by position; unfilled (-1) last."""
    by_index = np.argsort(np.where(indices < 0, np.iinfo(np.int64).max, indices), axis=1, kind="stable")
    by_value = np.argsort(-np.take_along_axis(values, by_index, axis=1), axis=1, kind="stable")
    return np.take_along_axis(by_index, by_value, axis=1)


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
