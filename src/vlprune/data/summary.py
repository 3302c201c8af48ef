"""What a subset is made of, beside its pool: the numbers ``vlprune select`` and
``vlprune inspect`` print."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from vlprune.data.pool import Pool


def subset_summary(pool: Pool, positions: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """k, pool size, counts per subject, image share and skills covered.

    Example:
        >>> from vlprune import load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> s = subset_summary(pool, range(20))
        >>> s["k"], s["pool_size"]
        (20, 200)
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
        if pool.has_field(field) and pool.table[field].nunique() > 1:
            summary[f"per_{field}"] = sub[field].replace("", "(none)").value_counts().to_dict()
    for field in ("skill", "topic"):
        if pool.has_field(field):
            values = set(pool.table[field]) - {""}
            summary[f"{field}s_covered"] = len(set(sub[field]) & values)
            summary[f"{field}s_total"] = len(values)
    return summary


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
            lines.append(f"  {field}s covered: {summary[f'{field}s_covered']} of {summary[f'{field}s_total']}")
    return "\n".join(lines)


def _share_table(pool_col: pd.Series, sub_col: pd.Series, top: int) -> pd.DataFrame:
    pool_counts = pool_col.replace("", "(none)").value_counts()
    sub_counts = sub_col.replace("", "(none)").value_counts().reindex(pool_counts.index, fill_value=0)
    table = pd.DataFrame({
        "subset": sub_counts,
        "subset %": (100 * sub_counts / max(len(sub_col), 1)).round(1),
        "pool": pool_counts,
        "pool %": (100 * pool_counts / max(len(pool_col), 1)).round(1),
    })
    return table.head(top)


def format_comparison(pool: Pool, positions: Sequence[int] | np.ndarray, *, top: int = 15) -> str:
    """The subset's make-up beside the pool's: per subject and topic, image share, grade
    histogram, and the skills covered and missed."""
    positions = np.asarray(positions, dtype=np.int64)
    sub = pool.table.iloc[positions]
    out = []
    for field in ("subject", "topic", "source"):
        if pool.has_field(field) and pool.table[field].nunique() > 1:
            table = _share_table(pool.table[field], sub[field], top)
            more = pool.table[field].nunique() - len(table)
            out.append(f"\nper {field}" + (f" (top {top}; {more} more)" if more > 0 else "") + ":")
            out.append(table.to_string())
    out.append(f"\nimage share: subset {(sub['image'] != '').mean():.1%}, pool {pool.has_image.mean():.1%}")
    if pool.has_field("grade"):
        grades = _share_table(pool.table["grade"].astype(str), sub["grade"].astype(str), 12)
        grades = grades.sort_index(key=lambda idx: idx.map(lambda g: int(g) if g.isdigit() else 99))
        out.append("\ngrade histogram:")
        out.append(grades.to_string())
    if pool.has_field("skill"):
        all_skills = pool.table["skill"].value_counts()
        covered = set(sub["skill"])
        missed = [s for s in all_skills.index if s not in covered]
        out.append(f"\nskills covered: {len(all_skills) - len(missed)} of {len(all_skills)}")
        if missed:
            shown = ", ".join(f"{s} ({all_skills[s]})" for s in missed[:top])
            out.append(f"skills missed (pool count): {shown}" + (" ..." if len(missed) > top else ""))
    return "\n".join(out)
