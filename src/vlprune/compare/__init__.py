"""Score selectors against each other: grids of selectors x budgets x seeds, statistics, plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlprune.compare.grid import GridConfig, SelectorSpec, load_pools, run_grid
from vlprune.compare.report import aggregate, detectable, versus_random, write_report
from vlprune.compare.scorers import LlavaScorer, ProbeScorer, Scorer, scorers
from vlprune.compare.stats import (
    holm,
    mean_ci,
    min_detectable_difference,
    paired_bootstrap,
    seed_test,
)
from vlprune.data.metrics import chance_accuracy

__all__ = ["GridConfig", "LlavaScorer", "ProbeScorer", "Scorer", "SelectorSpec", "aggregate", "chance_accuracy",
           "compare", "detectable", "holm", "mean_ci", "min_detectable_difference", "paired_bootstrap", "run_grid",
           "scorers", "seed_test", "versus_random", "write_report"]


def compare(config: GridConfig, out: str | Path, *, progress: bool = True) -> list[dict[str, Any]]:
    """Run (or resume) the grid and write results.csv, summary.md and the plots into ``out``.

    The grid is checked whole before its first cell; a refused grid leaves ``out`` untouched.

    Example:
        >>> cfg = GridConfig.from_dict({"selectors": ["random", "hand-rules"], "k": [20, 40], "seeds": 2,
        ...                             "scorer": "probe", "scorer_params": {"embedder": "tfidf", "epochs": 10},
        ...                             "dataset": {"loader": "synthetic", "options": {"size": "tiny"}}})
        >>> import tempfile
        >>> records = compare(cfg, tempfile.mkdtemp(), progress=False)
        >>> len(records)  # 2 selectors x 2 budgets x 2 seeds + 2 full-data runs
        10
    """
    config.validate()
    pools = load_pools(config)
    records = run_grid(config, out, progress=progress, pools=pools)
    test = pools[1]
    chance = chance_accuracy(test.table["choices"].map(len).tolist())
    scorer = scorers.get(config.scorer)
    write_report(records, out, scorer=config.scorer, proxy=scorer.is_proxy, n_boot=config.bootstrap,
                 chance=chance, test=config.test)
    return records
