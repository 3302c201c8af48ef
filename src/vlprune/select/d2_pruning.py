"""D2 pruning: difficulty and diversity by message passing on a k-nearest-neighbour graph
(Maharana, Yadav & Bansal, ICLR 2024, "D2 Pruning: Message Passing for Balancing Diversity
and Difficulty in Data Pruning"; https://github.com/adymaharana/d2pruning).

1. **Graph.** Every record is a node linked to its ``n_neighbors`` nearest records in
   embedding space (faiss, :func:`vlprune.select.neighbors.nearest_neighbors`), with the
   Euclidean distance ``d(i, j)`` of the embeddings (of the L2-normalised embeddings for
   ``metric="cosine"``). Each node starts with its difficulty score, rescaled to [0, 1]
   (min-max, so that messages are non-negative and ``gamma`` does not depend on the
   score's units).
2. **Forward message passing.** Each node gathers its neighbours' difficulty, weighted by an
   RBF kernel of their distance: ``s(i) <- s(i) + sum_{j in N(i)} exp(-gamma_f d(i, j)) s(j)``.
   A hard record in a region of hard records now outranks an isolated hard one.
3. **Selection with reverse message passing.** Repeatedly take the node of highest score,
   then lower the scores of its neighbours by what it already represents:
   ``s(j) <- s(j) - exp(-gamma_r d(i, j)) s(i)`` for ``j in N(i)``, so the next picks move
   away from it (diversity). ``N(i)`` is i's own neighbour list, as in the authors'
   large-scale (precomputed-graph) code.

The selection order is the pick order; ``selection.scores`` the score each pick had when it
was taken. Ties go to a random order drawn from the seed. Cost: the neighbour search (exact up
to 60,000 rows, an approximate index above: minutes at 665k rows), O(n n_neighbors) memory,
then O(k n_neighbors log n) for the selection.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.errors import ConfigError
from vlprune.params import Range
from vlprune.select.base import register_selector
from vlprune.select.embedding import EmbeddingSelector
from vlprune.select.scores import ScoreSpec, check_score_spec, compute_scores

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

#: Lists probed per record by the approximate neighbour search above 60,000 rows
#: (recall@10 0.99 on clustered 50,000 x 384; see neighbors.listwise_neighbors).
NPROBE = 4


def rescale(scores: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1] (all equal: all 1)."""
    lo, hi = float(scores.min()), float(scores.max())
    return np.ones_like(scores) if hi == lo else (scores - lo) / (hi - lo)


def forward_pass(scores: np.ndarray, neighbors: np.ndarray, distances: np.ndarray, gamma: float) -> np.ndarray:
    """``s(i) + sum_{j in N(i)} exp(-gamma d(i, j)) s(j)``; entries -1 (no neighbour) add nothing.

    Example:
        >>> forward_pass(np.array([1.0, 0.0, 0.5]), np.array([[1], [0], [-1]]), np.zeros((3, 1)), 1.0).tolist()
        [1.0, 1.0, 0.5]
    """
    valid = neighbors >= 0
    weights = np.where(valid, np.exp(-gamma * distances.astype(np.float64)), 0.0)
    return scores + (weights * scores[np.where(valid, neighbors, 0)]).sum(axis=1)


def reverse_greedy(scores: np.ndarray, neighbors: np.ndarray, distances: np.ndarray, gamma: float, k: int,
                   tiebreak: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Take the highest score k times, each time lowering the pick's neighbours' scores by
    ``exp(-gamma d) * s(pick)``. Returns the picks and their scores when taken.

    A lazy heap: every change pushes a new entry; entries older than their node's last
    change, or of a node already taken, are skipped when they surface.
    """
    current = scores.astype(np.float64).copy()
    weights = np.where(neighbors >= 0, np.exp(-gamma * distances.astype(np.float64)), 0.0)
    version = np.zeros(len(current), dtype=np.int64)
    taken = np.zeros(len(current), dtype=bool)
    heap = list(zip((-current).tolist(), tiebreak.tolist(), range(len(current)), [0] * len(current), strict=True))
    heapq.heapify(heap)
    picks = np.empty(k, dtype=np.int64)
    values = np.empty(k)
    t = 0
    while t < k:
        negative, _, i, v = heapq.heappop(heap)
        if taken[i] or v != version[i]:
            continue
        taken[i] = True
        picks[t], values[t] = i, -negative
        t += 1
        valid = (neighbors[i] >= 0)
        js = neighbors[i][valid]
        js_valid = ~taken[js]
        js = js[js_valid]
        if not len(js):
            continue
        current[js] -= weights[i][valid][js_valid] * current[i]
        version[js] += 1
        for j, s, tb, vj in zip(js.tolist(), current[js].tolist(), tiebreak[js].tolist(), version[js].tolist(),
                                strict=True):
            heapq.heappush(heap, (-s, tb, j, vj))
    return picks, values


@register_selector("d2-pruning")
class D2PruningSelector(EmbeddingSelector):
    """Difficulty and diversity by message passing on a kNN graph (see the module docstring).

    Args:
        embedder: spec or :class:`~vlprune.embed.Embedder` used when given a Pool.
        score: the difficulty score spec (:func:`vlprune.select.scores.get_score`; higher =
            harder): ``default``, ``el2n`` / ``loss`` / ``margin``, ``file:PATH``, a numeric
            column; a bare embedding array needs ``file:PATH`` (or an array in Python).
        n_neighbors: the graph's neighbours per record (the paper's runs use 5 to 10).
        gamma_f: the forward RBF kernel's width: large keeps each score to itself.
        gamma_r: the reverse kernel's: small spreads each pick's penalty over its whole
            neighbourhood (more diversity), large confines it (more difficulty).
        metric: ``cosine`` (distances between L2-normalised embeddings, in [0, 2]) or ``l2``.

    ``selection.info``: the graph's size, the kernel widths, the score, and the forward
    pass's mean gain (how much neighbours added).

    Example:
        >>> import numpy as np
        >>> from vlprune import get_selector
        >>> X = np.repeat(np.eye(4), 25, axis=0) + 0.05 * np.random.default_rng(0).normal(size=(100, 4))
        >>> hard = np.repeat([1.0, 0.8, 0.6, 0.4], 25)            # blob 0 hardest, blob 3 easiest
        >>> sel = get_selector("d2-pruning", score=hard, n_neighbors=10).select(X, k=8, seed=0)
        >>> (sel.positions // 25).tolist()   # the hardest blob until its picks cover it, then the next
        [0, 0, 0, 0, 0, 1, 1, 1]
    """

    def __init__(
        self,
        embedder: str | Embedder = "default",
        score: ScoreSpec = "default",
        n_neighbors: Annotated[int, Range(1)] = 10,
        gamma_f: Annotated[float, Range(0)] = 1.0,
        gamma_r: Annotated[float, Range(0)] = 1.0,
        metric: Literal["cosine", "l2"] = "cosine",
    ) -> None:
        self.embedder = embedder
        self.score = score
        self.n_neighbors = n_neighbors
        self.gamma_f = gamma_f
        self.gamma_r = gamma_r
        self.metric = metric

    def _validate(self) -> None:
        check_score_spec(self.score)

    def _select(self, data: Pool | np.ndarray, k: int, rng: np.random.Generator):
        from vlprune.select.neighbors import nearest_neighbors

        scores = rescale(compute_scores(self.score, data))
        X = self.embeddings(data, k)
        n = len(X)
        if n < 2:
            raise ConfigError("d2-pruning needs at least 2 records")
        m = min(self.n_neighbors, n - 1)
        values, neighbors = nearest_neighbors(X, m, metric=self.metric, seed=int(rng.integers(2**31)),
                                              nprobe=NPROBE)
        distances = np.sqrt(np.maximum(2 - 2 * values.astype(np.float64), 0)) if self.metric == "cosine" \
            else values.astype(np.float64)
        del values
        boosted = forward_pass(scores, neighbors, distances, self.gamma_f)
        picks, taken_at = reverse_greedy(boosted, neighbors, distances, self.gamma_r, k, rng.random(n))
        info = {"n_neighbors": m, "gamma_f": self.gamma_f, "gamma_r": self.gamma_r,
                "score": _describe(self.score), "forward_gain_mean": float((boosted - scores).mean())}
        return picks, taken_at, info


def _describe(spec) -> str:
    from vlprune.select.scores import get_score

    return get_score(spec).describe()
