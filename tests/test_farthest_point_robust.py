"""Robust k-center options of farthest-point: outlier trimming and k-means seeding."""

import numpy as np
import pytest

from vlprune import ConfigError, FarthestPointSelector
from vlprune.cli import main


def blobs_with_outliers():
    rng = np.random.default_rng(0)
    sizes, centres = (120, 60, 30), np.array([[0.0, 0], [20, 0], [0, 20]])
    X = np.concatenate([c + rng.normal(scale=1.0, size=(s, 2)) for c, s in zip(centres, sizes, strict=True)])
    outliers = np.array([[200.0, 200], [-200, 150], [150, -220], [-180, -190]])
    return np.concatenate([X, outliers]), np.arange(len(X), len(X) + len(outliers)), np.repeat([0, 1, 2], sizes)


def test_plain_farthest_point_spends_its_first_picks_on_outliers_and_trim_removes_them():
    X, outliers, _ = blobs_with_outliers()
    plain = FarthestPointSelector(start=0).select(X, k=8, seed=0)
    assert set(outliers) <= set(plain.positions[:5].tolist())
    robust = FarthestPointSelector(start=0, trim=0.02).select(X, k=8, seed=0)
    assert not set(outliers) & set(robust.positions.tolist())
    assert robust.info["trimmed"] == int(0.02 * len(X)) == 4
    assert len(set(robust.positions.tolist())) == 8


def test_kmeans_seeding_starts_from_the_blob_centres_largest_first_then_fills_greedily():
    X, _, blob = blobs_with_outliers()
    sel = FarthestPointSelector(seeding="kmeans", seeding_share=0.5, trim=0.02).select(X, k=6, seed=1)
    first = sel.positions[:3]
    assert blob[first].tolist() == [0, 1, 2]          # one per blob, largest blob first
    centres = np.array([X[:len(blob)][blob == b].mean(axis=0) for b in range(3)])
    assert np.all(np.linalg.norm(X[first] - centres, axis=1) < 1.0)   # near each blob's centre
    assert np.isnan(sel.scores[:3]).all() and np.all(np.diff(sel.scores[3:]) <= 1e-9)
    assert sel.info["kmeans_seeds"] == 3 and len(set(sel.positions.tolist())) == 6


def test_robust_options_are_deterministic_per_seed():
    X, _, _ = blobs_with_outliers()
    a = FarthestPointSelector(seeding="kmeans", trim=0.05).select(X, k=12, seed=3)
    b = FarthestPointSelector(seeding="kmeans", trim=0.05).select(X, k=12, seed=3)
    assert a.positions.tolist() == b.positions.tolist()


@pytest.mark.parametrize("params, message", [
    ({"trim": 1.0}, "trim"),
    ({"trim": -0.1}, "trim"),
    ({"trim": 0.99}, "fewer than k"),
    ({"seeding": "kmeans", "optimizer": "coreset"}, "seeding='kmeans'"),
    ({"seeding_share": 0.0}, "seeding_share"),
])
def test_bad_robust_parameters_are_refused(params, message):
    X, _, _ = blobs_with_outliers()
    with pytest.raises(ConfigError, match=message):
        FarthestPointSelector(**params).select(X, k=10, seed=0)


def test_cli_refuses_a_trim_out_of_range(tmp_path, capsys):
    X, _, _ = blobs_with_outliers()
    np.save(tmp_path / "x.npy", X)
    code = main(["select", "--embeddings", str(tmp_path / "x.npy"), "--k", "5", "--trim", "1.5",
                 "--out", str(tmp_path / "s.json")])
    err = capsys.readouterr().err
    assert code == 2 and "trim" in err and "Traceback" not in err
    assert not (tmp_path / "s.json").exists()
