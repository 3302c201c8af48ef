"""Farthest-point is exact far from the origin, on ties and on degenerate data: every engine
against the float64 per-step check, and the check itself against hand-made orders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vlprune.errors import ConfigError
from vlprune.select.kcenter import (
    StreamedMatrix,
    farthest_point_gaps,
    farthest_point_order,
    farthest_point_violation,
)

ENGINES = [("numpy", {}), ("bounds", {}), ("torch", {"device": "cpu"})]
REPORT_KEYS = {"engine", "dtype", "product", "rows_computed", "rows_skipped", "dense_steps", "sparse_steps",
               "fallbacks"}


def offset_blobs(n, d, *, offset, spread, clusters=10, seed=0):
    """Clusters of ``spread`` around centres ``10 * spread`` apart, all shifted by ``offset``."""
    rng = np.random.default_rng(seed)
    centres = 10 * spread * rng.normal(size=(clusters, d))
    X = offset + centres[rng.integers(clusters, size=n)] + spread * rng.normal(size=(n, d))
    return X.astype(np.float32)


def reference_order(X, k, first):
    """Plain float64 farthest-point with direct differences, ties to the lowest position."""
    X = np.asarray(X, dtype=np.float64)
    m = np.full(len(X), np.inf)
    order, cur = [], first
    for _ in range(k):
        order.append(cur)
        m = np.minimum(m, ((X - X[cur]) ** 2).sum(1))
        m[cur] = -np.inf
        cur = int(np.argmax(m))
    return order


# -- the check ----------------------------------------------------------------------------------
def test_gaps_follow_their_definition_step_by_step():
    X = np.array([[0.0], [10.0], [4.0], [7.0], [1.0]])
    # Greedy from 0: 10 (d2 100), then 4 or 7 (d2 16 / 9: 4 wins), then 7 (d2 9), then 1 (1).
    assert farthest_point_gaps(X, [0, 1, 2, 3, 4]).tolist() == [0, 0, 0, 0, 0]
    # Step 2 picks 7 (d2 9) while 4 is at d2 16: gap 7/16; step 3 then picks 4, at d2 9 from
    # {0, 10, 7}, the largest distance left: gap 0.
    gaps = farthest_point_gaps(X, [0, 1, 3, 2, 4])
    assert gaps.tolist() == pytest.approx([0, 0, 7 / 16, 0, 0])
    # A covered point (a repeat) while others are not: gap 1.
    assert farthest_point_gaps(X, [0, 1, 1])[2] == 1.0
    # Warm start: step 0 is measured against the warm set.
    assert farthest_point_gaps(X, [2], warm_start=[0]).tolist() == pytest.approx([84 / 100])


def test_a_wrong_late_step_is_not_hidden_by_early_large_distances():
    """The global metric divided every excess by the largest distance of the whole run, so a
    late wrong step among small distances looked like rounding; per step it is not."""
    rng = np.random.default_rng(0)
    X = np.concatenate([[[0.0, 0.0], [1000.0, 0.0]], rng.uniform(0, 1, size=(200, 2))]).astype(np.float32)
    order = farthest_point_order(X, 30, start=0, backend="numpy").order
    assert farthest_point_violation(X, order) < 1e-6
    wrong = order.copy()
    # Replace the last step by a point already within a hair of a chosen one.
    d2 = ((X[order[:-1], None, :].astype(np.float64) - X[None, :, :]) ** 2).sum(2).min(0)
    unchosen = np.setdiff1d(np.arange(len(X)), order)
    covered = int(unchosen[np.argmin(d2[unchosen])])
    wrong[-1] = covered
    gaps = farthest_point_gaps(X, wrong)
    assert gaps[-1] > 0.5 and gaps[:-1].max() < 1e-6


def test_sampled_check_always_includes_the_chosen_points():
    X = np.random.default_rng(0).normal(size=(3000, 4))
    order = farthest_point_order(X, 40, start=0).order
    wrong = order.copy()
    wrong[[10, 30]] = wrong[[30, 10]]
    assert farthest_point_violation(X, wrong, sample=200) > 1e-3
    assert farthest_point_gaps(X, order, sample=200).shape == (40,)


# -- adversarial inputs -------------------------------------------------------------------------
CASES = {
    # (data, k, start): the cases and a few more
    "offset 1e4, spread 0.05, d=8": (lambda: offset_blobs(2000, 8, offset=1e4, spread=0.05), 100),
    "offset 1e4, spread 0.05, d=1": (lambda: offset_blobs(1000, 1, offset=1e4, spread=0.05), 30),
    "offset 1e5 (beyond float16), d=8": (lambda: offset_blobs(1500, 8, offset=1e5, spread=1.0), 80),
    "offset 100, spread 1e-3, d=16": (lambda: offset_blobs(1500, 16, offset=100.0, spread=1e-3), 80),
    "offset -3e4 on one axis, d=32": (lambda: offset_blobs(1500, 32, offset=np.r_[-3e4, np.zeros(31)],
                                                          spread=0.2), 80),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(("backend", "kw"), ENGINES)
def test_every_engine_passes_the_per_step_check_far_from_the_origin(case, backend, kw):
    make, k = CASES[case]
    X = make()
    result = farthest_point_order(X, k, start=0, backend=backend, **kw)
    gaps = farthest_point_gaps(X, result.order)
    assert gaps.max() <= 1e-3, f"{case}, {backend}: worst step {gaps.argmax()} has gap {gaps.max():.2e}"
    # Centred products where it matters (CPU engines), and nothing wrong said about NaN.
    if backend != "torch":
        assert result.info["product"] == "centred"
    assert np.all(np.isfinite(result.radii)) and np.all(np.diff(result.radii) <= 1e-6 * result.radii[0])


def test_the_uncentred_product_failed_these_cases():
    """What the engines did before: the product on raw rows (here with a float32 mean, so the
    offset itself is removed exactly) still loses the distances in the product's rounding."""
    X = offset_blobs(2000, 8, offset=1e4, spread=0.05)
    M = StreamedMatrix(X)
    mu = M.mu
    m = np.full(len(X), np.inf, np.float32)
    cur, order = 0, []
    for _ in range(100):
        order.append(cur)
        w = M.centre(cur)
        const = np.float32(w.astype(np.float64) @ w + 2.0 * (mu.astype(np.float64) @ w))
        m = np.minimum(m, M.q + X @ (-2 * w) + const)
        m[cur] = -np.inf
        cur = int(m.argmax())
    assert farthest_point_violation(X, order) > 1e-2


@pytest.mark.parametrize("offset", [0.0, 50.0])  # raw and centred products
@pytest.mark.parametrize(("backend", "kw"), ENGINES)
def test_duplicates_are_ties_broken_by_the_lowest_position(backend, kw, offset):
    """Real pools repeat records: identical rows must get identical distances (however the
    engine reaches them: streamed, gathered, at any place in a BLAS call) and the lowest
    position must win. d = 37 so that rows do not fill whole SIMD registers."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(12, 37))
    distinct = (centres[rng.integers(12, size=300)] + 0.3 * rng.normal(size=(300, 37)) + offset).astype(np.float32)
    X = distinct[rng.permutation(np.repeat(np.arange(300), 3))]  # 3 copies each, shuffled
    result = farthest_point_order(X, 320, start=0, backend=backend, **kw)
    first_copy = {tuple(row): i for i, row in reversed(list(enumerate(X.tolist())))}
    chosen = result.order[:300]
    assert len({tuple(X[i].tolist()) for i in chosen}) == 300  # every distinct row once
    assert all(first_copy[tuple(X[i].tolist())] == i for i in chosen[1:])  # the lowest copy
    assert result.radii[300:].max() <= 1e-3 * result.radii[0]  # then only copies remain
    if backend == "bounds":
        assert result.info["sparse_steps"] > 50  # gathered rows met streamed ones
        assert result.order.tolist() == farthest_point_order(X, 320, start=0, backend="numpy").order.tolist()


@pytest.mark.parametrize(("backend", "kw"), ENGINES)
def test_integer_lattice_ties_give_the_float64_order_exactly(backend, kw):
    """On a lattice every distance is an integer, exact in float32: all engines must make
    the reference's choices, ties included (the lowest position wins)."""
    grid = np.stack(np.meshgrid(*[np.arange(6)] * 3, indexing="ij"), -1).reshape(-1, 3)
    X = (grid + 1000).astype(np.float32)[np.random.default_rng(1).permutation(len(grid))]
    result = farthest_point_order(X, 120, start=5, backend=backend, **kw)
    assert result.order.tolist() == reference_order(X, 120, 5)
    assert farthest_point_gaps(X, result.order).max() == 0.0


def test_bounds_and_streaming_agree_on_every_adversarial_case():
    for make, k in CASES.values():
        X = make()
        a = farthest_point_order(X, k, start=3, backend="numpy").order
        b = farthest_point_order(X, k, start=3, backend="bounds").order
        assert a.tolist() == b.tolist()


def test_large_means_work_and_float16_overflow_is_named():
    X = offset_blobs(500, 4, offset=1e6, spread=1.0)
    M = StreamedMatrix(X)
    assert M.mu.dtype == np.float32 and abs(float(M.mu[0]) - float(X[:, 0].astype(np.float64).mean())) < 0.1
    farthest_point_order(X, 10)
    with pytest.raises(ConfigError, match="overflow float16"):
        farthest_point_order(X, 10, dtype="float16")


def test_mean_does_not_depend_on_block_rows():
    X = offset_blobs(5000, 8, offset=123.456, spread=0.3)
    assert np.array_equal(StreamedMatrix(X).mu, StreamedMatrix(X, block_rows=77).mu)


def test_product_mode_is_raw_near_the_origin_and_centred_far_from_it():
    near = np.random.default_rng(0).normal(size=(500, 8)).astype(np.float32)
    assert not StreamedMatrix(near).centre_rows
    assert StreamedMatrix(near + 100).centre_rows
    # The error bound covers both, and grows with the offset only in raw mode.
    assert StreamedMatrix(near + 2).d2_error > StreamedMatrix(near).d2_error


@pytest.mark.parametrize(("backend", "kw"), ENGINES)
def test_every_engine_reports_what_it_did(backend, kw):
    X = offset_blobs(3000, 8, offset=0.0, spread=0.05, clusters=20)
    result = farthest_point_order(X, 150, start=0, backend=backend, **kw)
    info = result.info
    assert REPORT_KEYS <= set(info) and info["engine"] == backend and info["dtype"] == "float32"
    assert info["rows_computed"] + info["rows_skipped"] == 3000 * 150
    assert info["dense_steps"] + info["sparse_steps"] == 150
    assert json.loads(json.dumps(info)) == info  # JSON-ready (it goes into the manifest)
    if backend == "bounds":
        assert info["sparse_steps"] > 0 and info["rows_skipped"] > 0
