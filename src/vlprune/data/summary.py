"""What a subset is made of, beside its pool: the numbers ``vlprune select`` and
``vlprune inspect`` print.

Every field reported comes with how many records know it: on real ScienceQA the subject of
7,132 of the 12,237 training problems is unknown, and a table of subjects that silently left
them out (or counted them as a subject) would mislead. Unknown values are shown as
``(unknown)``, empty ones as ``(none)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from vlprune.data.pool import UNKNOWN_LABEL, Pool
from vlprune.data.schema import MAYBE_UNKNOWN

EMPTY_LABEL = "(none)"
#: The fields the summaries report, in order.
REPORTED = ("subject", "topic", "skill", "grade", "source")


def field_labels(pool: Pool, field: str, positions: Sequence[int] | np.ndarray | None = None) -> pd.Series:
    """The field as display text, for the records at ``positions`` (default all): unknown ->
    ``(unknown)``, empty -> ``(none)``, anything else its text.

    Example:
        >>> from vlprune.data.pool import DatasetRef, records_to_table
        >>> from vlprune.data.schema import validate_problem
        >>> records = [validate_problem({"question": "Q?", "choices": ["a", "b"], "answer": 0,
        ...                              "split": "train", "grade": grade, "hint": hint},
        ...                             record_id=str(i), file=None)
        ...            for i, (grade, hint) in enumerate([("grade3", ""), (None, None)])]
        >>> pool = Pool(records_to_table(records), DatasetRef("example", None, "train"))
        >>> field_labels(pool, "grade").tolist(), field_labels(pool, "hint").tolist()
        (['3', '(unknown)'], ['(none)', '(unknown)'])
    """
    positions = None if positions is None else np.asarray(positions, dtype=np.int64)
    col = pool.table[field] if positions is None else pool.table[field].iloc[positions]
    known = pool.known(field) if positions is None else pool.known(field)[positions]
    # A list, not Series.map: pandas turns a None that map returns into NaN.
    return pd.Series([(str(v) or EMPTY_LABEL) if k else UNKNOWN_LABEL
                      for v, k in zip(col.tolist(), known, strict=True)], dtype=object, name=field)


def _known_values(pool: Pool, field: str, positions: np.ndarray | None = None) -> set[str]:
    labels = field_labels(pool, field, positions)
    return set(labels) - {UNKNOWN_LABEL, EMPTY_LABEL}


def known_counts(pool: Pool, positions: Sequence[int] | np.ndarray,
                 fields: Sequence[str] = REPORTED) -> dict[str, dict[str, int]]:
    """For each reported field the pool has, how many records know it, in the subset and in
    the pool: ``{"grade": {"subset": 412, "pool": 5105}}``.

    Example:
        >>> pool = load_pool("synthetic", size="tiny")
        >>> known_counts(pool, range(20), ["grade"])
        {'grade': {'subset': 20, 'pool': 200}}
    """
    positions = np.asarray(positions, dtype=np.int64)
    out = {}
    for field in fields:
        if field in pool.table.columns:
            known = pool.known(field)
            out[field] = {"subset": int(known[positions].sum()), "pool": int(known.sum())}
    return out


def subset_summary(pool: Pool, positions: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """k, pool size, counts per subject, image share, skills covered, and how many records
    know each reported field (``known``).

    Example:
        >>> from vlprune import load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> s = subset_summary(pool, range(20))
        >>> s["k"], s["pool_size"], s["known"]["subject"]
        (20, 200, {'subset': 20, 'pool': 200})
    """
    positions = np.asarray(positions, dtype=np.int64)
    sub = pool.table.iloc[positions]
    summary: dict[str, Any] = {
        "k": len(positions),
        "pool_size": len(pool),
        "image_share": float((sub["image"] != "").mean()) if len(sub) else 0.0,
        "pool_image_share": float(pool.has_image.mean()) if len(pool) else 0.0,
    }
    for field in ("subject", "source"):
        if pool.has_field(field) and field_labels(pool, field).nunique() > 1:
            summary[f"per_{field}"] = field_labels(pool, field, positions).value_counts().to_dict()
    for field in ("skill", "topic"):
        if pool.has_field(field):
            values = _known_values(pool, field)
            summary[f"{field}s_covered"] = len(_known_values(pool, field, positions) & values)
            summary[f"{field}s_total"] = len(values)
    summary["known"] = {f: c for f, c in known_counts(pool, positions).items() if pool.has_field(f)}
    return summary


def format_known(known: dict[str, dict[str, int]], k: int, pool_size: int) -> str | None:
    """The line saying which reported fields are unknown for some records; None when every
    record knows every one."""
    partial: dict[tuple[int, int], list[str]] = {}
    for field, c in known.items():
        if c["pool"] < pool_size or c["subset"] < k:
            partial.setdefault((c["subset"], c["pool"]), []).append(field)
    if not partial:
        return None
    return "  known for: " + "; ".join(
        f"{', '.join(fields)} {n_sub:,} of {k:,} selected ({n_pool:,} of {pool_size:,} in the pool)"
        for (n_sub, n_pool), fields in partial.items())


def format_summary(summary: dict[str, Any], *, title: str = "selection") -> str:
    """A few human-readable lines for :func:`subset_summary`."""
    lines = [f"{title}: k={summary['k']} of {summary['pool_size']} records"]
    for field in ("subject", "source"):
        counts = summary.get(f"per_{field}")
        if counts:
            lines.append(f"  per {field}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    lines.append(f"  image share: {summary['image_share']:.1%} (pool {summary['pool_image_share']:.1%})")
    for field in ("skill", "topic"):
        if f"{field}s_total" in summary:
            lines.append(f"  {field}s covered: {summary[f'{field}s_covered']} of {summary[f'{field}s_total']}"
                         + (" known values" if summary.get("known", {}).get(field, {}).get("pool", -1)
                            < summary["pool_size"] else ""))
    known_line = format_known(summary.get("known", {}), summary["k"], summary["pool_size"])
    if known_line:
        lines.append(known_line)
    return "\n".join(lines)


def _share_table(pool_col: pd.Series, sub_col: pd.Series, top: int) -> pd.DataFrame:
    pool_counts = pool_col.value_counts()
    sub_counts = sub_col.value_counts().reindex(pool_counts.index, fill_value=0)
    table = pd.DataFrame({
        "subset": sub_counts,
        "subset %": (100 * sub_counts / max(len(sub_col), 1)).round(1),
        "pool": pool_counts,
        "pool %": (100 * pool_counts / max(len(pool_col), 1)).round(1),
    })
    return table.head(top)


def known_note(pool: Pool, field: str, positions: np.ndarray) -> str:
    """``known for 412 of 1,000 selected and 5,105 of 12,237 in the pool``, or "" when every
    record of the pool knows the field."""
    known = pool.known(field)
    if known.all():
        return ""
    return (f"known for {int(known[positions].sum()):,} of {len(positions):,} selected and "
            f"{int(known.sum()):,} of {len(pool):,} in the pool")


def format_coverage(pool: Pool, positions: Sequence[int] | np.ndarray) -> str:
    """How many records know each field that may be unknown, in the subset and the pool.

    Example:
        >>> print(format_coverage(load_pool("synthetic", size="tiny"), range(5)))
        every field is known for every record (200 in the pool)
    """
    positions = np.asarray(positions, dtype=np.int64)
    counts = known_counts(pool, positions, MAYBE_UNKNOWN)
    if all(c["pool"] == len(pool) for c in counts.values()):
        return f"every field is known for every record ({len(pool):,} in the pool)"
    lines = ["records that know each field (unknown: absent in the source):",
             f"  {'field':<9} {'selected':>9} {'pool':>9}",
             *(f"  {f:<9} {c['subset']:>9,} {c['pool']:>9,}" for f, c in counts.items()),
             f"  {'of':<9} {len(positions):>9,} {len(pool):>9,}"]
    return "\n".join(lines)


def format_comparison(pool: Pool, positions: Sequence[int] | np.ndarray, *, top: int = 15) -> str:
    """The subset's make-up beside the pool's: per subject and topic, image share, grade
    histogram, and the skills covered and missed; each field with how many records know it,
    unknown values counted as ``(unknown)``."""
    positions = np.asarray(positions, dtype=np.int64)
    sub = pool.table.iloc[positions]
    out = [format_coverage(pool, positions)]
    for field in ("subject", "topic", "source"):
        labels = field_labels(pool, field)
        if pool.has_field(field) and labels.nunique() > 1:
            table = _share_table(labels, field_labels(pool, field, positions), top)
            more = labels.nunique() - len(table)
            note = known_note(pool, field, positions)
            out.append(f"\nper {field}" + (f" (top {top}; {more} more)" if more > 0 else "")
                       + (f"; {note}, the rest {UNKNOWN_LABEL}" if note else "") + ":")
            out.append(table.to_string())
    out.append(f"\nimage share: subset {(sub['image'] != '').mean():.1%}, pool {pool.has_image.mean():.1%}")
    if pool.has_field("grade"):
        grades = _share_table(field_labels(pool, "grade"), field_labels(pool, "grade", positions), 13)
        grades = grades.sort_index(key=lambda idx: idx.map(lambda g: int(g) if g.isdigit() else 99))
        note = known_note(pool, "grade", positions)
        out.append("\ngrade histogram" + (f"; {note}, the rest {UNKNOWN_LABEL}" if note else "") + ":")
        out.append(grades.to_string())
    if pool.has_field("skill"):
        labels = field_labels(pool, "skill")
        all_skills = labels[~labels.isin([UNKNOWN_LABEL, EMPTY_LABEL])].value_counts()
        covered = _known_values(pool, "skill", positions)
        missed = [s for s in all_skills.index if s not in covered]
        note = known_note(pool, "skill", positions)
        out.append(f"\nskills covered: {len(all_skills) - len(missed)} of {len(all_skills)}"
                   + (f" (skill {note})" if note else ""))
        if missed:
            shown = ", ".join(f"{s} ({all_skills[s]})" for s in missed[:top])
            out.append(f"skills missed (pool count): {shown}" + (" ..." if len(missed) > top else ""))
    return "\n".join(out)
