"""Statistics for comparing selectors: intervals across seeds, paired bootstrap over questions.

ScienceQA's per-category accuracy and chance level are data vocabulary
(:mod:`vlprune.data.metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A point estimate with a 95% interval (``lo``/``hi`` are NaN when undefined)."""

    mean: float
    lo: float
    hi: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2


def mean_ci(values: Sequence[float], level: float = 0.95) -> Interval:
    """Mean and Student-t interval of independent runs (e.g. accuracy over seeds).

    With one value the interval is undefined (NaN): one seed says nothing about noise.

    Example:
        >>> ci = mean_ci([0.5, 0.6, 0.7])
        >>> round(ci.mean, 3), round(ci.half_width, 4)
        (0.6, 0.2484)
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, float("nan"), float("nan"), 1)
    from scipy.stats import t

    half = float(t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


@dataclass(frozen=True)
class PairedDifference:
    """Accuracy difference A - B on the same questions, with a bootstrap interval."""

    diff: float
    lo: float
    hi: float
    n_questions: int
    n_boot: int

    @property
    def significant(self) -> bool:
        """True when the 95% interval excludes zero."""
        return bool(self.lo > 0 or self.hi < 0)


def paired_bootstrap(correct_a: np.ndarray, correct_b: np.ndarray, *, n_boot: int = 2000,
                     seed: int = 0, level: float = 0.95) -> PairedDifference:
    """Paired bootstrap over test questions of the accuracy difference A - B.

    ``correct_a`` and ``correct_b`` hold one value per test question (0/1, or the mean over
    seeds); questions are resampled with replacement ``n_boot`` times and the percentile
    interval of the mean difference is returned. Deterministic per ``seed``.

    Example:
        >>> a = np.array([1, 1, 1, 0]); b = np.array([1, 0, 0, 0])
        >>> d = paired_bootstrap(a, b, n_boot=500, seed=0)
        >>> d.diff, 0 <= d.lo <= d.diff <= d.hi <= 1
        (0.5, True)
    """
    a = np.asarray(correct_a, dtype=float)
    b = np.asarray(correct_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired inputs must be 1-D and the same length, got {a.shape} and {b.shape}")
    d = a - b
    n = len(d)
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 256):  # blocks keep memory at 256 x n
        stop = min(start + 256, n_boot)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = d[idx].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return PairedDifference(float(d.mean()), float(lo), float(hi), n, n_boot)
