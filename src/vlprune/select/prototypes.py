"""SSL prototypes: keep the records nearest to (or farthest from) their k-means centroid."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.params import Range
from vlprune.select.base import register_selector
from vlprune.select.compose import interleave
from vlprune.select.embedding import EmbeddingSelector
from vlprune.select.neighbors import kmeans
from vlprune.select.stratified import allocate


@register_selector("prototypes")
class PrototypesSelector(EmbeddingSelector):
    """Prototypicality pruning: the self-supervised prototype metric of Sorscher, Geirhos,
    Shekhar, Ganguli and Morcos, "Beyond neural scaling laws: beating power law scaling via
    data pruning" (NeurIPS 2022).

    k-means cuts the embeddings into ``n_clusters`` clusters; a record's difficulty is its
    distance to its cluster's centroid (``1 - cos`` for ``cosine``, the paper's choice).
    ``keep="easy"`` keeps the records nearest their centroid (prototypical), ``"hard"`` the
    farthest (the paper: keep hard records when data is abundant, easy ones when it is
    scarce).

    Per-cluster balance (``allocation``): the budget is split over clusters first, by
    :func:`~vlprune.select.stratified.allocate` over the cluster sizes (``proportional``:
    every cluster keeps the same share of its records; ``equal``: the same number per
    cluster; ``sqrt``: in between), and each cluster keeps its easiest or hardest records;
    ``global`` ranks the whole pool at once, as the paper does (dense regions can then lose
    every record, or keep all of them).

    Order: each cluster's picks easiest (or hardest) first, the clusters interleaved so that
    every prefix keeps the clusters' shares (``global``: by difficulty). ``scores`` are the
    picks' distances to their centroid; ``info`` the clusters and how many were picked.

    Args:
        embedder: spec or :class:`~vlprune.embed.Embedder` for a Pool (see docs/embedders.md).
        metric: ``cosine`` (spherical k-means, the paper's) or ``l2``.
        n_clusters: k-means clusters (at most n).
        keep: ``hard`` (farthest from the centroid) or ``easy`` (nearest).
        allocation: ``proportional``, ``equal``, ``sqrt`` or ``global`` (see above).

    Cost: one k-means (faiss) and a sort: O(n d n_clusters) for the assignment, O(n) memory
    beyond the matrix.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = np.r_[rng.normal(0, 1, (40, 2)), rng.normal(30, 1, (60, 2))]
        >>> sel = PrototypesSelector(metric="l2", n_clusters=2, keep="easy").select(X, k=10)
        >>> sum(int(p) < 40 for p in sel.positions)  # 4 of the 40, 6 of the 60
        4
    """

    def __init__(
        self,
        embedder: str | Embedder = "default",
        metric: Literal["l2", "cosine"] = "cosine",
        n_clusters: Annotated[int, Range(1)] = 100,
        keep: Literal["easy", "hard"] = "hard",
        allocation: Literal["proportional", "equal", "sqrt", "global"] = "proportional",
    ) -> None:
        self.embedder = embedder
        self.metric = metric
        self.n_clusters = n_clusters
        self.keep = keep
        self.allocation = allocation

    def _select(self, data, k, rng):
        X = self.embeddings(data, k)
        n = len(X)
        c = min(self.n_clusters, n)
        clusters = kmeans(X, c, seed=int(rng.integers(2**31)), metric=self.metric)
        distance = clusters.distances.astype(np.float64)
        # Easiest (or hardest) first; ties by position.
        difficulty = distance if self.keep == "easy" else -distance
        if self.allocation == "global":
            order = np.lexsort((np.arange(n), difficulty))[:k]
            quota = np.bincount(clusters.labels[order], minlength=c)
        else:
            quota = allocate(clusters.sizes, k, self.allocation)
            chosen = []
            for rows, q in zip(clusters.members(), quota, strict=True):
                if q:
                    chosen.append(rows[np.lexsort((rows, difficulty[rows]))[:q]])
            order = interleave(chosen)
        info = {"clusters": int(c), "clusters_picked": int((quota > 0).sum()), "keep": self.keep,
                "allocation": self.allocation, "most_per_cluster": int(quota.max()),
                "mean_distance_picked": float(distance[order].mean()),
                "mean_distance_pool": float(distance.mean())}
        return order, distance[order], info
