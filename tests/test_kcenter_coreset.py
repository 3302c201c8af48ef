"""Composable-coreset farthest-point (the algorithm the Ray map distributes), the coreset as an
option of FarthestPointSelector (Python and command line), and the checks that keep
pool-fitted embedders out of batched Ray embedding. No Ray needed here."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from vlprune import FarthestPointSelector
from vlprune.errors import ConfigError
from vlprune.select.kcenter import (
    coreset_farthest_point,
    farthest_point_order,
    farthest_point_violation,
)
from vlprune.select.kcenter.coreset import partition_ranges


def blobs(n=6000, d=16, clusters=40, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d))
    return (centres[rng.integers(clusters, size=n)] + 0.2 * rng.normal(size=(n, d))).astype(np.float32)


def test_partition_ranges_cover_every_row_once():
    ranges = partition_ranges(103, 7)
    assert ranges[0][0] == 0 and ranges[-1][1] == 103
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert max(b - a for a, b in ranges) - min(b - a for a, b in ranges) <= 1
    with pytest.raises(ConfigError, match="partitions must be an integer in"):
        partition_ranges(5, 6)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_coreset_radius_is_bounded_and_certified(metric):
    X = blobs()
    k = 60
    exact = farthest_point_order(X, k, metric=metric, rng=np.random.default_rng(0)).radii[-1]
    res = coreset_farthest_point(X, k, partitions=6, metric=metric, rng=np.random.default_rng(1))
    assert len(res.order) == k == len(set(res.order.tolist()))
    assert res.union_size <= 6 * k and len(res.partition_radii) == 6
    # The measured radius obeys the a-posteriori bound and the worst-case one (4x optimal,
    # and optimal <= the single-machine greedy radius).
    assert res.covering_radius <= res.radius_bound * (1 + 1e-5)
    to_euclid = (lambda r: np.sqrt(2 * r)) if metric == "cosine" else (lambda r: r)
    assert to_euclid(res.covering_radius) <= 4 * to_euclid(exact)
    assert 2 <= res.certified_factor <= 4
    # Greedy on the union: a valid farthest-point order of the union's rows.
    union_rows = X[np.sort(res.order)]
    remap = {p: i for i, p in enumerate(np.sort(res.order))}
    assert farthest_point_violation(union_rows, [remap[p] for p in res.order], metric=metric) < 1e-6


def test_more_local_points_tighten_the_certificate_and_files_work(tmp_path):
    X = blobs(seed=3)
    tight = coreset_farthest_point(X, 40, partitions=4, local_k=160)
    loose = coreset_farthest_point(X, 40, partitions=4, local_k=40)
    assert tight.certified_factor <= loose.certified_factor
    np.save(tmp_path / "x.npy", X)
    from_file = coreset_farthest_point(tmp_path / "x.npy", 40, partitions=4, local_k=160)
    assert from_file.order.tolist() == tight.order.tolist()
    assert from_file.covering_radius == pytest.approx(tight.covering_radius, rel=1e-5)


def test_coreset_argument_errors():
    X = blobs(n=500)
    with pytest.raises(ConfigError, match="local_k"):
        coreset_farthest_point(X, 10, local_k=5)
    with pytest.raises(ConfigError, match=r"k=15 must be an integer in \[1, 10\]"):
        coreset_farthest_point(X[:10], 15, partitions=2)


def test_ray_embedding_refuses_pool_fitted_embedders():
    from vlprune.distributed.ray_embed import embed_with_ray, pool_fitted_parts
    from vlprune.embed import get_embedder

    assert pool_fitted_parts(get_embedder("default")) == ["pixels"]  # minilm+pixels
    assert pool_fitted_parts(get_embedder("tfidf+pixels")) == ["tfidf", "pixels"]
    assert pool_fitted_parts(get_embedder("minilm")) == []

    class Declared:
        name, per_record = "custom", True

    assert pool_fitted_parts(Declared()) == []
    with pytest.raises(ConfigError, match="tfidf fit statistics over the whole pool"):
        embed_with_ray(None, "tfidf")


def test_distributed_package_does_not_import_ray():
    import subprocess
    import sys
    from pathlib import Path

    import vlprune

    code = ("import sys, vlprune.distributed, vlprune.select.kcenter.coreset, vlprune.distributed.ray_kcenter; "
            "print('ray' in sys.modules)")
    src = str(Path(vlprune.__file__).parents[1])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "False"


# -- the coreset as an option of FarthestPointSelector --------------------------------------------
@pytest.mark.parametrize("start", ["random", "mean", 4321])
@pytest.mark.parametrize("seed", [0, 7, 123])
def test_same_seed_same_first_centre_exact_and_coreset(seed, start):
    X = blobs(seed=seed)
    exact = FarthestPointSelector(start=start).select(X, 30, seed=seed)
    core = FarthestPointSelector(start=start, optimizer="coreset", partitions=5).select(X, 30, seed=seed)
    assert core.positions[0] == exact.positions[0]
    assert len(set(core.positions.tolist())) == 30


def test_coreset_option_reports_its_run_and_bounds_it():
    X = blobs(seed=2)
    sel = FarthestPointSelector(optimizer="coreset", partitions=4, local_k=60).select(X, 30, seed=1)
    info = sel.info
    assert info["optimizer"] == "coreset" and info["executor"] == "local"
    assert info["partitions"] == 4 and info["local_k"] == 60 and info["union_size"] <= 240
    assert 2 <= info["certified_factor"] <= 4
    assert info["covering_radius"] <= info["radius_bound"] * (1 + 1e-5)
    assert len(info["local"]) == 4 and info["global"]["engine"] in ("bounds", "numpy", "torch")
    assert json.loads(json.dumps(info)) == info
    # Same result as the function it wraps, with the selector's Generator.
    direct = coreset_farthest_point(X, 30, partitions=4, local_k=60, rng=np.random.default_rng(1))
    assert sel.positions.tolist() == direct.order.tolist()
    exact = FarthestPointSelector().select(X, 30, seed=1).info
    assert exact["optimizer"] == "exact" and {"engine", "rows_computed", "rows_skipped"} <= set(exact)


@pytest.mark.parametrize(("params", "message"), [
    ({"optimizer": "greedy"}, "optimizer must be one of exact, coreset"),
    ({"optimizer": "coreset", "executor": "spark"}, "executor must be one of local, ray"),
    ({"partitions": 4}, "partitions applies to optimizer='coreset' only"),
    ({"local_k": 50, "executor": "ray"}, "local_k, executor apply to optimizer='coreset' only"),
    ({"optimizer": "coreset", "partitions": "four"}, "partitions must be an integer or None, not 'four'"),
    ({"optimizer": "coreset", "partitions": 0}, "partitions must be >= 1, not 0"),
    ({"optimizer": "coreset", "local_k": 10}, "local_k=10 must be an integer of at least k=20"),
    ({"optimizer": "coreset", "partitions": 9999}, "partitions must be an integer in"),
    ({"optimizer": "coreset", "warm_start": [1, 2]}, "warm_start works with optimizer='exact' only"),
])
def test_coreset_option_errors_say_what_was_wrong(params, message):
    with pytest.raises(ConfigError, match=message):
        FarthestPointSelector(**params).select(blobs(n=500), 20)


def test_command_line_runs_the_coreset_and_the_manifest_carries_the_report(tmp_path, capsys):
    from vlprune.cli import main

    with pytest.raises(SystemExit):
        main(["select", "--help"])
    helptext = capsys.readouterr().out
    for flag in ("--optimizer", "--partitions", "--local-k", "--executor"):
        assert flag in helptext
    out = tmp_path / "x.json"
    code = main(["select", "--k", "50", "--size", "tiny", "--embedder", "tfidf", "--optimizer", "coreset",
                 "--partitions", "4", "--out", str(out)])
    assert code == 0
    manifest = json.loads(out.read_text())
    assert manifest["selector"]["params"]["optimizer"] == "coreset"
    info = manifest["info"]
    assert info["optimizer"] == "coreset" and info["partitions"] == 4 and info["union_size"] >= 50
    assert info["covering_radius"] > 0 and info["global"]["rows_computed"] > 0
    exact = tmp_path / "e.json"
    assert main(["select", "--k", "50", "--size", "tiny", "--embedder", "tfidf", "--out", str(exact)]) == 0
    exact_manifest = json.loads(exact.read_text())
    assert exact_manifest["ids"][0] == manifest["ids"][0]  # same seed, same first record
    assert exact_manifest["info"]["engine"] in ("bounds", "torch")
