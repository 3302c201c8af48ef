"""SemDeDup: drop semantic near-duplicates inside k-means clusters, then select from the rest."""

from __future__ import annotations

import logging
import math
from typing import Annotated

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.errors import ConfigError
from vlprune.numeric import l2_normalise
from vlprune.params import Range
from vlprune.select.base import Selector, register_selector
from vlprune.select.compose import build_selector, select_rows
from vlprune.select.embedding import EmbeddingSelector
from vlprune.select.neighbors import kmeans

log = logging.getLogger("vlprune")

#: Rows compared at once inside a cluster (a block x block similarity matrix: 4 MB).
BLOCK = 1024


@register_selector("semdedup")
class SemDeDupSelector(EmbeddingSelector):
    """Semantic deduplication, then a base selector: SemDeDup (Abbas, Tirumala, Simig,
    Ganguli and Morcos, "SemDeDup: data-efficient learning at web-scale through semantic
    deduplication", 2023).

    Spherical k-means cuts the (L2-normalised) embeddings into clusters; inside each cluster
    the records are visited farthest from the centroid first (the paper's order: of a group
    of near-duplicates, the least prototypical one is kept) and a record is dropped when its
    cosine similarity to a record already kept exceeds ``threshold`` (the paper's
    ``1 - epsilon``). Near-duplicates in different clusters are not compared (as in the
    paper; they are rare, since near-duplicates share a nearest centroid). The paper's code
    compares each record with every earlier one, kept or not, so a chain a ~ b ~ c drops c
    even when a and c differ; here only kept records drop others.

    Then ``base`` (any registered selector, as a spec: ``random``,
    ``farthest-point:metric=cosine``, ...) chooses k of the deduplicated pool; an
    embedding-based base reads the same embeddings. When the deduplicated pool holds fewer
    than k records, a warning says so, and after all of them the selection is filled from
    the dropped records, the least similar to their kept near-duplicate first.

    Order: ``base``'s order over the deduplicated pool, then the fill. ``info``: clusters,
    dropped, kept, filled, and the base's own report.

    Args:
        embedder: spec or :class:`~vlprune.embed.Embedder` for a Pool (see docs/embedders.md).
        threshold: cosine similarity above which a record duplicates a kept one
            (0.95 by default; lower drops more).
        n_clusters: k-means clusters (None: one per 1,000 records).
        base: the selector that fills k from the deduplicated pool (a spec or a Selector).

    Cost: k-means, then inside each cluster one block-wise pass comparing every record with
    the kept ones: sum of (cluster size)^2 x d at worst, no n x n matrix; memory: the
    matrix plus the largest cluster's rows. Then the base selector on the kept rows.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 16))
        >>> X = np.r_[X, X[:30] + 1e-4]  # 30 planted near-duplicates
        >>> SemDeDupSelector(n_clusters=4).select(X, k=50, seed=0).info["dropped"]
        30
    """

    def __init__(
        self,
        embedder: str | Embedder = "default",
        threshold: Annotated[float, Range(-1, 1)] = 0.95,
        n_clusters: Annotated[int, Range(1)] | None = None,
        base: str | Selector = "random",
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.n_clusters = n_clusters
        self.base = base

    def _validate(self) -> None:
        if isinstance(self.base, str) and self.base.partition(":")[0].strip() == "semdedup":
            raise ConfigError("semdedup's base cannot be semdedup itself")
        build_selector(self.base, what="semdedup base")

    def _select(self, data, k, rng):
        base = build_selector(self.base, what="semdedup base")
        X = self.embeddings(data, k)
        n = len(X)
        c = min(n, self.n_clusters or math.ceil(n / 1000))
        clusters = kmeans(X, c, seed=int(rng.integers(2**31)), metric="cosine")
        kept = np.zeros(n, dtype=bool)
        similarity = np.full(n, -np.inf, dtype=np.float32)  # a dropped row's to the kept row that dropped it
        for rows in clusters.members():
            if len(rows) == 0:
                continue
            # Farthest from the centroid first; ties by position.
            rows = rows[np.lexsort((rows, -clusters.distances[rows]))]
            keep, sim = deduplicate(l2_normalise(np.asarray(X[rows], dtype=np.float32)), self.threshold)
            kept[rows] = keep
            similarity[rows] = sim
        kept_rows = np.flatnonzero(kept)
        dropped = n - len(kept_rows)
        q = min(k, len(kept_rows))
        picks, selection = select_rows(base, data, X, kept_rows, q, int(rng.integers(2**31)))
        fill = k - q
        if fill:
            log.warning("semdedup: only %d of %d records are left after dropping %d near-duplicates "
                        "(threshold %g), fewer than k=%d: the last %d come from the dropped records, "
                        "the least similar first", len(kept_rows), n, dropped, self.threshold, k, fill)
            dropped_rows = np.flatnonzero(~kept)
            extra = dropped_rows[np.lexsort((dropped_rows, similarity[dropped_rows]))[:fill]]
            picks = np.concatenate([picks, extra])
        info = {"clusters": int(c), "threshold": self.threshold, "dropped": int(dropped),
                "kept": len(kept_rows), "filled_from_dropped": int(fill), "base": base.name,
                "base_info": selection.info if selection is not None else {}}
        return picks, None, info


def deduplicate(Y: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy deduplication of unit rows ``Y`` in their order: a row is kept unless its
    cosine similarity to a kept earlier row exceeds ``threshold``. Returns the keep mask
    and, for each dropped row, its largest similarity to a kept row (-inf for kept rows).

    Block by block: each block is compared with the rows kept before it (one matrix
    product), then row by row within the block. Never more than a block x (kept rows)
    similarity matrix, itself cut into column chunks.

    Example:
        >>> Y = np.array([[1.0, 0], [0.999, 0.045], [0, 1]], dtype=np.float32)
        >>> deduplicate(Y, 0.99)[0].tolist()
        [True, False, True]
    """
    m = len(Y)
    keep = np.zeros(m, dtype=bool)
    best_all = np.full(m, -np.inf, dtype=np.float32)
    for b0 in range(0, m, BLOCK):
        b1 = min(m, b0 + BLOCK)
        block = Y[b0:b1]
        best = np.full(b1 - b0, -np.inf, dtype=np.float32)
        earlier = np.flatnonzero(keep[:b0])
        for c0 in range(0, len(earlier), 8 * BLOCK):
            np.maximum(best, (block @ Y[earlier[c0:c0 + 8 * BLOCK]].T).max(axis=1), out=best)
        inside = block @ block.T
        for i in range(b1 - b0):
            if best[i] > threshold:
                continue
            keep[b0 + i] = True
            np.maximum(best[i + 1:], inside[i, i + 1:], out=best[i + 1:])
        best_all[b0:b1] = np.where(keep[b0:b1], -np.inf, best)
    return keep, best_all
