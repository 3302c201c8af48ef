"""Statistics for comparing selectors.

The verdict against random is a test with seeds as the samples (:func:`seed_test`), Holm-
adjusted over the grid (:func:`holm`), next to what the grid could detect
(:func:`min_detectable_difference`). The bootstrap over test questions
(:func:`paired_bootstrap`) holds the trained models fixed: it describes the test split's
sampling noise for these models, and is not a test of the selector.

ScienceQA's per-category accuracy and chance level are data vocabulary
(:mod:`vlprune.data.metrics`).
"""

from __future__ import annotations

import warnings
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

    With one value, or with values that are all equal, the interval is undefined (NaN): one
    seed says nothing about noise, and identical seeds mean the runs did not vary (a scorer
    that ignores its seed), not that the mean is exact.

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
    if n == 1 or np.ptp(x) == 0:
        return Interval(mean, float("nan"), float("nan"), n)
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


# -- seed-level tests: the primary verdict ---------------------------------------------------------
TESTS = ("welch", "paired")


@dataclass(frozen=True)
class SeedTest:
    """Difference of mean accuracy over seeds, A - B, tested with the seeds as the samples.

    ``lo``/``hi`` bound the difference (``level`` interval) and ``p`` is the two-sided p-value;
    all three are NaN when the data cannot support a test (``reason`` says why: fewer than
    two seeds a side, or every seed giving the same accuracy).
    """

    diff: float
    lo: float
    hi: float
    p: float
    df: float
    n_a: int
    n_b: int
    test: str
    reason: str = ""

    @property
    def testable(self) -> bool:
        return bool(np.isfinite(self.p))


def seed_test(acc_a: Sequence[float], acc_b: Sequence[float], *, test: str = "welch",
              level: float = 0.95) -> SeedTest:
    """Test whether selector A's accuracy differs from B's, one accuracy per seed.

    Each seed's run (selection + training + evaluation) is one sample, so the test accounts
    for the selection-and-training noise that a bootstrap over test questions ignores.

    * ``welch``: Welch's two-sample t-test (unequal variances; seeds need not match).
    * ``paired``: Student's t on the per-seed differences; ``acc_a[i]`` and ``acc_b[i]`` must
      come from the same seed. Worth it only when the seed couples the two runs (it costs
      half the degrees of freedom).

    Example:
        >>> r = seed_test([0.62, 0.60, 0.64], [0.55, 0.57, 0.56])
        >>> round(100 * r.diff, 1), r.p < 0.05, r.test
        (6.0, True, 'welch')
    """
    from scipy import stats

    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}, not {test!r}")
    a = np.asarray(acc_a, dtype=float)
    b = np.asarray(acc_b, dtype=float)
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else float("nan")
    nan = float("nan")

    def untestable(reason: str) -> SeedTest:
        return SeedTest(diff, nan, nan, nan, nan, len(a), len(b), test, reason)

    if test == "paired":
        if len(a) != len(b):
            raise ValueError(f"a paired test needs one value per seed on both sides, got {len(a)} and {len(b)}")
        d = a - b
        if len(d) < 2:
            return untestable("needs 2+ seeds")
        if np.ptp(d) == 0:
            return untestable("identical differences on every seed")
        result = stats.ttest_1samp(d, 0.0)
    else:
        if len(a) < 2 or len(b) < 2:
            return untestable("needs 2+ seeds a side")
        if np.ptp(a) == 0 and np.ptp(b) == 0:
            return untestable("every seed gave the same accuracy")
        with warnings.catch_warnings():
            # one side that does not vary (a deterministic selector and scorer) is fine for
            # Welch's test, but makes scipy warn about precision in its moments
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.ttest_ind(a, b, equal_var=False)
    ci = result.confidence_interval(level)
    return SeedTest(diff, float(ci.low), float(ci.high), float(result.pvalue), float(result.df),
                    len(a), len(b), test)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of p-values for a family of tests (NaN entries, untested
    comparisons, stay NaN and do not count in the family).

    A comparison is significant at family-wise level alpha when its adjusted p < alpha; the
    chance of any false "significant" in the family is then at most alpha, whatever the
    dependence between the tests.

    Example:
        >>> holm([0.01, 0.04, 0.03, float("nan")]).round(2).tolist()
        [0.03, 0.06, 0.06, nan]
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = (m - np.arange(m)) * p[order]           # (m - i) p_(i), i = 0..m-1
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


def min_detectable_difference(sd: float, n: int, *, alpha: float = 0.05, power: float = 0.8,
                              test: str = "welch") -> float:
    """The smallest true difference a seed-level test detects with probability ``power``.

    Two selectors, ``n`` seeds each, seed-to-seed standard deviation ``sd`` on both sides,
    two-sided test at level ``alpha``. Close to ``(t(1 - alpha/2) + t(power)) * sd * sqrt(2/n)``
    with ``2n - 2`` degrees of freedom. For ``paired`` (uncorrelated seeds, ``n - 1`` degrees
    of freedom) it is exact, from the noncentral t. Welch's test estimates its degrees of
    freedom from the data, which costs it a little power against the pooled t; its power is
    computed over 20,000 simulated pairs of sample variances (a fixed generator: the same
    inputs give the same answer; error about 0.3% of power). NaN for fewer than 2 seeds.

    Example:
        >>> round(100 * min_detectable_difference(0.013, 3), 1)   # 1.3-point seed SD, 3 seeds
        4.5
    """
    from scipy import optimize, stats

    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}, not {test!r}")
    if n < 2 or not np.isfinite(sd):
        return float("nan")
    if sd == 0:
        return 0.0
    se = sd * np.sqrt(2.0 / n)
    if test == "paired":
        df = n - 1
        crit = stats.t.ppf(1 - alpha / 2, df)

        def shortfall(ncp: float) -> float:
            # scipy's far lower tail can come back NaN where it is ~0
            lower = float(np.nan_to_num(stats.nct.cdf(-crit, df, ncp)))
            return float(stats.nct.sf(crit, df, ncp)) + lower - power
    else:
        # In units of sd: each side's sample variance is chi2(n-1)/(n-1); the statistic is
        # (ncp + Z) / sqrt((v1 + v2) / 2), judged against t at Welch's degrees of freedom.
        rng = np.random.default_rng(20240601)
        v1, v2 = rng.chisquare(n - 1, size=(2, 20_000)) / (n - 1)
        z = rng.standard_normal(20_000)
        scale = np.sqrt((v1 + v2) / 2)
        df_w = (n - 1) * (v1 + v2) ** 2 / (v1**2 + v2**2)
        crit = stats.t.ppf(1 - alpha / 2, df_w) * scale

        def shortfall(ncp: float) -> float:
            return float(np.mean(np.abs(ncp + z) > crit)) - power

    hi = 8.0
    while shortfall(hi) < 0:  # widen the bracket (few seeds need a large noncentrality)
        hi *= 2
    ncp = optimize.brentq(shortfall, 0.0, hi, xtol=1e-6)
    return float(ncp * se)


def pooled_sd(groups: Sequence[Sequence[float]]) -> tuple[float, int]:
    """The pooled standard deviation of several groups (each with its own mean) and its
    degrees of freedom; groups of fewer than 2 values add nothing.

    Example:
        >>> sd, df = pooled_sd([[1.0, 3.0], [10.0, 12.0, 14.0], [5.0]])
        >>> round(sd, 3), df
        (1.826, 3)
    """
    ss, df = 0.0, 0
    for g in groups:
        x = np.asarray(g, dtype=float)
        if len(x) >= 2:
            ss += float(((x - x.mean()) ** 2).sum())
            df += len(x) - 1
    return (float(np.sqrt(ss / df)) if df else float("nan")), df
