"""TypiClust: the most typical record of each k-means cluster."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.numeric import l2_normalise
from vlprune.params import Range
from vlprune.select.base import register_selector
from vlprune.select.embedding import EmbeddingSelector
from vlprune.select.neighbors import kmeans, nearest_neighbors

#: Clusters above this many rows look for neighbours inside k-means sub-clusters of about
#: half as many (see :func:`mean_neighbour_distance`).
EXACT_CLUSTER_ROWS = 8192


@register_selector("typicality")
class TypicalitySelector(EmbeddingSelector):
    """Typical records of every region: TypiClust (Hacohen, Dekel and Weinshall, "Active
    learning on a budget: opposite strategies suit high and low budgets", ICML 2022).

    The embeddings are cut by k-means into ``c = min(k, max_clusters)`` clusters. Inside
    each cluster every record gets its *typicality*: the inverse of its mean distance to its
    ``K = min(n_neighbors, cluster size // 2)`` nearest neighbours in the cluster (the
    paper's K = 20). The selection takes the most typical record of each cluster, clusters
    by size (largest first); when k is larger than the number of clusters it goes round
    again with the second most typical record of each, and so on, as TypiClust does with
    fewer clusters than its budget. Clusters smaller than ``min_cluster_size`` (TypiClust
    skips them) are visited only after every larger cluster is exhausted.

    Order: round by round, clusters by size within a round; ``scores`` are the typicality
    of each pick, ``info`` the number of clusters, the rounds and the K used.

    Differences from the paper's code: typicality is computed once per cluster, so a
    cluster's second pick is its second most typical record (TypiClust recomputes it with
    the first pick removed, which changes the neighbours of one record); distances are
    Euclidean as in the paper (its code averages squared distances).

    Args:
        embedder: spec or :class:`~vlprune.embed.Embedder` for a Pool (see docs/embedders.md).
        metric: ``l2`` (k-means and Euclidean neighbour distances) or ``cosine`` (spherical
            k-means, neighbour distance ``1 - cos``).
        n_neighbors: K, the neighbours typicality averages over.
        max_clusters: the most clusters (None: k). TypiClust uses 500.
        min_cluster_size: clusters smaller than this are visited last.

    Cost: k-means (faiss, trained on at most 64 rows per cluster) plus an exact
    nearest-neighbour search inside each cluster: sum of (cluster size)^2 x d, no n x n
    matrix; clusters above 8,192 rows search inside k-means parts of themselves
    (:func:`mean_neighbour_distance`). Memory: the matrix plus the largest cluster's rows.
    A few minutes at n = 665,000 (docs/selectors.md).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = np.r_[rng.normal(0, 1, (50, 2)), rng.normal(20, 1, (50, 2))]
        >>> sel = TypicalitySelector().select(X, k=2, seed=0)
        >>> sorted(int(p) // 50 for p in sel.positions)  # one record of each blob
        [0, 1]
    """

    def __init__(
        self,
        embedder: str | Embedder = "default",
        metric: Literal["l2", "cosine"] = "l2",
        n_neighbors: Annotated[int, Range(1)] = 20,
        max_clusters: Annotated[int, Range(1)] | None = 1000,
        min_cluster_size: Annotated[int, Range(1)] = 5,
    ) -> None:
        self.embedder = embedder
        self.metric = metric
        self.n_neighbors = n_neighbors
        self.max_clusters = max_clusters
        self.min_cluster_size = min_cluster_size

    def _select(self, data, k, rng):
        X = self.embeddings(data, k)
        n = len(X)
        c = min(k, n, self.max_clusters or k)
        clusters = kmeans(X, c, seed=int(rng.integers(2**31)), metric=self.metric)
        members = clusters.members()
        sizes = clusters.sizes
        typicality = np.zeros(n)
        rank = np.zeros(n, dtype=np.int64)
        for rows in members:
            if len(rows) == 0:
                continue
            typicality[rows] = cluster_typicality(X, rows, self.n_neighbors, self.metric,
                                                  seed=int(rng.integers(2**31)))
            # Most typical first; ties by position (members are ascending).
            rank[rows[np.argsort(-typicality[rows], kind="stable")]] = np.arange(len(rows))
        # Clusters by size, largest first (ties: lower cluster number).
        cluster_order = np.empty(c, dtype=np.int64)
        cluster_order[np.lexsort((np.arange(c), -sizes))] = np.arange(c)
        small = sizes < self.min_cluster_size
        label = clusters.labels
        order = np.lexsort((cluster_order[label], rank, small[label]))[:k]
        info = {"clusters": int(c), "clusters_picked": len(np.unique(label[order])),
                "rounds": int(rank[order].max()) + 1, "small_clusters": int(small.sum()),
                "n_neighbors": int(self.n_neighbors), "metric": self.metric}
        return order, typicality[order], info


def cluster_typicality(X: np.ndarray, rows: np.ndarray, n_neighbors: int, metric: str, *,
                       seed: int = 0) -> np.ndarray:
    """Typicality of ``rows`` among themselves: 1 / (mean distance to the
    ``min(n_neighbors, len(rows) // 2)`` nearest other rows); 0 for a single row, and
    ``1e12`` where the neighbours are exact duplicates (mean distance 0)."""
    neighbours = min(n_neighbors, len(rows) // 2)
    if neighbours < 1:
        return np.zeros(len(rows))
    mean = mean_neighbour_distance(np.asarray(X[rows], dtype=np.float32), neighbours, metric, seed)
    return 1.0 / np.maximum(mean, 1e-12)


def mean_neighbour_distance(Y: np.ndarray, n_neighbors: int, metric: str, seed: int) -> np.ndarray:
    """Each row's mean distance to its ``n_neighbors`` nearest other rows of ``Y``.

    Exact (faiss, size^2 x d) up to :data:`EXACT_CLUSTER_ROWS` rows. A larger ``Y`` is cut by
    k-means into parts of about half that many rows, and each row's neighbours are searched
    in its own part (recursively): a row's nearest neighbours nearly always share its part,
    so the most typical rows, deep inside a part, keep their exact value, while a row on a
    part's border may see farther neighbours (its typicality is underestimated). This costs
    a tenth of the exact search for a 40,000-row cluster (faiss's approximate index was
    slower than exact search here, without AVX2).
    """
    n_neighbors = min(n_neighbors, len(Y) - 1)
    if n_neighbors < 1:
        return np.zeros(len(Y))
    if len(Y) > EXACT_CLUSTER_ROWS:
        parts = kmeans(Y, -(-2 * len(Y) // EXACT_CLUSTER_ROWS), seed=seed, metric=metric)
        if parts.sizes.max() < len(Y):
            out = np.empty(len(Y))
            few = []
            for i, part in enumerate(parts.members()):
                if len(part) > 4 * n_neighbors:
                    out[part] = mean_neighbour_distance(Y[part], n_neighbors, metric, seed + i + 1)
                else:  # too few rows to hold a row's neighbours: search all of Y for them
                    few.append(part)
            if few:
                rows = np.concatenate(few)
                out[rows] = _mean_distance_among(Y, rows, n_neighbors, metric)
            return out
    values, _ = nearest_neighbors(Y, n_neighbors, metric=metric, exact=True)
    distance = 1.0 - values if metric == "cosine" else values
    return np.maximum(distance.astype(np.float64).mean(axis=1), 0.0)


def _mean_distance_among(Y: np.ndarray, rows: np.ndarray, n_neighbors: int, metric: str) -> np.ndarray:
    """The mean distance of ``Y[rows]`` to their ``n_neighbors`` nearest other rows of all
    of ``Y`` (exact; for the few rows of small parts, 256 x len(Y) distances at a time)."""
    if metric == "cosine":
        Y = l2_normalise(Y)
    squares = np.einsum("ij,ij->i", Y, Y)
    out = np.empty(len(rows))
    for start in range(0, len(rows), 256):
        chunk = rows[start:start + 256]
        gram = Y[chunk] @ Y.T
        d = (1.0 - gram if metric == "cosine"
             else np.sqrt(np.maximum(squares[chunk, None] + squares[None, :] - 2 * gram, 0)))
        d[np.arange(len(chunk)), chunk] = np.inf  # not its own neighbour
        nearest = np.partition(d, n_neighbors - 1, axis=1)[:, :n_neighbors]
        out[start:start + len(chunk)] = np.maximum(nearest.astype(np.float64).mean(axis=1), 0.0)
    return out
