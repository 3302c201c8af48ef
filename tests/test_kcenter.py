"""Farthest-point at scale: every backend exact against a float64 reference, bounds that
really skip rows, memory-mapped and float16 storage, peak memory, and input validation."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from vlprune.errors import ConfigError
from vlprune.select.kcenter import (
    covering_radius,
    farthest_point_gaps,
    farthest_point_order,
    farthest_point_violation,
    resolve_backend,
)
from vlprune.select.kcenter.bounds import BoundsEngine
from vlprune.select.kcenter.matrix import StreamedMatrix

CPU_BACKENDS = [("numpy", {}), ("bounds", {}), ("torch", {"device": "cpu"})]


def reference_order(X, k, first=None, warm=(), metric="l2"):
    """Plain float64 farthest-point, written as directly as possible. Also returns, for each
    step, the gap between the farthest point's squared distance and the runner-up's, relative
    to the largest squared distance (float32 rounding is about 1e-7 of that: a near tie may
    go either way)."""
    X = np.asarray(X, dtype=np.float64)
    if metric == "cosine":
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
    m = np.full(len(X), np.inf)
    for w in warm:
        m = np.minimum(m, ((X - X[w]) ** 2).sum(1))
    m[list(warm)] = -np.inf
    cur = int(np.argmax(m)) if len(warm) else first
    order, radii, gaps = [], [], [np.inf]
    for _ in range(k):
        order.append(cur)
        m = np.minimum(m, ((X - X[cur]) ** 2).sum(1))
        m[cur] = -np.inf
        top2 = np.partition(m, len(m) - 2)[-2:]
        cur = int(np.argmax(m))
        radii.append(max(m[cur], 0))
        gaps.append(top2[1] - top2[0])
    radii = np.array(radii)
    gaps = np.array(gaps[:k]) / max(np.max(radii), 1e-300)
    return np.array(order), (radii / 2 if metric == "cosine" else np.sqrt(radii)), gaps


def floor_tolerance(X, result, *, metric="l2"):
    """Per-step gap a float32 engine may show: two squared distances each off by at most
    ``d2_error`` (the documented precision floor), relative to the step's largest one."""
    error = StreamedMatrix(X, metric=metric).d2_error
    r2 = 2 * result.radii if metric == "cosine" else result.radii**2  # squared Euclidean
    before = np.concatenate([[np.inf], r2[:-1]])  # the largest distance at each step
    return 1e-9 + 4 * error / np.maximum(before, 1e-300)


def assert_matches_reference(X, result, k, *, metric="l2", warm=(), first=None, tie=1e-6, rtol=1e-4):
    """Same order as the float64 reference up to its first near tie (where float32 may pick
    the runner-up, after which the orders diverge legitimately), and every step within the
    precision floor of the float64 per-step check."""
    ref_order, ref_radii, gaps = reference_order(X, k, first=first, warm=warm, metric=metric)
    diff = np.flatnonzero(result.order != ref_order)
    if diff.size:
        assert gaps[diff[0]] < tie, f"step {diff[0]} differs but the reference had a clear winner"
        upto = diff[0] - 1
    else:
        upto = k
    # Compare squared distances: float32 errors are absolute, about 1e-7 of the largest one.
    sq = (lambda r: r) if metric == "cosine" else np.square
    upto = max(upto, 0)
    np.testing.assert_allclose(sq(result.radii[:upto]), sq(ref_radii[:upto]), rtol=rtol,
                               atol=1e-6 * sq(ref_radii).max())
    step_gaps = farthest_point_gaps(X, result.order, metric=metric, warm_start=list(warm) or None)
    tolerance = floor_tolerance(X, result, metric=metric)
    if warm:
        tolerance[0] = 1e-6
    bad = np.flatnonzero(step_gaps > tolerance)
    assert not bad.size, f"steps {bad[:5]} exceed the precision floor: {step_gaps[bad[:5]]} > {tolerance[bad[:5]]}"


def clustered(n, d, clusters, *, spread=0.1, offset=0.0, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d))
    labels = rng.integers(clusters, size=n)
    return (centres[labels] + spread * rng.normal(size=(n, d)) + offset).astype(np.float32)


@pytest.fixture(scope="module")
def blobs():
    return clustered(3000, 16, 30)


@pytest.fixture(scope="module")
def gauss():
    return np.random.default_rng(1).normal(size=(1500, 24)).astype(np.float32)


@pytest.mark.parametrize(("backend", "kw"), CPU_BACKENDS)
@pytest.mark.parametrize("data", ["blobs", "gauss"])
def test_every_backend_matches_the_float64_reference(backend, kw, data, request):
    X = request.getfixturevalue(data)
    result = farthest_point_order(X, 200, start=7, backend=backend, **kw)
    assert_matches_reference(X, result, 200, first=7)
    assert result.info["backend"] == result.info["engine"] == backend


def test_bounds_skip_most_rows_on_clustered_data_and_stay_exact(blobs):
    k = 600
    result = farthest_point_order(blobs, k, start=0, backend="bounds")
    info = result.info
    assert info["sparse_steps"] > k / 2 and info["rows_computed"] + info["rows_skipped"] == len(blobs) * k
    assert info["rows_computed"] < 0.3 * len(blobs) * k
    assert_matches_reference(blobs, result, k, first=0)
    # Same float32 arithmetic as the streaming loop, so the same order, ties included.
    assert result.order.tolist() == farthest_point_order(blobs, k, start=0, backend="numpy").order.tolist()


def test_bounds_notice_isotropic_data_and_keep_streaming():
    """Before regrouping, a sample says whether fresh groups would rule rows out: on isotropic
    data they would not, so the engine streams without building them; on clustered data it
    builds them and skips most rows. Same order as streaming either way."""
    X = np.random.default_rng(2).normal(size=(20_000, 64)).astype(np.float32)
    result = farthest_point_order(X, 150, start=0, backend="bounds")
    assert result.info["regroups"] == 0 and result.info["regroups_skipped"] == 2  # at 64 and 128
    assert result.info["dense_steps"] == 150
    assert result.order.tolist() == farthest_point_order(X, 150, start=0, backend="numpy").order.tolist()
    Xc = clustered(20_000, 16, 40)
    result = farthest_point_order(Xc, 300, start=0, backend="bounds")
    assert result.info["regroups"] >= 2 and result.info["sparse_steps"] > 150
    assert result.order.tolist() == farthest_point_order(Xc, 300, start=0, backend="numpy").order.tolist()


def test_bounds_fall_back_to_streaming_and_probe_again(gauss, monkeypatch):
    """When fresh groups fail on isotropic data (here built without asking the sample): the
    engine streams, regroups and probes (regrouping less often than at every doubling, 4, 8,
    ..., 128, once they rule out nothing), and the order is still the exact one, over
    several blocks."""
    monkeypatch.setattr(BoundsEngine, "_regroup_pays", lambda self, position, w: True)
    M = StreamedMatrix(gauss, block_rows=256)
    engine = BoundsEngine(M, first_regroup=4, dense_fraction=0.3)
    nxt, order = 3, []
    for _ in range(150):
        order.append(nxt)
        nxt, _ = engine.add(nxt)
    report = engine.report()
    assert 2 <= report["regroups"] < 6 and report["dense_steps"] > 50 and report["fallbacks"] >= 2
    assert order == farthest_point_order(gauss, 150, start=3, backend="numpy").order.tolist()
    assert farthest_point_violation(gauss, order) < 1e-6


def test_far_from_origin_data_keeps_float32_precision():
    """Centring keeps the expansion |x|^2 + |c|^2 - 2x.c accurate when |x| >> distances:
    the uncentred expansion in float32 picks wrong points here."""
    X = clustered(2000, 32, 20, spread=0.05, offset=30.0)
    sq = np.einsum("ij,ij->i", X, X)
    m, cur, naive = np.full(len(X), np.inf, np.float32), 0, []
    for _ in range(100):
        naive.append(cur)
        m = np.minimum(m, sq + sq[cur] - 2 * (X @ X[cur]))
        m[cur] = -np.inf
        cur = int(m.argmax())
    assert farthest_point_violation(X, naive) > 1e-5
    for backend, kw in CPU_BACKENDS:
        result = farthest_point_order(X, 100, start=0, backend=backend, **kw)
        assert_matches_reference(X, result, 100, first=0)


@pytest.mark.parametrize(("backend", "kw"), CPU_BACKENDS)
def test_warm_start_cosine_and_mean_start(backend, kw, blobs):
    warm = [5, 17, 2999]
    result = farthest_point_order(blobs, 80, warm_start=warm, metric="cosine", backend=backend, **kw)
    assert_matches_reference(blobs, result, 80, warm=warm, metric="cosine", rtol=1e-3)
    assert not set(warm) & set(result.order.tolist())

    mean_first = farthest_point_order(blobs, 1, start="mean", backend=backend, **kw).order[0]
    X64 = blobs.astype(np.float64)
    assert mean_first == int(np.argmin(((X64 - X64.mean(0)) ** 2).sum(1)))


@pytest.mark.parametrize("backend", ["numpy", "bounds"])
def test_memory_mapped_file_equals_in_memory_and_is_not_loaded_whole(tmp_path, backend):
    X = clustered(10_000, 256, 40)
    path = tmp_path / "emb.npy"
    np.save(path, X)
    expected = farthest_point_order(X, 150, start=3, backend=backend)
    tracemalloc.start()
    from_file = farthest_point_order(path, 150, start=3, backend=backend, block_rows=1000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert from_file.order.tolist() == expected.order.tolist()
    # O(n) state (under 128 bytes a row) and one block of rows, never the matrix.
    assert peak < 128 * len(X) + 2 * 1000 * X.shape[1] * 4 < 0.5 * X.nbytes
    mm = np.load(path, mmap_mode="r")
    assert farthest_point_order(mm, 150, start=3, backend=backend).order.tolist() == expected.order.tolist()


def test_peak_memory_in_memory_is_matrix_plus_o_n():
    X = clustered(20_000, 512, 50)
    tracemalloc.start()
    farthest_point_order(X, 300, start=0, backend="bounds")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.3 * X.nbytes + 128 * len(X)


def test_float16_storage_is_exact_for_the_rounded_rows(blobs, tmp_path):
    rounded = blobs.astype(np.float16)
    exact_for_rounded = reference_order(rounded, 150, first=0)[0].tolist()
    for backend, kw in [("numpy", {}), ("bounds", {}), ("torch", {"device": "cpu"})]:
        result = farthest_point_order(blobs, 150, start=0, dtype="float16", backend=backend, **kw)
        assert result.info["dtype"] == "float16"
        if backend == "torch":
            # torch rounds the centred rows (precision far from the origin), so its order is
            # exact for those; its float32 product is not BLAS's, so near ties may differ.
            mu = StreamedMatrix(blobs).mu.astype(np.float64)
            own = (blobs - StreamedMatrix(blobs).mu).astype(np.float16).astype(np.float64) + mu
            assert farthest_point_violation(own, result.order) < 1e-5
        else:
            assert farthest_point_violation(rounded, result.order) < 1e-5, backend
            assert result.order.tolist() == exact_for_rounded, backend
    np.save(tmp_path / "half.npy", rounded)
    from_file = farthest_point_order(tmp_path / "half.npy", 150, start=0, backend="bounds", block_rows=500)
    assert from_file.order.tolist() == exact_for_rounded


def test_violation_detects_a_wrong_order_and_covering_radius_matches(blobs):
    result = farthest_point_order(blobs, 50, start=0)
    assert farthest_point_violation(blobs, result.order) < 1e-6
    wrong = result.order.copy()
    wrong[[10, 30]] = wrong[[30, 10]]
    assert farthest_point_violation(blobs, wrong) > 1e-3
    assert farthest_point_violation(blobs, wrong, sample=500) > 1e-3  # chosen points always checked
    assert covering_radius(blobs, result.order) == pytest.approx(result.radii[-1], rel=1e-4)


def test_auto_backend(monkeypatch):
    import vlprune.select.kcenter.torch_engine as kt

    monkeypatch.setattr(kt, "cuda_available", lambda: False)
    assert resolve_backend("auto") == "bounds"
    monkeypatch.setattr(kt, "cuda_available", lambda: True)
    assert resolve_backend("auto") == "torch"
    assert resolve_backend("auto", device="cpu") == "torch"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "faiss"}, "backend must be one of"),
        ({"dtype": "int8"}, "dtype must be"),
        ({"k": 0}, "must be an integer in"),
        ({"k": 2.5}, "must be an integer in"),
        ({"metric": "l1"}, "metric must be"),
        ({"start": 10_000}, "outside"),
        ({"warm_start": [-1]}, "warm-start positions"),
    ],
)
def test_bad_arguments_are_named(kwargs, message, blobs):
    args = {"k": 5, **kwargs}
    with pytest.raises(ConfigError, match=message):
        farthest_point_order(blobs, args.pop("k"), **args)


def test_bad_inputs_are_named(tmp_path):
    bad = np.ones((10, 3), np.float32)
    bad[4, 1] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        farthest_point_order(bad, 2)
    with pytest.raises(ConfigError, match="2-D"):
        farthest_point_order(np.ones(5), 2)
    with pytest.raises(ConfigError, match="does not exist"):
        farthest_point_order(tmp_path / "missing.npy", 2)
    (tmp_path / "junk.npy").write_text("not numpy")
    with pytest.raises(ConfigError, match=r"not a readable \.npy"):
        farthest_point_order(tmp_path / "junk.npy", 2)
    with pytest.raises(ConfigError, match="float16"):
        farthest_point_order(np.full((4, 2), 1e6, np.float32), 2, dtype="float16")


def test_selector_backends_agree_and_read_precomputed_memmaps(tmp_path, blobs):
    from vlprune import FarthestPointSelector

    a = FarthestPointSelector(backend="numpy").select(blobs, 40, seed=3)
    b = FarthestPointSelector(backend="bounds").select(blobs, 40, seed=3)
    assert a.positions.tolist() == b.positions.tolist()
    assert FarthestPointSelector().get_params()["backend"] == "auto"

    from vlprune.embed.precomputed import PrecomputedEmbedder

    np.save(tmp_path / "e.npy", blobs)
    mm = np.load(tmp_path / "e.npy", mmap_mode="r")
    selector = FarthestPointSelector(embedder=PrecomputedEmbedder(mm), backend="bounds")

    class FakePool:  # only len() is needed when the embedder is precomputed
        def __len__(self):
            return len(blobs)

    assert selector.embeddings(FakePool()) is mm
