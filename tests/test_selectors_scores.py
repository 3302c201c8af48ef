"""The score and graph selectors: facility-location, ccs, d2-pruning."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vlprune.select.facility_location as fl
from conftest import random_pool
from vlprune import CCSSelector, D2PruningSelector, FacilityLocationSelector, get_selector
from vlprune.cli import main
from vlprune.errors import ConfigError
from vlprune.select.ccs import stratify, water_fill
from vlprune.select.d2_pruning import forward_pass, rescale, reverse_greedy


def blobs(sizes, d=6, spread=0.05, seed=0):
    """Blobs around orthogonal directions, biggest first; rows grouped by blob."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([np.eye(d)[b] + spread * rng.normal(size=(s, d)) for b, s in enumerate(sizes)])
    return X.astype(np.float32), np.repeat(np.arange(len(sizes)), sizes)


def dense_similarity(X, similarity="cosine"):
    U = np.asarray(X, dtype=np.float64)
    U = U / np.linalg.norm(U, axis=1, keepdims=True)
    C = np.minimum(U @ U.T, 1)
    return {"cosine": np.maximum(C, 0), "shifted": (1 + C) / 2, "squared": C**2}[similarity]


def check_greedy(S, order, gains, tol=1e-6):
    """``order`` is the plain greedy's on the float64 similarity ``S``: each pick has the
    largest exact gain given the picks before it (the lowest position unless another record
    ties with it to ``tol``: two records that only improve each other tie exactly), and
    ``gains`` are those gains."""
    cover, chosen = np.zeros(len(S)), []
    for c, g in zip(order, gains, strict=True):
        exact = np.maximum(S - cover[None, :], 0).sum(axis=1)
        exact[chosen] = -np.inf
        best = exact.max()
        assert exact[c] >= best - tol and g == pytest.approx(exact[c], abs=1e-5)
        assert c == int(np.argmax(exact)) or exact[int(np.argmax(exact))] - exact[c] <= tol
        chosen.append(c)
        cover = np.maximum(cover, S[c])


SELECTORS = [
    FacilityLocationSelector(embedder="tfidf"),
    FacilityLocationSelector(embedder="tfidf", graph="knn", n_neighbors=5),
    FacilityLocationSelector(embedder="tfidf", optimizer="stochastic", similarity="shifted"),
    CCSSelector(),
    CCSSelector(score="grade", beta=0.3, strata=7),
    D2PruningSelector(embedder="tfidf"),
    D2PruningSelector(embedder="tfidf", score="grade", metric="l2", n_neighbors=3, gamma_r=0.1),
]


@pytest.fixture(scope="module")
def pool():
    return random_pool(120, seed=3)


@pytest.mark.parametrize("selector", SELECTORS, ids=repr)
@given(k=st.integers(1, 120), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=8, deadline=None)
def test_exactly_k_distinct_valid_positions_and_deterministic(pool, selector, k, seed):
    sel = selector.select(pool, k, seed=seed)
    assert len(sel.positions) == k == len(set(sel.positions.tolist()))
    assert sel.positions.min() >= 0 and sel.positions.max() < len(pool)
    assert sel.ids == [pool.ids[p] for p in sel.positions]
    assert sel.scores is not None and len(sel.scores) == k
    again = selector.select(pool, k, seed=seed)
    assert again.positions.tolist() == sel.positions.tolist()


# -- facility location ---------------------------------------------------------------------------
@pytest.mark.parametrize("similarity", ["cosine", "shifted", "squared"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lazy_greedy_equals_brute_force_greedy(similarity, seed):
    X = np.random.default_rng(seed).normal(size=(80, 6)).astype(np.float32)
    sel = get_selector("facility-location", similarity=similarity, graph="dense").select(X, 25)
    S = dense_similarity(X, similarity)
    check_greedy(S, sel.positions.tolist(), sel.scores)
    assert sel.info["graph"] == "dense" and sel.info["optimizer"] == "lazy"
    assert fl.facility_location_objective(X, sel.positions, similarity) == pytest.approx(sel.scores.sum(), rel=1e-6)


def test_the_check_catches_a_wrong_order():
    X = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    sel = get_selector("facility-location", graph="dense").select(X, 6)
    swapped = sel.positions.tolist()
    swapped[1], swapped[2] = swapped[2], swapped[1]
    with pytest.raises(AssertionError):
        check_greedy(dense_similarity(X), swapped, sel.scores)


def test_a_complete_neighbour_graph_is_the_dense_greedy():
    X = np.random.default_rng(5).normal(size=(60, 5)).astype(np.float32)
    dense = get_selector("facility-location", graph="dense").select(X, 20)
    graph = get_selector("facility-location", graph="knn", n_neighbors=59).select(X, 20)
    assert graph.positions.tolist() == dense.positions.tolist()
    np.testing.assert_allclose(graph.scores, dense.scores, rtol=1e-5)
    assert graph.info["graph"] == "knn" and graph.info["n_neighbors"] == 59


def test_gains_fall_and_prefixes_are_smaller_selections():
    X, _ = blobs([30, 20, 10, 5])
    sel = get_selector("facility-location").select(X, 30)
    assert np.all(np.diff(sel.scores) <= 1e-6)
    small = get_selector("facility-location").select(X, 10)
    assert small.positions.tolist() == sel.positions[:10].tolist()


def test_one_pick_per_blob_biggest_blob_first():
    X, blob = blobs([40, 20, 10, 3])
    sel = get_selector("facility-location").select(X, 4)
    assert blob[sel.positions].tolist() == [0, 1, 2, 3]
    knn = get_selector("facility-location", graph="knn", n_neighbors=45).select(X, 4)  # a blob per list
    assert blob[knn.positions].tolist() == [0, 1, 2, 3]


def test_stochastic_greedy_is_seeded_and_close_to_lazy():
    X, _ = blobs([50, 40, 30, 20, 10, 5], d=8, spread=0.3)
    lazy = get_selector("facility-location").select(X, 12)
    runs = [get_selector("facility-location", optimizer="stochastic").select(X, 12, seed=s) for s in (0, 0, 1)]
    assert runs[0].positions.tolist() == runs[1].positions.tolist()
    assert runs[0].positions.tolist() != runs[2].positions.tolist()
    best = fl.facility_location_objective(X, lazy.positions)
    for run in runs:
        assert len(set(run.positions.tolist())) == 12
        assert fl.facility_location_objective(X, run.positions) >= 0.95 * best
    assert runs[0].info["optimizer"] == "stochastic"


def test_records_adding_nothing_are_filled_at_random():
    X = np.array([[1.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    sel = get_selector("facility-location").select(X, 4, seed=0)
    assert sel.scores.tolist()[:3] == pytest.approx([2, 1, 1])
    assert sel.scores[3] == 0 and sel.info["filled_at_random"] == 1
    assert sorted(sel.positions.tolist()) == [0, 1, 2, 3]


def test_auto_graph_switches_to_neighbours_above_the_dense_limit(monkeypatch):
    monkeypatch.setattr(fl, "DENSE_MAX_ROWS", 50)
    X, _ = blobs([40, 30])
    assert get_selector("facility-location").select(X, 5).info["graph"] == "knn"
    monkeypatch.setattr(fl, "DENSE_HARD_MAX_ROWS", 60)
    with pytest.raises(ConfigError, match="graph='knn'"):
        get_selector("facility-location", graph="dense").select(X, 5)


def test_facility_location_on_a_pool_is_deterministic():
    pool = random_pool(90, seed=2)
    a = get_selector("facility-location", embedder="tfidf").select(pool, 15, seed=3)
    b = get_selector("facility-location", embedder="tfidf").select(pool, 15, seed=3)
    assert a.ids == b.ids and len(set(a.ids)) == 15
    assert a.embedder["name"] == "tfidf"


# -- ccs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("sizes", "k", "expected"), [
    ([2, 50, 0, 30], 20, [2, 9, 0, 9]),
    ([10, 10, 10], 30, [10, 10, 10]),
    ([10, 10, 10], 7, [2, 2, 3]),
    ([1, 1, 100], 10, [1, 1, 8]),
])
def test_water_fill(sizes, k, expected):
    assert water_fill(np.array(sizes), k).tolist() == expected


def test_water_fill_is_as_even_as_sizes_allow():
    rng = np.random.default_rng(0)
    for _ in range(50):
        sizes = rng.integers(0, 40, size=rng.integers(1, 12))
        k = int(rng.integers(0, sizes.sum() + 1))
        budgets = water_fill(sizes, k)
        assert budgets.sum() == k and (budgets <= sizes).all()
        open_bins = budgets < sizes  # bins with records left over take at least every other bin's budget
        if open_bins.any():
            assert budgets[open_bins].min() >= budgets.max() - 1


def test_ccs_fills_every_stratum_as_documented():
    # Ten strata of very different sizes: the dense easy end, a thin hard tail, a gap.
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.uniform(0.0, 0.1, 500), rng.uniform(0.1, 0.2, 200), rng.uniform(0.2, 0.3, 50),
                             rng.uniform(0.3, 0.4, 5), rng.uniform(0.5, 0.6, 3), rng.uniform(0.6, 1.0, 40),
                             [0.0, 1.0]])
    sel = get_selector("ccs", score=scores, beta=0.0, strata=10).select(np.zeros((len(scores), 1)), k=100, seed=0)
    sizes = np.array(sel.info["bin_sizes"])
    budgets = np.array(sel.info["bin_budgets"])
    assert budgets.tolist() == water_fill(sizes, 100).tolist()
    bins, _ = stratify(scores, 10)
    picked = np.bincount(bins[sel.positions], minlength=10)
    assert picked.tolist() == budgets.tolist()
    assert ((picked > 0) == (sizes > 0)).all()             # every non-empty stratum is represented
    assert (picked[sizes <= 10] == sizes[sizes <= 10]).all()  # the small ones entirely
    assert sel.info["bins_filled"] == int((budgets == sizes).sum())
    # round-robin order: the first picks visit every non-empty stratum once
    nonempty = int((sizes > 0).sum())
    assert len(set(bins[sel.positions[:nonempty]].tolist())) == nonempty
    np.testing.assert_allclose(sel.scores, scores[sel.positions])


def test_ccs_cuts_the_hardest_beta_share():
    scores = np.arange(200, dtype=float)
    sel = get_selector("ccs", score=scores, beta=0.25, strata=5).select(np.zeros((200, 1)), k=50, seed=1)
    assert scores[sel.positions].max() < 150 and sel.info["cut"] == 50
    # the cut never leaves fewer than k records
    big = get_selector("ccs", score=scores, beta=0.25, strata=5).select(np.zeros((200, 1)), k=180, seed=1)
    assert big.info["cut"] == 20 and len(set(big.positions.tolist())) == 180


def test_ccs_on_a_pool_is_seeded():
    pool = random_pool(120, seed=4)
    runs = [get_selector("ccs", score="grade", strata=4).select(pool, 30, seed=s) for s in (0, 0, 1)]
    assert runs[0].ids == runs[1].ids != runs[2].ids
    assert len(set(runs[0].ids)) == 30


# -- d2-pruning ----------------------------------------------------------------------------------
def brute_d2(X, scores, m, gamma_f, gamma_r, k):
    """The paper's procedure with dense loops: kNN by brute force (cosine), forward then reverse."""
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    D = np.sqrt(np.maximum(2 - 2 * U @ U.T, 0))
    np.fill_diagonal(D, np.inf)
    N = np.argsort(D, axis=1, kind="stable")[:, :m]
    s = rescale(scores).copy()
    s = s + np.array([sum(np.exp(-gamma_f * D[i, j]) * s[j] for j in N[i]) for i in range(len(X))])
    taken, order = np.zeros(len(X), bool), []
    for _ in range(k):
        i = int(np.argmax(np.where(taken, -np.inf, s)))
        taken[i] = True
        order.append(i)
        for j in N[i]:
            if not taken[j]:
                s[j] -= np.exp(-gamma_r * D[i, j]) * s[i]
    return order


@pytest.mark.parametrize(("gamma_f", "gamma_r"), [(1.0, 1.0), (0.1, 3.0)])
def test_d2_matches_the_brute_force_procedure(gamma_f, gamma_r):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(70, 5))
    scores = rng.random(70)
    sel = get_selector("d2-pruning", score=scores, n_neighbors=6, gamma_f=gamma_f,
                       gamma_r=gamma_r).select(X, 20, seed=0)
    assert sel.positions.tolist() == brute_d2(X, scores, 6, gamma_f, gamma_r, 20)


def test_forward_and_reverse_passes():
    neighbors = np.array([[1, 2], [0, 2], [0, -1]])
    distances = np.zeros((3, 2))
    boosted = forward_pass(np.array([1.0, 0.5, 0.0]), neighbors, distances, gamma=1.0)
    assert boosted.tolist() == [1.5, 1.5, 1.0]
    picks, values = reverse_greedy(boosted, neighbors, distances, 1.0, 3, np.array([0.0, 0.1, 0.2]))
    # 0 first (its tie with 1 broken by the tiebreak); it lowers 1 to 0.0 and 2 to -0.5
    assert picks.tolist() == [0, 1, 2] and values.tolist() == [1.5, 0.0, -0.5]


def test_d2_spreads_where_difficulty_ranking_does_not():
    X, blob = blobs([30, 30, 30, 30], d=4)
    hard = np.repeat([1.0, 0.9, 0.8, 0.7], 30)
    d2 = get_selector("d2-pruning", score=hard, n_neighbors=10).select(X, 12, seed=0)
    # the hardest blob until its picks' neighbourhoods cover it, then the next hardest
    assert blob[d2.positions].tolist() == [0] * 5 + [1] * 7
    # a reverse kernel so narrow that picks lower nothing: the difficulty ranking
    narrow = get_selector("d2-pruning", score=hard, n_neighbors=10, gamma_r=100).select(X, 12, seed=0)
    assert blob[narrow.positions].tolist() == [0] * 12


def test_d2_on_a_pool_is_seeded():
    pool = random_pool(100, seed=6)
    runs = [get_selector("d2-pruning", embedder="tfidf", score="grade").select(pool, 25, seed=s) for s in (0, 0)]
    assert runs[0].ids == runs[1].ids and len(set(runs[0].ids)) == 25
    assert runs[0].info["score"] == "column:grade"


# -- parameters and errors -----------------------------------------------------------------------
@pytest.mark.parametrize(("name", "params", "message"), [
    ("facility-location", {"similarity": "dot"}, "similarity must be one of"),
    ("facility-location", {"optimizer": "fast"}, "optimizer must be one of"),
    ("facility-location", {"n_neighbors": 0}, "n_neighbors must be >= 1"),
    ("facility-location", {"epsilon": 1.5}, "epsilon must be in"),
    ("ccs", {"beta": 1.0}, "beta must be in"),
    ("ccs", {"strata": 0}, "strata must be >= 1"),
    ("ccs", {"score": "nonsense:x=1"}, "unknown difficulty score 'nonsense'"),
    ("ccs", {"score": "file:/no/such/file.npy"}, "does not exist"),
    ("d2-pruning", {"gamma_f": -1}, "gamma_f must be >= 0"),
    ("d2-pruning", {"metric": "dot"}, "metric must be one of"),
    ("d2-pruning", {"score": "el2n:epohcs=3"}, "takes no parameter"),
])
def test_bad_parameters(name, params, message):
    with pytest.raises(ConfigError, match=message):
        get_selector(name, **params)


def test_field_scores_need_a_pool():
    with pytest.raises(ConfigError, match="reads record fields"):
        get_selector("ccs").select(np.zeros((10, 2)), 3)


@pytest.mark.parametrize("argv", [
    ["--selector", "ccs", "--beta", "2"],
    ["--selector", "ccs", "--score", "file:/no/such.npy"],
    ["--selector", "facility-location", "--optimizer", "fast"],
    ["--selector", "d2-pruning", "--n-neighbors", "zero"],
])
def test_cli_bad_parameters_exit_2_with_one_line(tmp_path, capsys, argv):
    out = tmp_path / "s.json"
    code = main(["select", "--k", "5", "--size", "tiny", "--out", str(out), *argv])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "error" in err
    assert not out.exists()


def test_cli_selects_with_each(tmp_path, capsys):
    scores = tmp_path / "scores.json"
    from vlprune import load_pool

    pool = load_pool("synthetic", size="tiny")
    scores.write_text("{" + ",".join(f'"{i}": {n % 7}' for n, i in enumerate(pool.ids)) + "}")
    for argv in (["--selector", "ccs", "--score", f"file:{scores}", "--strata", "3"],
                 ["--selector", "d2-pruning", "--embedder", "tfidf", "--score", "grade", "--gamma-r", "0.5"],
                 ["--selector", "facility-location", "--embedder", "tfidf", "--optimizer", "stochastic"]):
        out = tmp_path / f"{argv[1]}.json"
        assert main(["select", "--k", "12", "--size", "tiny", "--out", str(out), *argv]) == 0
        assert out.exists()
    capsys.readouterr()
