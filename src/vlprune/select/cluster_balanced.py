"""Cluster-balanced selection with a budget per cluster from its density and transferability
(COINCIDE-like)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.numeric import l2_normalise
from vlprune.params import Range
from vlprune.select.base import get_selector, register_selector
from vlprune.select.compose import interleave, select_rows
from vlprune.select.embedding import EmbeddingSelector
from vlprune.select.neighbors import kmeans
from vlprune.select.stratified import allocate_weighted

#: Centroid pairs more similar than this are left out of transferability (COINCIDE's 0.9:
#: a cluster's own centroid and its near-copies say nothing about transfer).
SAME_CONCEPT = 0.9
#: Density is the mean kernel over at most this many of a cluster's records (a seeded
#: sample; on 60 clusters of the scale benchmark's matrix its spread over seeds, 0.002, was a
#: tenth of the spread of the densities between clusters, 0.024).
DENSITY_SAMPLE = 256


@register_selector("cluster-balanced")
class ClusterBalancedSelector(EmbeddingSelector):
    """A budget per k-means cluster from its transferability and density, then k-center (or
    random) picks inside each cluster: after COINCIDE (Lee, Koo, Kim, Lee, Lee and Lee,
    "Concept-skill transferability-based data selection for large vision-language models",
    EMNLP Findings 2024).

    COINCIDE clusters a small reference LVLM's multi-layer activations (here: any embedder,
    e.g. ``embedder=llava:PATH`` for the LLaVA model's activations, or precomputed vectors;
    see docs/embedders.md) and gives each cluster i a share of the budget:

    * transferability ``T_i``: the mean cosine similarity of centroid i to the other
      centroids, leaving out those more similar than 0.9 (COINCIDE's definition, on
      centroids; a cluster close to many others teaches what transfers to them);
    * density ``D_i``: the mean Gaussian kernel ``exp(-|x - y|^2 / (2 bandwidth^2))`` over
      all pairs of the cluster's records, itself included (COINCIDE's); estimated from at
      most 256 records drawn with the seed (the diagonal weighted for the full cluster);
    * weight ``softmax(T'_i / D_i / temperature)`` with ``T' = (1 + T) / 2``, the mean
      cosine mapped to [0, 1]: transferable, diverse clusters get more. (COINCIDE divides T
      itself by D; its LVLM activations have positive cosines, where the two agree. On
      centred embeddings T can be negative, and T / D would then favour *dense* clusters.)
      The budget is split by these weights, water-filled when a cluster is too small for
      its share (COINCIDE hands a short cluster's rest to the remaining clusters, in
      proportion to their weights, which is the same thing), rounded by Hamilton's method.
      At temperature 0.1 the softmax is so peaked that clusters are in effect taken whole,
      in order of ``T' / D`` (as in COINCIDE); ``info["effective_clusters"]`` shows it, and
      a higher temperature spreads the budget over more clusters.

    Inside each cluster ``within="k-center"`` runs ``farthest-point`` (through the
    registry, same ``metric``) on the cluster's rows; COINCIDE uses a greedy MMD prototype
    selection there, which needs the cluster's full kernel matrix; k-center also spreads the
    picks over the cluster, in linear memory. ``random`` draws them uniformly.

    Order: each cluster's picks in the within-order, clusters interleaved so that every
    prefix keeps their shares. ``scores``: the weight of the pick's cluster. ``info``:
    clusters, bandwidth, the ranges of T, D and the weights, the effective number of
    clusters (exp of the weights' entropy), how many clusters got picks and how many were
    taken whole.

    Args:
        embedder: spec or :class:`~vlprune.embed.Embedder` for a Pool (see docs/embedders.md).
        metric: ``cosine`` (spherical k-means on normalised rows, COINCIDE's) or ``l2``.
        n_clusters: k-means clusters (None: one per 50 records, at most 1,000; COINCIDE used
            10,000 on LLaVA-665k).
        temperature: of the softmax (COINCIDE's 0.1); higher spreads the budget more evenly.
        bandwidth: of the density kernel (None: 1 for ``cosine``, COINCIDE's value on its
            unit-length activations; for ``l2``, whose scale is the embedder's, sqrt(2) x
            the median record-to-centroid distance, the median heuristic for pairs within
            a cluster).
        within: ``k-center`` or ``random``.

    Cost: k-means; transferability from the centroids in blocks (c x 1,024 at a time);
    density O(c x 256^2 x d); then k-center within clusters, O(k x cluster size x d) in
    all. Memory: the matrix plus one cluster's rows.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = np.r_[rng.normal(0, 1, (60, 8)), rng.normal(9, 0.2, (60, 8))]  # diffuse, dense
        >>> sel = ClusterBalancedSelector(metric="l2", n_clusters=2, temperature=10).select(X, k=20)
        >>> int((sel.positions < 60).sum())  # the diffuse cluster gets more of the budget
        13
    """

    def __init__(
        self,
        embedder: str | Embedder = "default",
        metric: Literal["l2", "cosine"] = "cosine",
        n_clusters: Annotated[int, Range(1)] | None = None,
        temperature: Annotated[float, Range(0, lo_open=True)] = 0.1,
        bandwidth: Annotated[float, Range(0, lo_open=True)] | None = None,
        within: Literal["k-center", "random"] = "k-center",
    ) -> None:
        self.embedder = embedder
        self.metric = metric
        self.n_clusters = n_clusters
        self.temperature = temperature
        self.bandwidth = bandwidth
        self.within = within

    def _select(self, data, k, rng):
        X = self.embeddings(data, k)
        n = len(X)
        c = min(n, self.n_clusters or min(1000, math.ceil(n / 50)))
        clusters = kmeans(X, c, seed=int(rng.integers(2**31)), metric=self.metric)
        members = clusters.members()
        sizes = clusters.sizes
        bandwidth = self.bandwidth
        if bandwidth is None:
            bandwidth = 1.0 if self.metric == "cosine" else float(np.sqrt(2) * np.median(clusters.distances))
            bandwidth = bandwidth if bandwidth > 0 else 1.0  # every row on its centroid
        transfer = transferability(clusters.centroids)
        density = np.ones(c)
        for i, rows in enumerate(members):
            if len(rows):
                density[i] = kernel_density(X, rows, bandwidth, self.metric, rng)
        score = np.where(sizes > 0, (1 + transfer) / 2 / density, -np.inf)
        logits = (score - score[sizes > 0].max()) / self.temperature
        weights = np.exp(logits)
        weights /= weights.sum()
        quota = allocate_weighted(sizes, k, weights)
        inner = (get_selector("farthest-point", metric=self.metric, start="random")
                 if self.within == "k-center" else get_selector("random"))
        chosen = []
        for i in np.flatnonzero(quota):
            seed = int(rng.integers(2**31))
            chosen.append(select_rows(inner, data, X, members[i], int(quota[i]), seed)[0])
        order = interleave(chosen)
        live = weights[weights > 0]
        info = {"clusters": int(c), "clusters_picked": int((quota > 0).sum()), "within": self.within,
                "temperature": self.temperature, "bandwidth": bandwidth,
                "transferability": _range(transfer[sizes > 0]), "density": _range(density[sizes > 0]),
                "weights": _range(weights[sizes > 0]),
                "effective_clusters": float(np.exp(-(live * np.log(live)).sum())),
                "most_per_cluster": int(quota.max()),
                "clusters_taken_whole": int(((quota == sizes) & (sizes > 0)).sum())}
        return order, weights[clusters.labels[order]], info


def transferability(centroids: np.ndarray, *, block: int = 1024) -> np.ndarray:
    """COINCIDE's transferability of each cluster: the mean cosine similarity of its
    centroid to every centroid at most :data:`SAME_CONCEPT` similar (so not itself); 0
    when there is none. Computed ``block`` centroids at a time (never c x c at once).

    Example:
        >>> transferability(np.array([[1.0, 0], [0.6, 0.8], [0, 1]])).round(2).tolist()
        [0.3, 0.7, 0.4]
    """
    C = l2_normalise(np.asarray(centroids, dtype=np.float32))
    out = np.zeros(len(C))
    for b0 in range(0, len(C), block):
        sim = (C[b0:b0 + block] @ C.T).astype(np.float64)
        usable = sim <= SAME_CONCEPT
        count = usable.sum(axis=1)
        out[b0:b0 + block] = np.where(count > 0, np.where(usable, sim, 0).sum(axis=1) / np.maximum(count, 1), 0)
    return out


def kernel_density(X: np.ndarray, rows: np.ndarray, bandwidth: float, metric: str,
                   rng: np.random.Generator) -> float:
    """COINCIDE's density of a cluster: the mean of ``exp(-|x - y|^2 / (2 bandwidth^2))``
    over all ordered pairs of its records, a record with itself included. Clusters above
    :data:`DENSITY_SAMPLE` records are estimated from a seeded sample: the mean over the
    sample's distinct pairs, with the diagonal's weight ``1 / size`` of the full cluster."""
    m = len(rows)
    sample = rows if m <= DENSITY_SAMPLE else np.sort(rng.choice(rows, DENSITY_SAMPLE, replace=False))
    s = len(sample)
    if s < 2:
        return 1.0
    S = np.asarray(X[sample], dtype=np.float32)
    if metric == "cosine":
        S = l2_normalise(S)
    sq = np.einsum("ij,ij->i", S, S)
    # In place, float32: exp(-(|x|^2 + |y|^2 - 2 x.y) / (2 bandwidth^2)), negatives clipped.
    K = S @ S.T
    K *= -2
    K += sq[:, None]
    K += sq[None, :]
    np.maximum(K, 0, out=K)
    K *= np.float32(-1 / (2 * bandwidth**2))
    np.exp(K, out=K)
    off_diagonal = (K.sum(dtype=np.float64) - np.trace(K, dtype=np.float64)) / (s * (s - 1))
    return float(1 / m + (1 - 1 / m) * off_diagonal)


def _range(values: np.ndarray) -> dict[str, float]:
    return {"min": float(values.min()), "mean": float(values.mean()), "max": float(values.max())}
