"""Stratified random selection by any record field."""

from __future__ import annotations

from typing import Literal

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.base import Selector, register_selector


def allocate(sizes: np.ndarray, k: int, allocation: str = "proportional") -> np.ndarray:
    """How many items each group gets: exactly ``k`` in all, never more than a group holds.

    ``proportional``: quotas ``k * size / n``, floors first, then the remaining items go to
    the largest fractional parts (Hamilton's method); ties go to the larger group, then the
    earlier one. ``equal``: the same share for every group; groups too small for their share
    give the rest to the others (water-filling), remainders again to the larger groups first.

    Example:
        >>> allocate(np.array([50, 30, 20]), 10).tolist()
        [5, 3, 2]
        >>> allocate(np.array([50, 30, 2]), 9, "equal").tolist()
        [4, 3, 2]
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n = int(sizes.sum())
    if not 0 <= k <= n:
        raise ConfigError(f"cannot allocate {k} items over groups holding {n}")
    order = np.lexsort((np.arange(len(sizes)), -sizes))  # larger groups first, then by index
    if allocation == "proportional":
        exact = sizes * k / n if n else np.zeros(len(sizes))
        quota = np.floor(exact).astype(np.int64)
        frac = exact - quota
        rest = k - int(quota.sum())
        by_frac = np.lexsort((np.arange(len(sizes)), -sizes, -frac))
        quota[by_frac[:rest]] += 1
        return quota
    if allocation == "equal":
        quota = np.zeros(len(sizes), dtype=np.int64)
        remaining = k
        while remaining > 0:
            open_groups = [g for g in order if quota[g] < sizes[g]]
            share, extra = divmod(remaining, len(open_groups))
            for rank, g in enumerate(open_groups):
                give = min(share + (1 if rank < extra else 0), int(sizes[g] - quota[g]))
                quota[g] += give
                remaining -= give
        return quota
    raise ConfigError(f"allocation must be 'proportional' or 'equal', not {allocation!r}")


@register_selector("stratified")
class StratifiedSelector(Selector):
    """Random selection with a fixed number of records per value of a field.

    Args:
        by: the field to stratify by (``subject``, ``topic``, ``category``, ``skill``,
            ``grade``, ``source``, ...). Records with an empty value form their own group;
            so do records whose value is unknown (absent in the source: on real ScienceQA
            the subject of 7,132 of 12,237 training problems), one group ``(unknown)``,
            never merged into a real value. A log line gives their count.
        allocation: ``proportional`` (each group's share of the pool) or ``equal`` (the same
            number per group as far as group sizes allow). See :func:`allocate`.

    The result has exactly k records; the selection order is a random interleaving of the
    groups, so that prefixes stay roughly stratified.

    Example:
        >>> from vlprune import StratifiedSelector, load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> sel = StratifiedSelector(by="subject", allocation="equal").select(pool, k=30, seed=0)
        >>> pool.table.loc[sel.positions, "subject"].value_counts().tolist()
        [10, 10, 10]
    """

    requires_pool = True

    def __init__(self, by: str = "subject", allocation: Literal["proportional", "equal"] = "proportional") -> None:
        self.by = by
        self.allocation = allocation

    def _select(self, pool, k, rng):
        if self.allocation not in ("proportional", "equal"):
            raise ConfigError(f"allocation must be 'proportional' or 'equal', not {self.allocation!r}")
        codes, labels = pool.groups(self.by, needed_by=f"selector 'stratified' (--by {self.by})", sort=True)
        sizes = np.bincount(codes, minlength=len(labels))
        quota = allocate(sizes, k, self.allocation)
        chosen = [rng.choice(np.flatnonzero(codes == g), size=q, replace=False)
                  for g, q in enumerate(quota) if q > 0]
        # Interleave: a random order in which each group's picks are spread over the whole list.
        positions = np.concatenate(chosen)
        keys = np.concatenate([(np.arange(len(c)) + rng.random(len(c))) / len(c) for c in chosen])
        return positions[np.argsort(keys, kind="stable")], None
