"""Coverage-centric coreset selection (CCS; Zheng, Liu, Li & Prakash, ICLR 2023, "Coverage-
centric Coreset Selection for High Pruning Rates").

Ranking by difficulty alone keeps only the hard tail and leaves the easy, dense regions of the
data uncovered; at small budgets that is worse than random. CCS keeps the whole difficulty
range instead:

1. cut the hardest ``beta`` share of the records (at high pruning rates the hardest are often
   mislabelled or unlearnable); the cut never leaves fewer than k records;
2. split the remaining score range into ``strata`` bins of equal width;
3. spread the budget evenly over the bins by water filling: bins are served from the
   smallest up, each taking ``remaining // bins_left`` (all of itself when it holds fewer),
   so a sparse bin's unused share goes to the denser ones and exactly k are chosen;
4. pick at random inside each bin.

The selection order interleaves the bins round by round (one record of every bin that still
has picks, bins from easy to hard, then the next round), so every prefix is spread over the
difficulty range too. ``selection.scores`` holds each pick's difficulty; ``selection.info``
the cut, the bin edges, sizes and budgets.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated

import numpy as np

from vlprune.errors import ConfigError
from vlprune.params import Range
from vlprune.select.base import Selector, register_selector
from vlprune.select.scores import ScoreSpec, check_score_spec, compute_scores

if TYPE_CHECKING:
    from vlprune.data.pool import Pool


def water_fill(sizes: np.ndarray, k: int) -> np.ndarray:
    """Budgets per bin: as equal as bin sizes allow, exactly ``k`` in all. Bins are served in
    order of size (smallest first; equal sizes in bin order), each taking
    ``remaining // bins_left`` or all of itself; so only the largest bins get the
    remainder of the division.

    Example:
        >>> water_fill(np.array([2, 50, 0, 30]), 20).tolist()
        [2, 9, 0, 9]
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    if not 0 <= k <= int(sizes.sum()):
        raise ConfigError(f"cannot spread {k} picks over bins holding {int(sizes.sum())}")
    budgets = np.zeros(len(sizes), dtype=np.int64)
    remaining = k
    order = np.lexsort((np.arange(len(sizes)), sizes))
    for rank, b in enumerate(order):
        take = min(int(sizes[b]), remaining // (len(sizes) - rank))
        budgets[b] = take
        remaining -= take
    return budgets


def stratify(scores: np.ndarray, strata: int) -> tuple[np.ndarray, np.ndarray]:
    """Each score's bin among ``strata`` bins of equal width over [min, max] (the maximum
    in the last bin) and the bin edges.

    Example:
        >>> stratify(np.array([0.0, 0.1, 0.5, 1.0]), 2)[0].tolist()
        [0, 0, 1, 1]
    """
    lo, hi = float(scores.min()), float(scores.max())
    edges = np.linspace(lo, hi, strata + 1)
    if hi == lo:
        return np.zeros(len(scores), dtype=np.int64), edges
    bins = np.floor((scores - lo) / (hi - lo) * strata).astype(np.int64)
    return np.minimum(bins, strata - 1), edges


@register_selector("ccs")
class CCSSelector(Selector):
    """Coverage-centric coreset selection (see the module docstring).

    Args:
        score: the difficulty score spec (:func:`vlprune.select.scores.get_score`; higher =
            harder): ``default``, ``el2n`` / ``loss`` / ``margin`` (a proxy model's),
            ``file:PATH``, a numeric column; a bare embedding array needs ``file:PATH`` (or,
            in Python, an array or a callable).
        beta: the share of the hardest records cut before stratifying (Zheng et al. tune it
            per pruning rate, 0 to 0.4; tune it on a dev split).
        strata: the number of equal-width score bins (the paper's code uses 50).

    Cost: the score (see docs/selectors.md's difficulty-score table), then O(n log n).

    Example:
        >>> import numpy as np
        >>> from vlprune import get_selector
        >>> scores = np.r_[np.zeros(90), np.linspace(0.5, 1, 10)]   # a dense easy mass, a thin hard tail
        >>> sel = get_selector("ccs", score=scores, beta=0.0, strata=2).select(np.zeros((100, 1)), k=20, seed=0)
        >>> int((scores[sel.positions] >= 0.5).sum())                 # half the budget for each half of the range
        10
    """

    def __init__(self, score: ScoreSpec = "default",
                 beta: Annotated[float, Range(0, 1, hi_open=True)] = 0.1,
                 strata: Annotated[int, Range(1)] = 50) -> None:
        self.score = score
        self.beta = beta
        self.strata = strata

    def _validate(self) -> None:
        check_score_spec(self.score)

    def _select(self, data: Pool | np.ndarray, k: int, rng: np.random.Generator):
        scores = compute_scores(self.score, data)
        n = len(scores)
        cut = min(math.floor(self.beta * n), n - k)
        # Hardest first, ties at random, and the first `cut` of them dropped.
        by_hardness = np.lexsort((rng.random(n), -scores))
        kept = np.sort(by_hardness[cut:])
        bins, edges = stratify(scores[kept], self.strata)
        sizes = np.bincount(bins, minlength=self.strata)
        budgets = water_fill(sizes, k)
        members = np.split(kept[np.argsort(bins, kind="stable")], np.cumsum(sizes)[:-1])
        picks = [rng.permutation(m)[:b] for m, b in zip(members, budgets, strict=True)]
        # Round-robin over the bins (easy to hard): the r-th pick of every bin, then the next round.
        rounds = np.concatenate([np.arange(len(p)) for p in picks])
        bin_of = np.concatenate([np.full(len(p), b) for b, p in enumerate(picks)])
        positions = np.concatenate(picks)[np.lexsort((bin_of, rounds))]
        info = {"cut": int(cut), "kept": len(kept),
                "cut_threshold": float(scores[by_hardness[cut - 1]]) if cut else None,
                "bin_edges": [float(e) for e in edges], "bin_sizes": sizes.tolist(),
                "bin_budgets": budgets.tolist(), "bins_filled": int((budgets == sizes).sum())}
        return positions, scores[positions], info
