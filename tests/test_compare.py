import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from train_utils import micro, toy_data  # noqa: F401  (fixtures)
from vlprune.cli import main
from vlprune.compare import GridConfig, aggregate, compare, mean_ci, paired_bootstrap, versus_random
from vlprune.compare.grid import run_grid
from vlprune.compare.scorers import Scorer, ScoreResult, scorers
from vlprune.data.metrics import category_accuracy, chance_accuracy
from vlprune.data.schema import CATEGORIES
from vlprune.errors import ConfigError

TINY = {"loader": "synthetic", "options": {"size": "tiny"}}
PROBE = {"embedder": "tfidf", "epochs": 40}


# -- statistics against values computed by hand --------------------------------------------------
def test_mean_ci_by_hand():
    ci = mean_ci([0.5, 0.6, 0.7])
    # sd = 0.1, se = 0.1 / sqrt(3) = 0.057735, t(0.975, df=2) = 4.302653
    assert ci.mean == pytest.approx(0.6)
    assert ci.lo == pytest.approx(0.6 - 4.302653 * 0.057735, abs=1e-5)
    assert ci.hi == pytest.approx(0.6 + 4.302653 * 0.057735, abs=1e-5)
    one = mean_ci([0.4])
    assert one.mean == 0.4 and np.isnan(one.lo) and one.n == 1


def test_paired_bootstrap_by_hand_and_deterministic():
    a = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    b = np.array([1, 0, 0, 1, 0, 0, 1, 0])
    d1 = paired_bootstrap(a, b, n_boot=3000, seed=7)
    d2 = paired_bootstrap(a, b, n_boot=3000, seed=7)
    assert d1 == d2
    assert d1.diff == pytest.approx(2 / 8)
    # the difference per question is 0 or 1 with p = 1/4; the bootstrap mean is Binomial(8, 1/4) / 8,
    # whose 2.5% and 97.5% quantiles are 0/8 and 5/8
    assert d1.lo == pytest.approx(0.0) and d1.hi == pytest.approx(5 / 8)
    same = paired_bootstrap(a, a, n_boot=100, seed=0)
    assert (same.diff, same.lo, same.hi, same.significant) == (0.0, 0.0, 0.0, False)


def test_category_accuracy_and_chance_by_hand():
    cats = pd.DataFrame({c: [False] * 4 for c in CATEGORIES})
    cats["NAT"] = [True, True, False, False]
    cats["IMG"] = [True, False, True, False]
    acc = category_accuracy(np.array([1, 0, 1, 1]), cats)
    assert acc["overall"] == {"accuracy": 0.75, "count": 4}
    assert acc["NAT"] == {"accuracy": 0.5, "count": 2}
    assert acc["IMG"] == {"accuracy": 1.0, "count": 2}
    assert np.isnan(acc["SOC"]["accuracy"]) and acc["SOC"]["count"] == 0
    assert chance_accuracy([2, 4, 4]) == pytest.approx((0.5 + 0.25 + 0.25) / 3)


def fake_record(selector, k, seed, correct):
    correct = np.asarray(correct)
    cats = {c: {"accuracy": float(correct.mean()), "count": len(correct)} for c in CATEGORIES}
    return {"selector": selector, "k": k, "seed": seed, "scorer": "fake", "proxy": True,
            "accuracy": float(correct.mean()), "categories": cats, "n_train": k, "epochs": 1.0,
            "cost_example_epochs": float(k), "select_s": 0.0, "wall_s": 1.0, "correct": correct.tolist()}


def test_aggregate_and_versus_random_by_hand():
    records = [
        fake_record("random", 10, 0, [1, 0, 0, 0]), fake_record("random", 10, 1, [1, 1, 0, 0]),
        fake_record("rules", 10, 0, [1, 1, 1, 0]), fake_record("rules", 10, 1, [1, 1, 1, 1]),
    ]
    agg = aggregate(records).set_index("selector")
    assert agg.loc["random", "accuracy"] == pytest.approx(0.375)
    assert agg.loc["rules", "accuracy"] == pytest.approx(0.875)
    assert agg.loc["rules", "seeds"] == 2
    vs = versus_random(records, n_boot=500, seed=0)
    assert len(vs) == 1 and vs.loc[0, "selector"] == "rules"
    # per question means: rules [1, 1, 1, .5], random [1, .5, 0, 0] -> differences [0, .5, 1, .5]
    assert vs.loc[0, "diff"] == pytest.approx(0.5)


# -- the grid ----------------------------------------------------------------------------------
def test_tiny_grid_with_the_probe_scorer(tmp_path):
    cfg = GridConfig.from_dict({"selectors": ["random", "hand-rules"], "k": [20, 40], "seeds": 2,
                                "scorer": "probe", "scorer_params": PROBE, "dataset": TINY})
    records = compare(cfg, tmp_path, progress=False)
    assert len(records) == 2 * 2 * 2 + 2
    table = pd.read_csv(tmp_path / "results.csv")
    assert len(table) == 10 and set(table["selector"]) == {"random", "hand-rules", "full"}
    assert (table.loc[table["selector"] == "full", "n_train"] == 200).all()
    assert ((table["accuracy"] >= 0) & (table["accuracy"] <= 1)).all()
    assert (table["cost_example_epochs"] == table["n_train"] * 40).all()
    summary = (tmp_path / "summary.md").read_text()
    assert "PROXY" in summary and "| hand-rules | 20 |" in summary and "Chance level" in summary
    for png in ("learning_curve.png", "categories.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cell = json.loads((tmp_path / "cells" / "hand-rules__k20__seed1.json").read_text())
    assert len(cell["correct"]) == 50 and len(cell["train_ids"]) == 20


class CountingScorer(Scorer):
    name = "counting"
    is_proxy = True
    calls = 0
    fail_after: int | None = None

    def score(self, train_pool, positions, test_pool, *, seed, workdir):
        if self.fail_after is not None and CountingScorer.calls >= self.fail_after:
            raise KeyboardInterrupt
        CountingScorer.calls += 1
        pred = np.zeros(len(test_pool), dtype=int)
        return ScoreResult(pred, pred == test_pool.table["answer"].to_numpy(), len(positions), 1.0, 0.0)


def test_interrupted_grid_resumes_without_redoing_cells(tmp_path):
    scorers.register("counting")(CountingScorer)
    cfg = GridConfig.from_dict({"selectors": ["random", "difficulty"], "k": [10, 30], "seeds": 2,
                                "scorer": "counting", "dataset": TINY})
    CountingScorer.calls, CountingScorer.fail_after = 0, 3
    with pytest.raises(KeyboardInterrupt):
        run_grid(cfg, tmp_path, progress=False)
    assert len(list((tmp_path / "cells").glob("*.json"))) == 3
    CountingScorer.fail_after = None
    CountingScorer.calls = 0
    records = run_grid(cfg, tmp_path, progress=False)
    assert CountingScorer.calls == 10 - 3 and len(records) == 10
    CountingScorer.calls = 0
    run_grid(cfg, tmp_path, progress=False)
    assert CountingScorer.calls == 0


def test_grid_refuses_to_mix_scorers_in_one_folder(tmp_path):
    scorers.register("counting")(CountingScorer)
    CountingScorer.fail_after = None
    run_grid(GridConfig.from_dict({"k": [5], "seeds": 1, "scorer": "counting", "dataset": TINY,
                                   "full_data": False}), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="another scorer or dataset"):
        run_grid(GridConfig.from_dict({"k": [5], "seeds": 1, "scorer": "probe", "dataset": TINY}), tmp_path)


@pytest.mark.parametrize(("settings", "message"), [
    ({"k": [0]}, "must be positive"),
    ({"selectors": []}, "at least one selector"),
    ({"seeds": []}, "at least one seed"),
    ({"selectors": ["random", "random"]}, "labels must be unique"),
    ({"scorer": "nope"}, "unknown scorer"),
    ({"colour": 1}, "unknown grid setting"),
])
def test_grid_config_validation(settings, message):
    with pytest.raises(ConfigError, match=message):
        GridConfig.from_dict(settings)


def test_compare_cli_with_yaml_config_and_flags(tmp_path, capsys):
    config = tmp_path / "grid.yaml"
    config.write_text("selectors:\n  - random\n  - name: stratified\n    params: {by: subject}\n"
                      "k: [20]\nseeds: 1\nscorer: probe\nscorer_params: {embedder: tfidf, epochs: 20}\n")
    out = tmp_path / "out"
    code = main(["compare", "--config", str(config), "--k", "15,30", "--size", "tiny", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "stratified(by=subject)" in printed
    table = pd.read_csv(out / "results.csv")
    assert sorted(table["k"].unique()) == [15, 30, 200]


def test_compare_cli_bad_input(tmp_path, capsys):
    code = main(["compare", "--k", "5,x", "--out", str(tmp_path / "o")])
    assert code == 2 and "comma-separated" in capsys.readouterr().err
    code = main(["compare", "--k", "500", "--size", "tiny", "--scorer-param", "embedder=tfidf",
                 "--out", str(tmp_path / "o2")])
    assert code == 2 and "exceed the training split (200 records)" in capsys.readouterr().err


# -- the llava scorer ---------------------------------------------------------------------------
def test_grid_with_the_llava_scorer_on_the_micro_preset(micro, toy_data):  # noqa: F811
    """Every cell trains the built-in LLaVA model; stage 1 is trained once and shared."""
    from train_utils import micro_overrides

    overrides = {k: v for k, v in micro_overrides().items() if k != "model.preset"}
    cfg = GridConfig.from_dict({
        "selectors": ["random", "hand-rules"], "k": [8], "seeds": 1, "scorer": "llava",
        "scorer_params": {"preset": "micro", "overrides": overrides},
        "dataset": {"loader": "scienceqa", "source": str(toy_data / "data"), "split": "train"}})
    records = compare(cfg, micro / "grid", progress=False)
    assert [(r["selector"], r["n_train"]) for r in records] == [("random", 8), ("hand-rules", 8), ("full", 24)]
    table = pd.read_csv(micro / "grid" / "results.csv")
    assert not table["proxy"].any() and (table["cost_example_epochs"] == table["n_train"] * 2).all()
    for r in records:  # the cell's accuracy is the trainer's own metrics.json
        metrics = json.loads((Path(r["extra"]["run_dir"]) / "metrics.json").read_text())
        assert r["accuracy"] == pytest.approx(metrics["accuracy"])
        assert len(r["correct"]) == 12
    stage1 = [json.loads(line) for run in (micro / "grid" / "runs").iterdir()
              for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert sum(1 for e in stage1 if e.get("stage") == "stage1" and e.get("event") == "done") == 1
