"""Facility location: a submodular coverage objective, maximised greedily.

``f(S) = sum_i max_{j in S} s(i, j)``: every record is represented by its most similar
selected record, and the selection maximises the total similarity of that representation
(Mirchandani & Francis 1990; for data subset selection, Wei, Iyer & Bilmes 2015, and
apricot, Schreiber, Bilmes & Noble 2020). ``f`` is monotone submodular for non-negative
``s``, so the greedy order comes within ``1 - 1/e`` of the best subset of every size.

The similarity is the cosine of L2-normalised embeddings, made non-negative by ``similarity``:
``cosine`` clips it at 0 (default), ``shifted`` maps it to ``(1 + cos) / 2``, ``squared``
takes ``cos^2`` (what apricot's ``metric='cosine'`` uses).

The function and the optimiser are separate (as apricot separates them):

* ``graph``: ``dense`` keeps the n x n similarity matrix (exact; n^2 float32, refused above
  32,768 rows); ``knn`` keeps each record's ``n_neighbors`` most similar records
  (:func:`vlprune.select.neighbors.nearest_neighbors`: exact up to :data:`DENSE_MAX_ROWS`
  rows, above by the approximate list-by-list search, recall@10 about 0.99), so a record
  is represented only by a selected neighbour (or itself), and memory is O(n n_neighbors);
  ``auto`` is dense up to :data:`DENSE_MAX_ROWS` (5,000) rows, knn above.
* ``optimizer``: ``lazy`` is the exact greedy (Minoux's lazy evaluation: stale gains are
  upper bounds by submodularity; the heap's top is re-evaluated, in small batches, until it
  is fresh), identical in order and gains to the plain greedy; ``stochastic`` (Mirzasoleiman
  et al. 2015, "Lazier than lazy greedy") takes at each step the best of
  ``ceil(n / k * ln(1 / epsilon))`` records drawn from the seed, within ``1 - 1/e - epsilon``
  in expectation, in O(n log(1/epsilon)) gain evaluations in all; ``auto`` is lazy.

Ties go to the lower position. Once no record adds anything (every record already has a
similarity-1 representative, or only zero similarities are left), the rest are drawn at
random from the seed, with gain 0. The lazy greedy is otherwise deterministic (the seed only
enters the approximate neighbour index's training sample).
"""

from __future__ import annotations

import heapq
import logging
import math
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.errors import ConfigError
from vlprune.params import Range
from vlprune.select.base import register_selector
from vlprune.select.embedding import EmbeddingSelector

log = logging.getLogger("vlprune")

Similarity = Literal["cosine", "shifted", "squared"]
#: ``graph="auto"`` keeps the dense n x n matrix up to this many rows (100 MB of float32); above,
#: the neighbour graph is ~5x faster at 10,000 rows within 0.1% of the dense objective
#: (benchmarks/bench_facility_location.py).
DENSE_MAX_ROWS = 5_000
#: ``graph="dense"`` is refused above this many rows (4 GiB of float32).
DENSE_HARD_MAX_ROWS = 32_768
#: Rows per block when forming the dense matrix or the objective.
BLOCK_ROWS = 4_096
#: Stale heap entries re-evaluated together (one vectorised call instead of one each).
LAZY_BATCH = 8
#: Lists probed per record by the approximate neighbour search above 60,000 rows
#: (recall@10 0.99 on clustered 50,000 x 384; see neighbors.listwise_neighbors).
NPROBE = 4


def transform(values: np.ndarray, similarity: Similarity) -> np.ndarray:
    """Cosines -> non-negative similarities, in place (float32 in, float32 out)."""
    if similarity == "cosine":
        np.maximum(values, 0, out=values)
    elif similarity == "shifted":
        values += 1
        values *= 0.5
    elif similarity == "squared":
        np.square(values, out=values)
    else:
        raise ConfigError(f"similarity must be cosine, shifted or squared, not {similarity!r}")
    # Rounding can push a unit vector's cosine with itself a hair above 1.
    np.minimum(values, 1, out=values)
    return values


def unit_rows(X: np.ndarray) -> np.ndarray:
    """A float32 copy of ``X`` with unit-length rows, made block by block (X may be a memory map)."""
    from vlprune.numeric import l2_normalise

    out = np.empty(X.shape, dtype=np.float32)
    for start in range(0, len(X), 65_536):
        stop = min(len(X), start + 65_536)
        out[start:stop] = X[start:stop]
        l2_normalise(out[start:stop], out=out[start:stop])
    return out


# -- the two similarity structures ----------------------------------------------------------------
class DenseGains:
    """Gains from the full n x n similarity matrix (symmetric, so row c holds every s(i, c))."""

    def __init__(self, X: np.ndarray, similarity: Similarity) -> None:
        from scipy.linalg import blas

        U = unit_rows(X)
        n = len(U)
        # One triangle by SYRK (half a matrix product's work), then mirrored block by block.
        S = blas.ssyrk(1.0, U.T, trans=1).T  # C-ordered, lower triangle filled
        del U
        for i0 in range(0, n, BLOCK_ROWS):
            i1 = min(n, i0 + BLOCK_ROWS)
            transform(S[i0:i1, :i1], similarity)  # the filled part of this row block
            for j0 in range(0, i0, BLOCK_ROWS):
                j1 = min(n, j0 + BLOCK_ROWS)
                S[j0:j1, i0:i1] = S[i0:i1, j0:j1].T
            diag = S[i0:i1, i0:i1]
            upper = np.triu_indices(i1 - i0, 1)
            diag[upper] = diag.T[upper]
        self.S = S
        self.n = n

    def initial(self) -> np.ndarray:
        return self.S.sum(axis=1)  # the same float32 sums as gains() at the start

    def gains(self, candidates: np.ndarray, cover: np.ndarray) -> np.ndarray:
        rows = self.S[candidates] - cover
        np.maximum(rows, 0, out=rows)
        return rows.sum(axis=1)

    def add(self, c: int, cover: np.ndarray) -> None:
        np.maximum(cover, self.S[c], out=cover)


class GraphGains:
    """Gains from a k-nearest-neighbour graph: s(i, j) is kept where j is one of i's
    ``n_neighbors`` nearest records (and s(i, i) = 1); for each candidate c the records
    that list it, as a compressed column (``indptr``, ``rows``, ``values``)."""

    def __init__(self, X: np.ndarray, n_neighbors: int, similarity: Similarity, *, seed: int,
                 exact: bool | None = None, threads: int | None = None) -> None:
        from vlprune.select.neighbors import nearest_neighbors

        n = len(X)
        sims, neighbors = nearest_neighbors(X, n_neighbors, metric="cosine", exact=exact, seed=seed,
                                            nprobe=NPROBE, threads=threads)
        transform(sims, similarity)
        flat = neighbors.ravel()
        del neighbors
        keep = flat >= 0  # -1: the approximate search found fewer neighbours
        order = np.argsort(np.where(keep, flat, n), kind="stable")[:int(keep.sum())]
        self.rows = (order // n_neighbors).astype(np.int32)
        self.values = sims.ravel()[order]
        del sims
        counts = np.bincount(flat[order], minlength=n)
        self.indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=self.indptr[1:])
        # Column sums + s(c, c) = 1: every gain before the first pick.
        segment = np.repeat(np.arange(n), counts)
        self._initial = (np.bincount(segment, weights=self.values, minlength=n) + 1.0).astype(np.float32)
        self.n = n

    def initial(self) -> np.ndarray:
        return self._initial

    def gains(self, candidates: np.ndarray, cover: np.ndarray) -> np.ndarray:
        starts = self.indptr[candidates]
        lengths = self.indptr[candidates + 1] - starts
        offsets = np.cumsum(lengths) - lengths
        # Positions of every candidate's column entries, end to end.
        entries = np.arange(int(lengths.sum())) + np.repeat(starts - offsets, lengths)
        terms = self.values[entries] - cover[self.rows[entries]]
        np.maximum(terms, 0, out=terms)
        sums = np.bincount(np.repeat(np.arange(len(candidates)), lengths), weights=terms,
                           minlength=len(candidates))
        return (sums + np.maximum(1 - cover[candidates], 0)).astype(np.float32)

    def add(self, c: int, cover: np.ndarray) -> None:
        a, b = self.indptr[c], self.indptr[c + 1]
        rows = self.rows[a:b]
        cover[rows] = np.maximum(cover[rows], self.values[a:b])
        cover[c] = 1.0


# -- the optimisers ---------------------------------------------------------------------------------
@dataclass
class GreedyResult:
    order: np.ndarray
    gains: np.ndarray
    evaluations: int
    filled_at_random: int


def lazy_greedy(structure: DenseGains | GraphGains, k: int, rng: np.random.Generator) -> GreedyResult:
    """The exact greedy order by lazy evaluation (see the module docstring)."""
    n = structure.n
    cover = np.zeros(n, dtype=np.float32)
    initial = structure.initial()
    heap = list(zip((-initial).tolist(), range(n), strict=True))
    heapq.heapify(heap)
    fresh = np.zeros(n, dtype=np.int64)  # the step at which each heap value was computed
    order: list[int] = []
    gains: list[float] = []
    evaluations = n
    step = 0
    while len(order) < k:
        negative, c = heap[0]
        if fresh[c] == step:
            if -negative <= 0:
                break  # nothing adds coverage any more
            heapq.heappop(heap)
            order.append(c)
            gains.append(-negative)
            structure.add(c, cover)
            step += 1
            continue
        batch = []
        while heap and len(batch) < LAZY_BATCH and fresh[heap[0][1]] != step:
            batch.append(heapq.heappop(heap)[1])
        values = structure.gains(np.asarray(batch, dtype=np.int64), cover)
        evaluations += len(batch)
        fresh[batch] = step
        for value, b in zip(values.tolist(), batch, strict=True):
            heapq.heappush(heap, (-value, b))
    return _fill(order, gains, n, k, rng, evaluations)


def stochastic_greedy(structure: DenseGains | GraphGains, k: int, rng: np.random.Generator,
                      epsilon: float = 0.01) -> GreedyResult:
    """Each step, the best of ``ceil(n / k * ln(1 / epsilon))`` unselected records drawn at
    random (ties: the first drawn)."""
    n = structure.n
    sample = max(1, math.ceil(n / k * math.log(1 / epsilon)))
    cover = np.zeros(n, dtype=np.float32)
    remaining = np.arange(n, dtype=np.int64)   # unselected positions, first `left` of them
    where = np.arange(n, dtype=np.int64)       # index of each position in `remaining`
    left = n
    order: list[int] = []
    gains: list[float] = []
    evaluations = 0
    while len(order) < k:
        size = min(sample, left)
        candidates = remaining[rng.choice(left, size, replace=False)] if size < left else remaining[:left]
        values = structure.gains(candidates, cover)
        evaluations += size
        best = int(np.argmax(values))
        if values[best] <= 0:
            break
        c = int(candidates[best])
        order.append(c)
        gains.append(float(values[best]))
        structure.add(c, cover)
        # Remove c from `remaining` by swapping the last unselected position into its slot.
        left -= 1
        last = remaining[left]
        remaining[where[c]], where[last] = last, where[c]
    return _fill(order, gains, n, k, rng, evaluations)


def _fill(order: list[int], gains: list[float], n: int, k: int, rng: np.random.Generator,
          evaluations: int) -> GreedyResult:
    missing = k - len(order)
    if missing:
        chosen = np.zeros(n, dtype=bool)
        chosen[order] = True
        order.extend(rng.choice(np.flatnonzero(~chosen), missing, replace=False).tolist())
        gains.extend([0.0] * missing)
    return GreedyResult(np.asarray(order, dtype=np.int64), np.asarray(gains, dtype=np.float64), evaluations,
                        missing)


def facility_location_objective(X: np.ndarray, positions: np.ndarray, similarity: Similarity = "cosine"
                                ) -> float:
    """``f(S) = sum_i max_{j in S} s(i, j)`` with the dense similarity, exactly, in float64,
    block by block (O(n |S| d) time, no n x n matrix): the yardstick for comparing
    selections, whichever structure made them.

    Example:
        >>> X = np.array([[1.0, 0], [0.8, 0.6], [0, 1]])
        >>> facility_location_objective(X, [0]), facility_location_objective(X, [0, 2])
        (1.8, 2.8)
    """
    positions = np.asarray(positions, dtype=np.int64)
    chosen = np.asarray(X[positions], dtype=np.float64)
    chosen /= np.maximum(np.linalg.norm(chosen, axis=1, keepdims=True), 1e-300)
    total = 0.0
    for start in range(0, len(X), BLOCK_ROWS):
        block = np.asarray(X[start:start + BLOCK_ROWS], dtype=np.float64)
        block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-300)
        cos = np.minimum(block @ chosen.T, 1.0)
        if similarity == "cosine":
            sim = np.maximum(cos, 0)
        elif similarity == "shifted":
            sim = (1 + cos) / 2
        else:
            sim = cos**2
        total += float(sim.max(axis=1).sum())
    return round(total, 10)


# -- the selector -------------------------------------------------------------------------------------
@register_selector("facility-location")
class FacilityLocationSelector(EmbeddingSelector):
    """Representative records: maximise the facility-location coverage ``sum_i max_{j in S}
    s(i, j)`` greedily (see the module docstring for the objective, the structures and the
    optimisers).

    ``selection.scores[t]`` is the marginal gain of the t-th pick (non-increasing for the lazy
    greedy); every prefix of the order is the greedy selection of that size.
    ``selection.info``: the structure (``dense`` or ``knn``), the optimiser, gain evaluations,
    the objective reached (in the structure used) and how many records were filled at random.

    Args:
        embedder: spec or :class:`~vlprune.embed.Embedder` used when given a Pool.
        similarity: ``cosine`` (clipped at 0), ``shifted`` ((1 + cos) / 2) or ``squared``.
        graph: ``auto``, ``dense`` or ``knn``.
        n_neighbors: neighbours per record in the ``knn`` graph.
        optimizer: ``auto`` (lazy), ``lazy`` or ``stochastic``.
        epsilon: the stochastic greedy's approximation slack (sample size n/k ln(1/epsilon)).

    Cost: dense, n^2 d / 2 multiply-adds for the matrix (SYRK) and n^2 float32 of memory; knn,
    the neighbour search (minutes at 665k rows) and O(n n_neighbors) memory. The lazy greedy
    then evaluates a few gains per pick (each O(n) dense, O(n_neighbors) on the graph); the
    stochastic greedy n ln(1/epsilon) in all. ``benchmarks/bench_facility_location.py``
    compares it with apricot.

    Example:
        >>> import numpy as np
        >>> X = np.repeat(np.eye(3), [5, 3, 1], axis=0) + 0.01 * np.random.default_rng(0).normal(size=(9, 3))
        >>> sel = FacilityLocationSelector().select(X, k=3)      # blobs of 5, 3 and 1 records
        >>> np.searchsorted([5, 8], sel.positions, side="right").tolist(), sel.info["graph"]
        ([0, 1, 2], 'dense')
    """

    def __init__(
        self,
        embedder: str | Embedder = "default",
        similarity: Similarity = "cosine",
        graph: Literal["auto", "dense", "knn"] = "auto",
        n_neighbors: Annotated[int, Range(1)] = 20,
        optimizer: Literal["auto", "lazy", "stochastic"] = "auto",
        epsilon: Annotated[float, Range(0, 1, lo_open=True, hi_open=True)] = 0.01,
    ) -> None:
        self.embedder = embedder
        self.similarity = similarity
        self.graph = graph
        self.n_neighbors = n_neighbors
        self.optimizer = optimizer
        self.epsilon = epsilon

    def _select(self, data, k, rng):
        X = self.embeddings(data, k)
        n = len(X)
        graph = self.graph if self.graph != "auto" else ("dense" if n <= DENSE_MAX_ROWS else "knn")
        if graph == "dense" and n > DENSE_HARD_MAX_ROWS:
            raise ConfigError(f"graph='dense' keeps an n x n matrix; {n} rows would take "
                              f"{n * n * 4 / 2**30:.0f} GiB (limit {DENSE_HARD_MAX_ROWS} rows): use graph='knn'")
        if graph == "knn":
            if n < 2:
                raise ConfigError("graph='knn' needs at least 2 records")
            # Exact neighbours where the dense matrix would have been affordable (the knn
            # graph asked for explicitly at small n), the approximate search above.
            structure = GraphGains(X, min(self.n_neighbors, n - 1), self.similarity,
                                   seed=int(rng.integers(2**31)), exact=n <= DENSE_MAX_ROWS)
        else:
            structure = DenseGains(X, self.similarity)
        optimizer = "lazy" if self.optimizer == "auto" else self.optimizer
        if optimizer == "lazy":
            result = lazy_greedy(structure, k, rng)
        else:
            result = stochastic_greedy(structure, k, rng, self.epsilon)
        info = {"graph": graph, "optimizer": optimizer, "gain_evaluations": result.evaluations,
                "objective": float(result.gains.sum()), "filled_at_random": result.filled_at_random}
        if graph == "knn":
            info["n_neighbors"] = min(self.n_neighbors, n - 1)
        return result.order, result.gains, info
