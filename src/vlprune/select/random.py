"""Uniform random selection: the baseline every other selector must beat."""

from __future__ import annotations

from vlprune.select.base import Selector, register_selector


@register_selector("random")
class RandomSelector(Selector):
    """k records uniformly at random without replacement; the order is the random order.

    Example:
        >>> from vlprune import RandomSelector, load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> sel = RandomSelector().select(pool, k=10, seed=1)
        >>> len(set(sel.ids))
        10
    """

    def __init__(self) -> None:
        pass

    def _select(self, data, k, rng):
        return rng.choice(len(data), size=k, replace=False), None
