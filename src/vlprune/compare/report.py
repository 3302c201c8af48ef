"""Tables and plots of a comparison: results.csv, summary.md, learning_curve.png, categories.png."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vlprune.compare.grid import FULL
from vlprune.compare.stats import mean_ci, paired_bootstrap
from vlprune.data.schema import CATEGORIES
from vlprune.io import atomic_open, atomic_path

BASELINE = "random"


def results_table(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per cell: selector, k, seed, accuracy, per-category accuracy, cost, wall time."""
    rows = []
    for r in records:
        row = {"selector": r["selector"], "k": r["k"], "seed": r["seed"], "scorer": r["scorer"],
               "proxy": r["proxy"], "accuracy": r["accuracy"]}
        row.update({cat: r["categories"][cat]["accuracy"] for cat in CATEGORIES})
        row.update({"n_train": r["n_train"], "epochs": r["epochs"], "cost_example_epochs": r["cost_example_epochs"],
                    "select_s": round(r["select_s"], 3), "wall_s": round(r["wall_s"], 3)})
        rows.append(row)
    return pd.DataFrame(rows)


def aggregate(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Per (selector, k): mean accuracy over seeds with its 95% interval, per-category means."""
    table = results_table(records)
    rows = []
    for (selector, k), group in table.groupby(["selector", "k"], sort=False):
        ci = mean_ci(group["accuracy"].tolist())
        row = {"selector": selector, "k": int(k), "seeds": ci.n, "accuracy": ci.mean, "ci_lo": ci.lo, "ci_hi": ci.hi}
        row.update({cat: group[cat].mean() for cat in CATEGORIES})
        row["wall_s"] = group["wall_s"].mean()
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["k", "selector"], kind="stable").reset_index(drop=True)


def versus_random(records: Sequence[dict[str, Any]], *, n_boot: int = 2000, seed: int = 0,
                  baseline: str = BASELINE) -> pd.DataFrame:
    """Paired bootstrap over test questions of each selector against ``baseline`` at the same k.

    Per question, correctness is averaged over the seeds each side has; the interval is that
    of the mean difference (selector - baseline).
    """
    by_cell: dict[tuple[str, int], list[np.ndarray]] = {}
    for r in records:
        by_cell.setdefault((r["selector"], r["k"]), []).append(np.asarray(r["correct"], dtype=float))
    rows = []
    for (selector, k), runs in by_cell.items():
        if selector in (baseline, FULL) or (baseline, k) not in by_cell:
            continue
        a = np.mean(runs, axis=0)
        b = np.mean(by_cell[(baseline, k)], axis=0)
        d = paired_bootstrap(a, b, n_boot=n_boot, seed=seed)
        rows.append({"selector": selector, "k": k, "diff": d.diff, "ci_lo": d.lo, "ci_hi": d.hi,
                     "significant": d.significant, "questions": d.n_questions})
    return pd.DataFrame(rows, columns=["selector", "k", "diff", "ci_lo", "ci_hi", "significant", "questions"])


def _pct(x: float) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{100 * x:.1f}"


def summary_markdown(records: Sequence[dict[str, Any]], *, scorer: str, proxy: bool, n_boot: int = 2000,
                     chance: float | None = None) -> str:
    """The markdown report: accuracy per selector and k, differences to random, categories."""
    agg = aggregate(records)
    vs = versus_random(records, n_boot=n_boot)
    lines = [f"# Selector comparison ({scorer} scorer{', a PROXY' if proxy else ''})", ""]
    if proxy:
        lines += ["> The probe scorer is a fast proxy (a bilinear classifier on frozen text embeddings), "
                  "not a trained vision-language model. Use it to rank selectors quickly; confirm with "
                  "`--scorer llava`.", ""]
    if chance is not None:
        lines += [f"Chance level (mean of 1 / number of choices over the test split): {_pct(chance)}%.", ""]
    lines += ["## Accuracy (%) by selector and budget", "",
              "Mean over seeds with a 95% t-interval across seeds.", "",
              "| selector | k | seeds | accuracy | 95% interval |", "|---|---:|---:|---:|---|"]
    for _, r in agg.iterrows():
        interval = "-" if not np.isfinite(r.ci_lo) else f"[{_pct(r.ci_lo)}, {_pct(r.ci_hi)}]"
        lines.append(f"| {r.selector} | {r.k} | {r.seeds} | {_pct(r.accuracy)} | {interval} |")
    lines += ["", "## Difference to random at the same k (percentage points)", "",
              "Paired bootstrap over test questions (correctness averaged over seeds); "
              f"{n_boot} resamples, 95% percentile interval. *Significant* means the interval excludes 0.",
              "", "| selector | k | difference | 95% interval | significant |", "|---|---:|---:|---|---|"]
    for _, r in vs.iterrows():
        lines.append(f"| {r.selector} | {r.k} | {100 * r['diff']:+.1f} | [{100 * r.ci_lo:+.1f}, {100 * r.ci_hi:+.1f}] | "
                     f"{'yes' if r.significant else 'no'} |")
    if vs.empty:
        lines.append("| (no random baseline in this grid) | | | | |")
    lines += ["", "## Accuracy (%) per ScienceQA category (mean over seeds)", "",
              "| selector | k | " + " | ".join(CATEGORIES) + " |", "|---|---:|" + "---:|" * len(CATEGORIES)]
    for _, r in agg.iterrows():
        lines.append(f"| {r.selector} | {r.k} | " + " | ".join(_pct(r[c]) for c in CATEGORIES) + " |")
    table = results_table(records)
    lines += ["", "## Cost", "",
              f"Total wall time {table['wall_s'].sum():.0f} s over {len(table)} cells; "
              "cost = training examples x epochs per cell is in results.csv.", ""]
    return "\n".join(lines)


def plot_learning_curve(records: Sequence[dict[str, Any]], path: str | Path, *, title: str = "",
                        chance: float | None = None) -> None:
    """Accuracy against k per selector, with 95% interval bands, the full-data line and the
    chance level (when given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = aggregate(records)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for selector, group in agg[agg["selector"] != FULL].groupby("selector", sort=False):
        group = group.sort_values("k")
        ax.plot(group["k"], 100 * group["accuracy"], marker="o", label=selector)
        if group["ci_lo"].notna().all():
            ax.fill_between(group["k"], 100 * group["ci_lo"], 100 * group["ci_hi"], alpha=0.2)
    full = agg[agg["selector"] == FULL]
    if not full.empty:
        r = full.iloc[0]
        ax.axhline(100 * r.accuracy, color="black", linestyle="--", label=f"full data (n={r.k})")
        if np.isfinite(r.ci_lo):
            ax.axhspan(100 * r.ci_lo, 100 * r.ci_hi, color="black", alpha=0.08)
    if chance is not None:
        ax.axhline(100 * chance, color="grey", linestyle=":", label=f"chance ({100 * chance:.1f}%)")
    ax.set_xscale("log")
    ks = sorted(agg.loc[agg["selector"] != FULL, "k"].unique())
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # only the budgets are labelled
    ax.set_xlabel("training examples selected (k)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title or "Learning curve")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def plot_categories(records: Sequence[dict[str, Any]], path: str | Path, *, k: int | None = None,
                    title: str = "") -> None:
    """Grouped bars: accuracy per ScienceQA category for each selector at budget ``k``
    (default: the largest budget in the grid), with the full-data reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = aggregate(records)
    budgets = agg.loc[agg["selector"] != FULL, "k"]
    k = int(budgets.max()) if k is None else k
    rows = agg[(agg["k"] == k) | (agg["selector"] == FULL)]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / max(len(rows), 1)
    x = np.arange(len(CATEGORIES))
    for i, (_, r) in enumerate(rows.iterrows()):
        label = f"full data (n={r.k})" if r.selector == FULL else r.selector
        ax.bar(x + i * width - 0.4 + width / 2, [100 * r[c] for c in CATEGORIES], width, label=label)
    ax.set_xticks(x, CATEGORIES)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{title or 'Accuracy per category'}: selectors at k={k}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(rows), frameon=False)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def write_report(records: Sequence[dict[str, Any]], out: str | Path, *, scorer: str, proxy: bool,
                 n_boot: int = 2000, chance: float | None = None) -> None:
    """Write results.csv, summary.md, learning_curve.png and categories.png into ``out``."""
    out = Path(out)
    with atomic_open(out / "results.csv", "w", newline="") as f:
        results_table(records).to_csv(f, index=False)
    with atomic_open(out / "summary.md", "w", encoding="utf-8") as f:
        f.write(summary_markdown(records, scorer=scorer, proxy=proxy, n_boot=n_boot, chance=chance))
    tag = f" ({scorer} scorer{', proxy' if proxy else ''})"
    plot_learning_curve(records, out / "learning_curve.png", title="Learning curve" + tag, chance=chance)
    plot_categories(records, out / "categories.png", title="Accuracy per category" + tag)
