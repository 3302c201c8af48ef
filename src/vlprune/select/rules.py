"""The hand rules of the reference experiment, alone and composed.

Three rules, each a preference over records:

* ``image-first``: records with an image before records without.
* ``topic-coverage``: a record whose ``by`` value (skill, topic, ...) is not yet represented
  in the selection before one whose value is. When k is smaller than the number of values,
  the values whose best candidate ranks highest under the other rules win; among equals, the
  values most frequent in the pool win (they cover the largest share of the data, and of a
  test split drawn like it).
* ``difficulty``: harder records before easier ones, by a pluggable score.

Unknown values (a field absent in the source; see :data:`vlprune.data.schema.MAYBE_UNKNOWN`)
are never read as a real value. ``topic-coverage`` treats "unknown" as one value of its own,
to be covered like any other; the default difficulty leaves an unknown grade or solution out
of its mean; a numeric score column ranks unknown below every known value. Each says so in
one log line with the count.

:class:`HandRuleSelector` applies them greedily: at each step it takes the record with the
best key. With ``weights=None`` the key is lexicographic in the order of ``rules`` (the
first rule decides, later rules break its ties); with weights it is the weighted sum of the
rule scores (difficulty as a percentile in [0, 1]). Remaining ties are broken at random from
the seed. Because the coverage score of a record can only drop (from "new value" to
"covered"), the greedy selection is one pass over the records sorted by their best possible
key, O(n log n).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.base import Selector, register_selector
from vlprune.select.scores import ScoreSpec, check_score_spec, compute_scores

RULES = ("image-first", "topic-coverage", "difficulty")


def default_difficulty(pool) -> np.ndarray:
    """Difficulty in [0, 1]: the mean of grade / 12, (choices - 2) / 3 and solution length
    (words / 100, capped at 1). A record whose grade or solution is unknown has the mean of
    the terms it knows (choices are always known): an unknown grade is not grade 0. (The
    ``default`` difficulty score, :class:`vlprune.select.scores.DefaultScore`.)

    Example:
        >>> from vlprune import load_pool
        >>> d = default_difficulty(load_pool("synthetic", size="tiny"))
        >>> bool(((d >= 0) & (d <= 1)).all())
        True
    """
    return compute_scores("default", pool)


def difficulty_scores(pool, score: ScoreSpec) -> np.ndarray:
    """Evaluate a difficulty spec (:func:`vlprune.select.scores.get_score`): ``"default"``,
    a registered score (``el2n``), ``file:PATH``, a numeric column name, or a callable(pool)."""
    return compute_scores(score, pool)


def _percentile(values: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    ranks = rankdata(values, method="average")
    return (ranks - 1) / max(len(values) - 1, 1)


@register_selector("hand-rules")
class HandRuleSelector(Selector):
    """The reference experiment's hand-curation rules, composed (see the module docstring).

    Args:
        rules: rule names in priority order, from ``image-first``, ``topic-coverage``,
            ``difficulty``.
        weights: None for lexicographic priority in the order of ``rules``; else one
            non-negative weight per rule for a weighted sum.
        by: the field ``topic-coverage`` covers (``subject``, ``topic``, ``category``,
            ``skill``, or any other field). Records whose value is unknown count as one value
            of their own, ``(unknown)``, covered like the others.
        score: the difficulty score, a spec of :func:`vlprune.select.scores.get_score`:
            ``"default"`` (:func:`default_difficulty`), a registered score (``el2n``,
            ``loss``, ``margin``: a proxy model's, see :mod:`vlprune.select.proxy`),
            ``file:PATH`` (per-id scores computed elsewhere), the name of a numeric column
            (unknown values rank below every known one), or a callable taking the pool and
            returning one number per record.

    Example:
        >>> from vlprune import HandRuleSelector, load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> sel = HandRuleSelector(by="topic").select(pool, k=60, seed=0)
        >>> set(pool.table.loc[sel.positions, "topic"]) == set(pool.table["topic"])
        True
    """

    requires_pool = True

    def __init__(
        self,
        rules: Sequence[str] = ("topic-coverage", "image-first", "difficulty"),
        weights: Sequence[float] | None = None,
        by: str = "skill",
        score: ScoreSpec = "default",
    ) -> None:
        self.rules = rules
        self.weights = weights
        self.by = by
        self.score = score

    def _check(self) -> tuple[list[str], list[float] | None]:
        rules = [self.rules] if isinstance(self.rules, str) else list(self.rules)
        if not rules:
            raise ConfigError("rules must name at least one rule")
        unknown = [r for r in rules if r not in RULES]
        if unknown:
            raise ConfigError(f"unknown rule(s) {', '.join(map(repr, unknown))}; choose from {', '.join(RULES)}")
        if len(set(rules)) != len(rules):
            raise ConfigError(f"rules must not repeat: {rules}")
        if self.weights is None:
            return rules, None
        weights = [float(w) for w in self.weights]
        if len(weights) != len(rules):
            raise ConfigError(f"weights must give one weight per rule: {len(rules)} rules "
                              f"({', '.join(rules)}), {len(weights)} weights")
        if any(w < 0 or not np.isfinite(w) for w in weights):
            raise ConfigError(f"weights must be non-negative numbers, got {weights}")
        return rules, weights

    def _validate(self) -> None:
        rules, _ = self._check()
        if "difficulty" in rules:
            check_score_spec(self.score)  # an unknown score or a missing file fails before any work

    def _select(self, pool, k, rng):
        rules, weights = self._check()
        n = len(pool)
        static: dict[str, np.ndarray] = {}
        if "image-first" in rules:
            static["image-first"] = pool.has_image.astype(float)
        if "difficulty" in rules:
            raw = difficulty_scores(pool, self.score)
            static["difficulty"] = raw if weights is None else _percentile(raw)

        covering = "topic-coverage" in rules
        if covering:
            groups, _ = pool.groups(self.by, needed_by=f"rule 'topic-coverage' (--by {self.by})")
            freq = np.bincount(groups)[groups].astype(float)
        else:
            groups = np.zeros(n, dtype=np.int64)
            freq = np.zeros(n)

        tiebreak = rng.random(n)
        # Every record appears twice: as if its value were still uncovered (c=1) and as if it
        # were covered (c=0). Sorted by key, the first valid entry is always the greedy choice.
        keys_by_c = []
        for c in (1.0, 0.0):
            if weights is None:
                parts = [np.full(n, c) if r == "topic-coverage" else static[r] for r in rules]
            else:
                total = sum(w * (np.full(n, c) if r == "topic-coverage" else static[r])
                            for r, w in zip(rules, weights, strict=True))
                parts = [total]
            parts += [np.full(n, c), freq * c, tiebreak]
            keys_by_c.append(np.stack(parts))
        keys = np.concatenate(keys_by_c, axis=1)  # (n_parts, 2n)
        order = np.lexsort(keys[::-1])[::-1]       # descending, first part most significant

        chosen = np.zeros(n, dtype=bool)
        covered = np.zeros(groups.max() + 1 if n else 0, dtype=bool)
        picks: list[int] = []
        for entry in order:
            item, uncovered_entry = entry % n, entry < n
            if chosen[item] or (uncovered_entry and covering and covered[groups[item]]):
                continue
            chosen[item] = True
            covered[groups[item]] = True
            picks.append(item)
            if len(picks) == k:
                break
        info = {"values_covered": int(covered.sum()), "values_total": len(covered)} if covering else {}
        return np.asarray(picks, dtype=np.int64), None, info


@register_selector("image-first")
class ImageFirstSelector(HandRuleSelector):
    """Records with an image first (in random order), then the rest at random.

    Example:
        >>> from vlprune import ImageFirstSelector, load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> sel = ImageFirstSelector().select(pool, k=20, seed=0)
        >>> bool(pool.has_image[sel.positions].all())
        True
    """

    def __init__(self) -> None:
        super().__init__(rules=("image-first",))


@register_selector("topic-coverage")
class TopicCoverageSelector(HandRuleSelector):
    """At least one record per value of ``by`` when k allows, the rest at random.

    When k is smaller than the number of values, the most frequent values are covered
    (ties at random from the seed). Records whose value is unknown are one value of their
    own, ``(unknown)`` (logged with their count).

    Example:
        >>> from vlprune import TopicCoverageSelector, load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> sel = TopicCoverageSelector(by="category").select(pool, k=40, seed=0)
        >>> sel.info["values_covered"] == pool.table["category"].nunique()
        True
    """

    def __init__(self, by: str = "topic") -> None:
        super().__init__(rules=("topic-coverage",), by=by)


@register_selector("difficulty")
class DifficultySelector(HandRuleSelector):
    """The k hardest records by ``score`` (ties at random); the selection order is hardest
    first. ``score`` is any difficulty score spec (see :class:`HandRuleSelector`).

    Example:
        >>> from vlprune import DifficultySelector, load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> sel = DifficultySelector(score="grade").select(pool, k=10, seed=0)
        >>> int(pool.table.loc[sel.positions, "grade"].min()) >= int(pool.table["grade"].median())
        True
    """

    def __init__(self, score: ScoreSpec = "default") -> None:
        super().__init__(rules=("difficulty",), score=score)
