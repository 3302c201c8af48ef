"""Stratified random selection by any record field."""

from __future__ import annotations

from typing import Literal

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.base import Selector, register_selector

Allocation = Literal["proportional", "equal", "sqrt"]
ALLOCATIONS: tuple[str, ...] = ("proportional", "equal", "sqrt")


def allocate(sizes: np.ndarray, k: int, allocation: str = "proportional") -> np.ndarray:
    """How many items each group gets: exactly ``k`` in all, never more than a group holds.

    ``proportional``: quotas ``k * size / n``, floors first, then the remaining items go to
    the largest fractional parts (Hamilton's method); ties go to the larger group, then the
    earlier one. ``equal``: the same share for every group; groups too small for their share
    give the rest to the others (water-filling), remainders again to the larger groups first.
    ``sqrt``: shares proportional to the square root of the group sizes (between the two:
    small groups gain, large ones still get more), water-filled and rounded as
    :func:`allocate_weighted` does.

    Example:
        >>> allocate(np.array([50, 30, 20]), 10).tolist()
        [5, 3, 2]
        >>> allocate(np.array([50, 30, 2]), 9, "equal").tolist()
        [4, 3, 2]
        >>> allocate(np.array([900, 100, 0]), 40, "sqrt").tolist()
        [30, 10, 0]
    """
    if allocation == "sqrt":
        sizes = np.asarray(sizes, dtype=np.int64)
        return allocate_weighted(sizes, k, np.sqrt(np.maximum(sizes, 0)))
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
    raise ConfigError(f"allocation must be one of {', '.join(ALLOCATIONS)}, not {allocation!r}")


def allocate_weighted(sizes: np.ndarray, k: int, weights: np.ndarray) -> np.ndarray:
    """Quotas proportional to ``weights``, exactly ``k`` in all, never more than a group holds.

    Water-filling: each group's share is ``remaining * w / (sum of w over open groups)``;
    a group whose share exceeds its size takes all of its items and closes, and the rest is
    shared again among the open groups. The shares are then rounded by Hamilton's method
    (floors, then the largest fractional parts; ties to the larger group, then the earlier
    one). Groups of weight 0 get items only when the others cannot hold ``k``.

    Example:
        >>> allocate_weighted(np.array([10, 10, 10]), 12, np.array([8.0, 1.0, 1.0])).tolist()
        [10, 1, 1]
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    n = int(sizes.sum())
    if weights.shape != sizes.shape:
        raise ConfigError(f"{len(weights)} weights for {len(sizes)} groups")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ConfigError("allocation weights must be finite and non-negative")
    if not 0 <= k <= n:
        raise ConfigError(f"cannot allocate {k} items over groups holding {n}")
    share = np.zeros(len(sizes))
    open_ = sizes > 0
    remaining = float(k)
    while remaining > 0 and open_.any():
        w = np.where(open_, weights, 0.0)
        if w.sum() <= 0:  # only weightless groups are left: share evenly among them
            w = open_.astype(np.float64)
        alloc = remaining * w / w.sum()
        full = open_ & (alloc >= sizes)
        if not full.any():
            share[open_] = alloc[open_]
            break
        share[full] = sizes[full]
        remaining -= float(sizes[full].sum())
        open_ &= ~full
    quota = np.minimum(np.floor(share + 1e-9).astype(np.int64), sizes)
    frac = np.where(quota < sizes, share - quota, -np.inf)
    rest = k - int(quota.sum())
    by_frac = np.lexsort((np.arange(len(sizes)), -sizes, -frac))
    quota[by_frac[:rest]] += 1
    return quota


@register_selector("stratified")
class StratifiedSelector(Selector):
    """Random selection with a fixed number of records per value of a field.

    Args:
        by: the field to stratify by (``subject``, ``topic``, ``category``, ``skill``,
            ``grade``, ``source``, ...). Records with an empty value form their own group;
            so do records whose value is unknown (absent in the source: on real ScienceQA
            the subject of 7,132 of 12,237 training problems), one group ``(unknown)``,
            never merged into a real value. A log line gives their count.
        allocation: ``proportional`` (each group's share of the pool), ``equal`` (the same
            number per group as far as group sizes allow) or ``sqrt`` (shares proportional to
            the square root of group sizes). See :func:`allocate`.

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

    def __init__(self, by: str = "subject", allocation: Allocation = "proportional") -> None:
        self.by = by
        self.allocation = allocation

    def _select(self, pool, k, rng):
        codes, labels = pool.groups(self.by, needed_by=f"selector 'stratified' (--by {self.by})", sort=True)
        sizes = np.bincount(codes, minlength=len(labels))
        quota = allocate(sizes, k, self.allocation)
        chosen = [rng.choice(np.flatnonzero(codes == g), size=q, replace=False)
                  for g, q in enumerate(quota) if q > 0]
        # Interleave: a random order in which each group's picks are spread over the whole list.
        positions = np.concatenate(chosen)
        keys = np.concatenate([(np.arange(len(c)) + rng.random(len(c))) / len(c) for c in chosen])
        return positions[np.argsort(keys, kind="stable")], None
