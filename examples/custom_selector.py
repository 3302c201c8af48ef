"""Write a selector, register it, and use it like a built-in one.

    python examples/custom_selector.py

In a package, add an entry point so that `vlprune select --selector longest-question`
finds it without an import:

    [project.entry-points."vlprune.selectors"]
    longest-question = "my_package.selectors:LongestQuestionSelector"
"""

from __future__ import annotations

import numpy as np

from vlprune import RandomSelector, Selector, get_selector, load_pool, register_selector


@register_selector("longest-question")
class LongestQuestionSelector(Selector):
    """The k records whose `field` text is longest (ties broken at random from the seed)."""

    requires_pool = True  # reads record fields, so it needs a Pool rather than an array

    def __init__(self, field: str = "question") -> None:
        self.field = field  # constructors only store hyperparameters

    def _select(self, pool, k, rng):
        lengths = pool.column(self.field, needed_by="selector 'longest-question'").str.len().to_numpy()
        order = np.lexsort((rng.random(len(pool)), -lengths))
        return order[:k], None  # positions in selection order, no per-step scores


def main() -> None:
    pool = load_pool("synthetic", size="tiny")
    ours = get_selector("longest-question", field="hint").select(pool, k=20, seed=0)
    baseline = RandomSelector().select(pool, k=20, seed=0)
    mean_len = lambda sel: pool.table.loc[sel.positions, "hint"].str.len().mean()  # noqa: E731
    print(f"mean hint length: longest-question {mean_len(ours):.0f}, random {mean_len(baseline):.0f}")


if __name__ == "__main__":
    main()
