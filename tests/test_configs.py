"""The configs behind docs/results.md load and say what the page says they do."""

from pathlib import Path

import pytest

from vlprune.compare.grid import GridConfig
from vlprune.train.config import load_config

ROOT = Path(__file__).resolve().parents[1]
GRIDS = sorted((ROOT / "configs" / "compare").glob("*.yaml"))


@pytest.mark.parametrize("path", GRIDS, ids=[p.stem for p in GRIDS])
def test_every_shipped_grid_is_valid(path):
    cfg = GridConfig.load(path)
    assert cfg.selectors[0].name == "random" and cfg.k


def test_tuning_grid_scores_dev_and_reporting_grids_score_test():
    dev = GridConfig.load(ROOT / "configs/compare/dev-probe-k1000.yaml")
    assert (dev.dataset.split, dev.test_split) == ("tune", "dev")
    for name in ("real-probe", "real-llava-k1000"):
        cfg = GridConfig.load(ROOT / f"configs/compare/{name}.yaml")
        assert (cfg.dataset.split, cfg.test_split) == ("train", "test")
    probe = GridConfig.load(ROOT / "configs/compare/real-probe.yaml")
    assert probe.k == [250, 500, 1000, 2000, 4000] and len(probe.seeds) >= 5


def test_llava_grid_trains_with_the_shipped_real_config():
    cfg = GridConfig.load(ROOT / "configs/compare/real-llava-k1000.yaml")
    train_cfg = load_config(ROOT / cfg.scorer_params["config"])
    assert train_cfg.data.caption_for_missing_images and train_cfg.model.preset == "tiny"
    assert len(cfg.seeds) >= 3 and cfg.k == [1000]


def test_synthetic_train_config_restores_the_old_preset():
    cfg = load_config(ROOT / "configs/train/tiny-synthetic.yaml")
    assert (cfg.stage2.epochs, cfg.stage2.lr, cfg.data.answer) == (90.0, 2e-4, "letter")
