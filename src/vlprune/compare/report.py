"""Tables and plots of a comparison: results.csv, summary.md, learning_curve.png, categories.png,
cost.png."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vlprune.compare.grid import FULL
from vlprune.compare.stats import (
    holm,
    mean_ci,
    min_detectable_difference,
    paired_bootstrap,
    pooled_sd,
    seed_test,
)
from vlprune.data.schema import CATEGORIES
from vlprune.io import atomic_open, atomic_path

BASELINE = "random"
#: The family-wise error rate of the verdicts (Holm over every selector x k against random).
ALPHA = 0.05
#: The power at which the minimum detectable difference is quoted.
POWER = 0.8
QUESTIONS_ONLY = "questions only, models fixed: not a significance test of the selector"


def results_table(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per cell: selector, k, seed, accuracy, per-category accuracy, cost, wall time.

    Cost columns: ``embed_s`` (embedding the pool for the selection: computed on the first
    cell, read back from the cache after), ``select_s`` (the selection itself), ``score_s``
    (training and evaluation), ``cost_s`` (their sum) and ``wall_s`` (the whole cell).
    """
    rows = []
    for r in records:
        row = {"selector": r["selector"], "k": r["k"], "seed": r["seed"], "scorer": r["scorer"],
               "proxy": r["proxy"], "accuracy": r["accuracy"]}
        row.update({cat: r["categories"][cat]["accuracy"] for cat in CATEGORIES})
        # Cells written before the cost split lack embed_s / score_s.
        embed_s = r.get("embed_s", 0.0)
        score_s = r.get("score_s", r["wall_s"] - r["select_s"])
        row.update({"n_train": r["n_train"], "epochs": r["epochs"], "cost_example_epochs": r["cost_example_epochs"],
                    "embed_s": round(embed_s, 3), "select_s": round(r["select_s"], 3),
                    "score_s": round(score_s, 3), "cost_s": round(embed_s + r["select_s"] + score_s, 3),
                    "wall_s": round(r["wall_s"], 3)})
        rows.append(row)
    return pd.DataFrame(rows)


def aggregate(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Per (selector, k): mean accuracy over seeds with its 95% interval (NaN with one seed or
    when every seed gave the same accuracy), the seed SD, per-category means, mean costs."""
    table = results_table(records)
    rows = []
    for (selector, k), group in table.groupby(["selector", "k"], sort=False):
        acc = group["accuracy"].to_numpy(dtype=float)
        ci = mean_ci(acc)
        row = {"selector": selector, "k": int(k), "seeds": ci.n, "accuracy": ci.mean, "ci_lo": ci.lo,
               "ci_hi": ci.hi, "seed_sd": float(acc.std(ddof=1)) if len(acc) > 1 else float("nan"),
               "identical": bool(len(acc) > 1 and np.ptp(acc) == 0)}
        row.update({cat: group[cat].mean() for cat in CATEGORIES})
        row.update({col: group[col].mean() for col in ("embed_s", "select_s", "score_s", "cost_s", "wall_s")})
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["k", "selector"], kind="stable").reset_index(drop=True)


def _seed_accuracies(records: Sequence[dict[str, Any]]) -> dict[tuple[str, int], dict[int, dict[str, Any]]]:
    cells: dict[tuple[str, int], dict[int, dict[str, Any]]] = {}
    for r in records:
        cells.setdefault((r["selector"], int(r["k"])), {})[int(r["seed"])] = r
    return cells


def versus_random(records: Sequence[dict[str, Any]], *, test: str = "welch", alpha: float = ALPHA,
                  n_boot: int = 2000, seed: int = 0, baseline: str = BASELINE) -> pd.DataFrame:
    """Each selector against ``baseline`` at the same k: the verdict, and what it rests on.

    The verdict is a test with the seeds as samples (:func:`~vlprune.compare.stats.seed_test`:
    Welch's t on per-seed accuracies, or ``test="paired"`` on per-seed differences over the
    seeds both sides ran), so it accounts for selection-and-training noise. The p-values are
    Holm-adjusted over every comparison in ``records`` (``p_holm``); ``verdict`` is "beats
    random" / "loses to random" when ``p_holm < alpha``, "no detectable difference" when
    not, "no verdict: ..." when the seeds cannot support a test.

    ``q_lo``/``q_hi`` are the secondary, questions-only interval: a paired bootstrap over
    test questions of the seed-averaged correctness (``n_boot`` resamples; 0 skips it). It
    treats the trained models as fixed and is NOT a significance test of the selector.
    """
    columns = ["selector", "k", "seeds", "seeds_baseline", "diff", "ci_lo", "ci_hi", "p", "p_holm",
               "significant", "verdict", "test", "q_lo", "q_hi", "questions"]
    cells = _seed_accuracies(records)
    rows = []
    for (selector, k), runs in cells.items():
        if selector in (baseline, FULL) or (baseline, k) not in cells:
            continue
        base = cells[(baseline, k)]
        if test == "paired":
            common = sorted(set(runs) & set(base))
            a = [runs[s]["accuracy"] for s in common]
            b = [base[s]["accuracy"] for s in common]
        else:
            a = [r["accuracy"] for r in runs.values()]
            b = [r["accuracy"] for r in base.values()]
        t = seed_test(a, b, test=test)
        row = {"selector": selector, "k": k, "seeds": len(runs), "seeds_baseline": len(base), "diff": t.diff,
               "ci_lo": t.lo, "ci_hi": t.hi, "p": t.p, "test": test, "reason": t.reason,
               "q_lo": float("nan"), "q_hi": float("nan"), "questions": 0}
        if n_boot > 0:
            qa = np.mean([np.asarray(r["correct"], dtype=float) for r in runs.values()], axis=0)
            qb = np.mean([np.asarray(r["correct"], dtype=float) for r in base.values()], axis=0)
            d = paired_bootstrap(qa, qb, n_boot=n_boot, seed=seed)
            row.update(q_lo=d.lo, q_hi=d.hi, questions=d.n_questions)
        rows.append(row)
    out = pd.DataFrame(rows, columns=[*columns, "reason"])
    out["p_holm"] = holm(out["p"].to_numpy(dtype=float)) if len(out) else []
    out["significant"] = out["p_holm"] < alpha
    out["verdict"] = [_verdict(r, alpha, baseline) for _, r in out.iterrows()]
    return out[columns]


def _verdict(row: pd.Series, alpha: float, baseline: str) -> str:
    if not np.isfinite(row["p"]):
        return f"no verdict: {row['reason']}"
    if row["p_holm"] < alpha:
        return f"beats {baseline}" if row["diff"] > 0 else f"loses to {baseline}"
    return "no detectable difference"


def detectable(records: Sequence[dict[str, Any]], *, test: str = "welch", alpha: float = ALPHA,
               power: float = POWER, comparisons: int | None = None) -> pd.DataFrame:
    """The grid's minimum detectable difference, per k and overall (``k = "all"``).

    From the pooled seed-to-seed SD of every selector at that k (each about its own mean)
    and the fewest seeds any of them ran: the true difference to random that the seed-level
    test finds with probability ``power`` at level ``alpha`` (``mdd``) and at ``alpha /
    comparisons`` (``mdd_holm``: the bar Holm sets for the strongest of the grid's
    comparisons; the weaker ones face bars between the two).
    """
    table = results_table(records)
    table = table[table["selector"] != FULL]
    rows = []
    for k, part in [*table.groupby("k"), ("all", table)]:
        groups = [g["accuracy"].to_numpy() for _, g in part.groupby(["selector", "k"])]
        sd, df = pooled_sd(groups)
        n = min(len(g) for g in groups) if groups else 0
        m = comparisons or 1
        rows.append({"k": k, "seeds": n, "pooled_sd": sd, "sd_df": df,
                     "mdd": min_detectable_difference(sd, n, alpha=alpha, power=power, test=test),
                     "mdd_holm": min_detectable_difference(sd, n, alpha=alpha / m, power=power, test=test)})
    return pd.DataFrame(rows)


def _pct(x: float) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{100 * x:.1f}"


def _pts(x: float) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{100 * x:+.1f}"


def _p(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "-"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def summary_markdown(records: Sequence[dict[str, Any]], *, scorer: str, proxy: bool, n_boot: int = 2000,
                     chance: float | None = None, test: str = "welch", alpha: float = ALPHA,
                     notes: Sequence[str] = ()) -> str:
    """The markdown report: accuracy per selector and k, verdicts against random (seed-level,
    Holm-adjusted) with the grid's minimum detectable difference, categories, cost.

    ``notes`` are printed under the category table (which categories are decided for fewer
    than all test problems, what the IMG column measures)."""
    agg = aggregate(records)
    vs = versus_random(records, n_boot=n_boot, test=test, alpha=alpha)
    lines = [f"# Selector comparison ({scorer} scorer{', a PROXY' if proxy else ''})", ""]
    if proxy:
        lines += ["> The probe scorer is a fast proxy (a bilinear classifier on frozen text embeddings), "
                  "not a trained vision-language model. Use it to rank selectors quickly; confirm with "
                  "`--scorer llava`.", ""]
    if chance is not None:
        lines += [f"Chance level (mean of 1 / number of choices over the test split): {_pct(chance)}%.", ""]
    lines += ["## Accuracy (%) by selector and budget", "",
              "Mean over seeds with a 95% t-interval across seeds (none with one seed, or when every "
              "seed gave the same accuracy: then the runs did not vary with the seed and the seeds "
              "say nothing about noise).", "",
              "| selector | k | seeds | accuracy | 95% interval | seed SD |", "|---|---:|---:|---:|---|---:|"]
    for _, r in agg.iterrows():
        if r.identical:
            interval = "- (seeds identical)"
        else:
            interval = "-" if not np.isfinite(r.ci_lo) else f"[{_pct(r.ci_lo)}, {_pct(r.ci_hi)}]"
        lines.append(f"| {r.selector} | {r.k} | {r.seeds} | {_pct(r.accuracy)} | {interval} | {_pct(r.seed_sd)} |")
    lines += ["", *_verdict_section(records, vs, test=test, alpha=alpha, n_boot=n_boot)]
    lines += ["", "## Accuracy (%) per ScienceQA category (mean over seeds)", "",
              "| selector | k | " + " | ".join(CATEGORIES) + " |", "|---|---:|" + "---:|" * len(CATEGORIES)]
    for _, r in agg.iterrows():
        lines.append(f"| {r.selector} | {r.k} | " + " | ".join(_pct(r[c]) for c in CATEGORIES) + " |")
    if notes:
        lines += ["", *[f"* {note}" for note in notes]]
    table = results_table(records)
    lines += ["", "## Cost (seconds per cell, mean over seeds)", "",
              "Embedding: the pool embedded for the selection (computed on a selector's first cell, "
              "read back from the cache after). Training: the scorer's training and evaluation. "
              "cost.png plots accuracy against the total.", "",
              "| selector | k | embedding | selection | training | total |", "|---|---:|---:|---:|---:|---:|"]
    for _, r in agg.iterrows():
        lines.append(f"| {r.selector} | {r.k} | {r.embed_s:.2f} | {r.select_s:.2f} | {r.score_s:.2f} | "
                     f"{r.cost_s:.2f} |")
    lines += ["", f"Total wall time {table['wall_s'].sum():.0f} s over {len(table)} cells; "
              "cost = training examples x epochs per cell is in results.csv.", ""]
    return "\n".join(lines)


def _verdict_section(records: Sequence[dict[str, Any]], vs: pd.DataFrame, *, test: str, alpha: float,
                     n_boot: int) -> list[str]:
    labels = {r["selector"] for r in records} - {FULL}
    lines = [f"## Against {BASELINE} at the same k", ""]
    if BASELINE not in labels:
        return [*lines, f"No `{BASELINE}` selector in this grid, so no verdicts: add `{BASELINE}` to the "
                        "selectors to learn whether a selector beats it."]
    if labels == {BASELINE}:
        return [*lines, f"`{BASELINE}` is the only selector in this grid, so there is nothing to compare "
                        f"with it: the table above gives its accuracy and its seed-to-seed spread. Add "
                        f"selectors (`--selectors {BASELINE},hand-rules,...`) for verdicts."]
    m = int(np.isfinite(vs["p"]).sum())
    how = ("Welch's t-test on the per-seed accuracies (each seed's selection + training + evaluation "
           "is one sample)" if test == "welch" else
           "a paired t-test on the per-seed differences (seeds run by both sides)")
    lines += [f"The verdict rests on {how}, so it accounts for selection-and-training noise. "
              f"**Holm-corrected over the {m} comparison{'s' if m != 1 else ''} with {BASELINE} in this "
              f"grid** (every selector x k): a selector *beats* or *loses to* {BASELINE} when its "
              f"Holm-adjusted p < {alpha:g}, so the chance of any false verdict in the grid is at most "
              f"{alpha:g}. The 95% interval is the test's own (not adjusted). Differences in percentage "
              "points.", "",
              "| selector | k | seeds | difference | 95% interval (seeds) | p | p (Holm) | verdict | "
              "questions only* |", "|---|---:|---:|---:|---|---:|---:|---|---|"]
    for _, r in vs.iterrows():
        interval = "-" if not np.isfinite(r.ci_lo) else f"[{_pts(r.ci_lo)}, {_pts(r.ci_hi)}]"
        q = "-" if not np.isfinite(r.q_lo) else f"[{_pts(r.q_lo)}, {_pts(r.q_hi)}]"
        lines.append(f"| {r.selector} | {r.k} | {r.seeds} vs {r.seeds_baseline} | {_pts(r['diff'])} | {interval} | "
                     f"{_p(r.p)} | {_p(r.p_holm)} | **{r.verdict}** | {q} |")
    if vs.empty:
        lines.append(f"| (no selector shares a budget with {BASELINE}) | | | | | | | | |")
    mdd = detectable(records, test=test, alpha=alpha, comparisons=max(m, 1))
    lines += ["", f"\\* {QUESTIONS_ONLY.capitalize()}: a paired bootstrap over test questions ({n_boot} "
              "resamples) of the seed-averaged correctness. It shows how much the test split's sampling "
              "moves the difference between these particular trained models; it ignores that another "
              "seed would have selected and trained different ones.", "",
              f"**Minimum detectable difference** ({100 * POWER:.0f}% power; pooled seed SD of the "
              "selectors at that k, the fewest seeds any ran): a true difference smaller than this "
              "is likely to come out as \"no detectable difference\". The Holm column is the bar for "
              f"the strongest of the {max(m, 1)} comparisons (level {alpha:g}/{max(m, 1)}); the others "
              f"face bars between the two. More seeds lower both.", "",
              f"| k | seeds | pooled seed SD | detectable at {alpha:g} | detectable after Holm |",
              "|---|---:|---:|---:|---:|"]
    for _, r in mdd.iterrows():
        lines.append(f"| {r.k} | {r.seeds} | {_pct(r.pooled_sd)} | {_pct(r.mdd)} | {_pct(r.mdd_holm)} |")
    return lines



def save_figure(fig, path: str | Path) -> None:
    """Write a finished figure as PNG atomically (never a half-written plot) and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)

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
    save_figure(fig, path)


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
    save_figure(fig, path)


def plot_cost(records: Sequence[dict[str, Any]], path: str | Path, *, title: str = "") -> None:
    """Accuracy against the total cost of a cell (embedding + selection + training seconds,
    mean over seeds) per selector, each point labelled with its k, the full-data run as a
    star: does selecting cost more than training on less saves?"""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = aggregate(records)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for selector, group in agg[agg["selector"] != FULL].groupby("selector", sort=False):
        group = group.sort_values("k")
        x = group["cost_s"].clip(lower=1e-3)  # a log axis cannot show 0 s
        (line,) = ax.plot(x, 100 * group["accuracy"], marker="o", label=selector)
        for xi, yi, k in zip(x, 100 * group["accuracy"], group["k"], strict=True):
            ax.annotate(f"k={k}", (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7,
                        color=line.get_color())
    full = agg[agg["selector"] == FULL]
    if not full.empty:
        r = full.iloc[0]
        ax.plot([max(r.cost_s, 1e-3)], [100 * r.accuracy], marker="*", markersize=14, color="black",
                linestyle="none", label=f"full data (n={r.k})")
    ax.set_xscale("log")
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")  # 2, not 2 x 10^0
    ax.xaxis.set_major_formatter(plain)
    lo, hi = ax.get_xlim()
    # within a decade the minor ticks are the only labels; across decades they would crowd
    ax.xaxis.set_minor_formatter(plain if hi / lo < 10 else matplotlib.ticker.NullFormatter())
    ax.set_xlabel("cost per cell (s): embedding + selection + training, mean over seeds")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title or "Accuracy against cost")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def write_report(records: Sequence[dict[str, Any]], out: str | Path, *, scorer: str, proxy: bool,
                 n_boot: int = 2000, chance: float | None = None, test: str = "welch",
                 notes: Sequence[str] = ()) -> None:
    """Write results.csv, summary.md, learning_curve.png, categories.png and cost.png into ``out``."""
    out = Path(out)
    with atomic_open(out / "results.csv", "w", newline="") as f:
        results_table(records).to_csv(f, index=False)
    with atomic_open(out / "summary.md", "w", encoding="utf-8") as f:
        f.write(summary_markdown(records, scorer=scorer, proxy=proxy, n_boot=n_boot, chance=chance, test=test,
                                 notes=notes))
    tag = f" ({scorer} scorer{', proxy' if proxy else ''})"
    plot_learning_curve(records, out / "learning_curve.png", title="Learning curve" + tag, chance=chance)
    plot_categories(records, out / "categories.png", title="Accuracy per category" + tag)
    plot_cost(records, out / "cost.png", title="Accuracy against cost" + tag)
