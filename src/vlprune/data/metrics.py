"""ScienceQA's evaluation vocabulary: accuracy overall and per category, and chance.

These are data contracts shared by the trainer (``metrics.json``) and the comparison
(``results.csv``, ``summary.md``), so they live with the record schema, below both. The
categories are those of :data:`vlprune.data.schema.CATEGORIES`, computed by
:meth:`vlprune.data.pool.Pool.categories`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vlprune.data.schema import CATEGORIES
from vlprune.errors import ConfigError

if TYPE_CHECKING:
    from vlprune.data.pool import Pool


def category_accuracy(correct: np.ndarray, categories: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Accuracy overall and per ScienceQA category, each with its question count.

    ``categories`` is :meth:`vlprune.data.pool.Pool.categories` of the test pool.

    Example:
        >>> cats = pd.DataFrame({c: [True, False] for c in CATEGORIES})
        >>> category_accuracy(np.array([1, 0]), cats)["NAT"]
        {'accuracy': 1.0, 'count': 1}
    """
    correct = np.asarray(correct, dtype=float)
    out = {"overall": {"accuracy": float(correct.mean()) if len(correct) else float("nan"),
                       "count": len(correct)}}
    for cat in CATEGORIES:
        mask = categories[cat].to_numpy(dtype=bool)
        count = int(mask.sum())
        out[cat] = {"accuracy": float(correct[mask].mean()) if count else float("nan"), "count": count}
    return out


def chance_accuracy(n_choices: Sequence[int]) -> float:
    """Expected accuracy of uniform guessing: the mean of 1 / number of choices.

    Example:
        >>> chance_accuracy([2, 4])
        0.375
    """
    n = np.asarray(n_choices, dtype=float)
    return float((1 / n).mean()) if len(n) else float("nan")


def score_predictions(pool: Pool, predictions: np.ndarray | Sequence[int]) -> dict[str, Any]:
    """The ``metrics.json`` content: accuracy overall and per ScienceQA category, each with
    its correct and total counts, the chance level and how many predictions were unparsed
    (``-1``).

    Example:
        >>> from vlprune import load_pool
        >>> pool = load_pool("synthetic", size="tiny", split="test")
        >>> m = score_predictions(pool, pool.table["answer"])
        >>> m["accuracy"], m["count"], m["unparsed"]
        (1.0, 50, 0)
    """
    predictions = np.asarray(predictions, dtype=np.int64)
    if len(predictions) != len(pool):
        raise ConfigError(f"{len(predictions)} predictions for {len(pool)} problems")
    correct = predictions == pool.table["answer"].to_numpy(dtype=np.int64)
    by_category = category_accuracy(correct, pool.categories())

    def cell(entry: dict[str, float]) -> dict[str, Any]:
        count = int(entry["count"])
        return {"accuracy": entry["accuracy"] if count else None,
                "correct": round(entry["accuracy"] * count) if count else 0, "count": count}

    return {
        **cell(by_category["overall"]),
        "chance": chance_accuracy(pool.table["choices"].map(len).tolist()) if len(pool) else None,
        "unparsed": int((predictions < 0).sum()),
        "categories": {name: cell(by_category[name]) for name in CATEGORIES},
    }


def format_metrics(metrics: dict[str, Any], *, title: str = "") -> str:
    """The summary table printed after evaluation.

    Example:
        >>> print(format_metrics({"accuracy": 0.5, "correct": 1, "count": 2, "chance": 0.5, "unparsed": 0,
        ...                       "categories": {"NAT": {"accuracy": 0.5, "correct": 1, "count": 2}}}))
        category  count  accuracy
        overall       2     50.00
        NAT           2     50.00
        chance              50.00
    """
    def pct(x: float | None) -> str:
        return "     -" if x is None else f"{100 * x:6.2f}"

    lines = [title] if title else []
    lines.append(f"{'category':<8}  {'count':>5}  accuracy")
    lines.append(f"{'overall':<8}  {metrics['count']:>5}  {pct(metrics['accuracy']):>8}")
    for name, c in metrics["categories"].items():
        lines.append(f"{name:<8}  {c['count']:>5}  {pct(c['accuracy']):>8}")
    lines.append(f"{'chance':<8}  {'':>5}  {pct(metrics['chance']):>8}")
    if metrics.get("unparsed"):
        lines.append(f"({metrics['unparsed']} generated answers could not be parsed and count as wrong)")
    return "\n".join(lines)
