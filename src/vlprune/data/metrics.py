"""ScienceQA's evaluation vocabulary: accuracy overall and per category, and chance.

These are data contracts shared by the trainer (``metrics.json``) and the comparison
(``results.csv``, ``summary.md``), so they live with the record schema, below both. The
categories are those of :data:`vlprune.data.schema.CATEGORIES`, computed by
:meth:`vlprune.data.pool.Pool.categories`.

A category is computed over the records whose fields decide it: on real ScienceQA the grade
is known for 1,797 of the 4,241 test problems, so G1-6 / G7-12 are accuracies over those
1,797 only. Every category therefore carries ``known`` (the records it is decided for) beside
``count`` (the records in it), and :func:`coverage_notes` turns them into the sentence a
report prints ("G1-6 / G7-12 over 1,797 of 4,241 problems").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vlprune.data.schema import CATEGORIES, CATEGORY_FAMILIES
from vlprune.errors import ConfigError

if TYPE_CHECKING:
    from vlprune.data.pool import Pool


def category_accuracy(correct: np.ndarray, categories: pd.DataFrame,
                      known: pd.DataFrame | None = None) -> dict[str, dict[str, float]]:
    """Accuracy overall and per ScienceQA category, each with its question count, and with
    ``known`` (how many questions the category is decided for) when ``known`` is given.

    ``categories`` is :meth:`vlprune.data.pool.Pool.categories` of the test pool, ``known``
    its :meth:`~vlprune.data.pool.Pool.category_known`.

    Example:
        >>> cats = pd.DataFrame({c: [True, False] for c in CATEGORIES})
        >>> category_accuracy(np.array([1, 0]), cats)["NAT"]
        {'accuracy': 1.0, 'count': 1}
        >>> category_accuracy(np.array([1, 0]), cats, cats | True)["NAT"]
        {'accuracy': 1.0, 'count': 1, 'known': 2}
    """
    correct = np.asarray(correct, dtype=float)
    out = {"overall": {"accuracy": float(correct.mean()) if len(correct) else float("nan"),
                       "count": len(correct)}}
    for cat in CATEGORIES:
        mask = categories[cat].to_numpy(dtype=bool)
        count = int(mask.sum())
        out[cat] = {"accuracy": float(correct[mask].mean()) if count else float("nan"), "count": count}
        if known is not None:
            out[cat]["known"] = int(known[cat].to_numpy(dtype=bool).sum())
    return out


def coverage_notes(known: dict[str, int], total: int, *, what: str = "problems") -> list[str]:
    """One line per category family decided for fewer than all ``total`` records, e.g.
    ``G1-6 / G7-12 over 1,797 of 4,241 problems (grade unknown for the rest)``.

    ``known`` maps each category to the records it is decided for (the ``known`` of
    :func:`category_accuracy`, or ``Pool.category_known().sum()``). Categories of one family
    decided for the same records share a line.

    Example:
        >>> coverage_notes({"NAT": 10, "G1-6": 4, "G7-12": 4}, 10)
        ['G1-6 / G7-12 over 4 of 10 problems (grade unknown for the rest)']
    """
    notes = []
    for family, fields in CATEGORY_FAMILIES.items():
        short = {}
        for cat in family:
            if cat in known and known[cat] < total:
                short.setdefault(int(known[cat]), []).append(cat)
        for n, cats in short.items():
            reads = " or ".join(f for f in fields if f != "image")
            notes.append(f"{' / '.join(cats)} over {n:,} of {total:,} {what} ({reads} unknown for the rest)")
    return notes


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

    Each category also has ``known``: the problems its membership is decided for (a problem
    whose grade is unknown is in neither G1-6 nor G7-12, so those two are accuracies over
    ``known`` problems, not over all). ``known_fields`` counts the problems that know each
    field the categories read (subject, hint, grade), out of ``count``.

    Example:
        >>> from vlprune import load_pool
        >>> pool = load_pool("synthetic", size="tiny", split="test")
        >>> m = score_predictions(pool, pool.table["answer"])
        >>> m["accuracy"], m["count"], m["unparsed"], m["categories"]["G1-6"]["known"]
        (1.0, 50, 0, 50)
        >>> m["known_fields"]
        {'subject': 50, 'hint': 50, 'grade': 50}
    """
    from vlprune.data.pool import field_coverage

    predictions = np.asarray(predictions, dtype=np.int64)
    if len(predictions) != len(pool):
        raise ConfigError(f"{len(predictions)} predictions for {len(pool)} problems")
    correct = predictions == pool.table["answer"].to_numpy(dtype=np.int64)
    by_category = category_accuracy(correct, pool.categories(), pool.category_known())

    def cell(entry: dict[str, float]) -> dict[str, Any]:
        count = int(entry["count"])
        out = {"accuracy": entry["accuracy"] if count else None,
               "correct": round(entry["accuracy"] * count) if count else 0, "count": count}
        if "known" in entry:
            out["known"] = int(entry["known"])
        return out

    return {
        **cell(by_category["overall"]),
        "chance": chance_accuracy(pool.table["choices"].map(len).tolist()) if len(pool) else None,
        "unparsed": int((predictions < 0).sum()),
        "categories": {name: cell(by_category[name]) for name in CATEGORIES},
        "known_fields": field_coverage(pool, ("subject", "hint", "grade")),
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
    known = {name: c["known"] for name, c in metrics["categories"].items() if "known" in c}
    lines += [f"({note})" for note in coverage_notes(known, metrics["count"])]
    if metrics.get("unparsed"):
        lines.append(f"({metrics['unparsed']} generated answers could not be parsed and count as wrong)")
    return "\n".join(lines)
