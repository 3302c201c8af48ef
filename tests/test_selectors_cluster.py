"""The clustering family: typicality, prototypes, semdedup, cluster-balanced, per-group."""

import logging

import numpy as np
import pytest

from conftest import make_pool, make_record
from vlprune import (
    ClusterBalancedSelector,
    PerGroupSelector,
    PrototypesSelector,
    SemDeDupSelector,
    TypicalitySelector,
    get_selector,
)
from vlprune.cli import main
from vlprune.embed.precomputed import PrecomputedEmbedder
from vlprune.errors import ConfigError
from vlprune.select.cluster_balanced import kernel_density, transferability
from vlprune.select.compose import interleave, parse_selector_spec
from vlprune.select.per_group import group_codes
from vlprune.select.semdedup import deduplicate
from vlprune.select.stratified import allocate, allocate_weighted


def blobs(sizes=(80, 60, 40), d=4, spread=1.0, gap=50.0, seed=0):
    """Well-separated Gaussian blobs, blob b centred at gap * e_b; rows blob by blob."""
    rng = np.random.default_rng(seed)
    parts = []
    for b, m in enumerate(sizes):
        centre = np.zeros(d)
        centre[b % d] = gap * (1 + b // d)
        parts.append(centre + spread * rng.normal(size=(m, d)))
    return np.concatenate(parts).astype(np.float32)


def blob_of(sizes):
    return np.repeat(np.arange(len(sizes)), sizes)


def brute_typicality(Y, n_neighbors=20):
    K = min(n_neighbors, len(Y) // 2)
    D = np.linalg.norm(Y[:, None].astype(np.float64) - Y[None], axis=2)
    np.fill_diagonal(D, np.inf)
    return 1 / np.sort(D, axis=1)[:, :K].mean(axis=1)


def is_kcenter_order(Y, order, metric="l2"):
    """Every pick after the first is a farthest row of Y from the picks before it."""
    if metric == "cosine":
        Y = Y / np.linalg.norm(Y, axis=1, keepdims=True)
    D = np.linalg.norm(Y[:, None].astype(np.float64) - Y[None], axis=2)
    for t in range(1, len(order)):
        nearest = D[:, order[:t]].min(axis=1)
        if nearest[order[t]] < nearest.max() - 1e-4:
            return False
    return True


ARRAY_SELECTORS = [
    TypicalitySelector(),
    TypicalitySelector(metric="cosine", max_clusters=5),
    PrototypesSelector(n_clusters=6),
    PrototypesSelector(n_clusters=6, keep="easy", allocation="global"),
    SemDeDupSelector(n_clusters=3),
    SemDeDupSelector(threshold=0.5, base="farthest-point"),
    ClusterBalancedSelector(n_clusters=5),
    ClusterBalancedSelector(n_clusters=5, within="random", metric="l2"),
    PerGroupSelector(by="cluster", n_clusters=4, within="farthest-point"),
    PerGroupSelector(by="cluster", n_clusters=4, within="typicality", allocation="sqrt"),
]


# -- properties every selector of the family has ---------------------------------------------
@pytest.mark.parametrize("selector", ARRAY_SELECTORS, ids=repr)
@pytest.mark.parametrize("k", [1, 17, 180])
def test_k_distinct_records_deterministic_per_seed(selector, k):
    X = blobs(d=8, spread=8.0)
    a = selector.select(X, k, seed=3)
    assert len(a.positions) == k == len(set(a.positions.tolist()))
    assert a.positions.min() >= 0 and a.positions.max() < len(X)
    b = selector.select(X, k, seed=3)
    assert a.positions.tolist() == b.positions.tolist() and a.info == b.info


def test_every_selector_of_the_family_is_registered():
    for name in ("typicality", "prototypes", "semdedup", "cluster-balanced", "per-group"):
        assert get_selector(name).name == name


# -- typicality ---------------------------------------------------------------------------------
def test_typicality_picks_the_densest_point_of_each_blob_largest_blob_first():
    sizes = (80, 60, 40)
    X = blobs(sizes)
    sel = TypicalitySelector().select(X, k=3, seed=0)
    starts = np.cumsum((0, *sizes))
    expected = [starts[b] + int(np.argmax(brute_typicality(X[starts[b]:starts[b + 1]]))) for b in range(3)]
    assert sel.positions.tolist() == expected  # largest blob first
    np.testing.assert_allclose(sel.scores, [brute_typicality(X[starts[b]:starts[b + 1]]).max() for b in range(3)],
                               rtol=1e-4)
    assert sel.info["clusters"] == 3 and sel.info["rounds"] == 1


def test_typicality_goes_round_the_clusters_when_k_exceeds_them():
    sizes = (80, 60, 40)
    X = blobs(sizes)
    sel = TypicalitySelector(max_clusters=3).select(X, k=7, seed=0)
    starts = np.cumsum((0, *sizes))
    ranked = [starts[b] + np.argsort(-brute_typicality(X[starts[b]:starts[b + 1]]), kind="stable") for b in range(3)]
    expected = [ranked[0][0], ranked[1][0], ranked[2][0], ranked[0][1], ranked[1][1], ranked[2][1], ranked[0][2]]
    assert sel.positions.tolist() == [int(e) for e in expected]
    assert sel.info["rounds"] == 3


def test_typicality_visits_small_clusters_last():
    sizes = (50, 50, 3)
    X = blobs(sizes)
    sel = TypicalitySelector(max_clusters=3, min_cluster_size=5).select(X, k=5, seed=0)
    assert blob_of(sizes)[sel.positions].tolist() == [0, 1, 0, 1, 0]
    assert TypicalitySelector(max_clusters=3, min_cluster_size=1).select(X, k=3, seed=0).info["small_clusters"] == 0


def test_typicality_of_a_large_cluster_searches_inside_its_parts(monkeypatch):
    import vlprune.select.typicality as typicality

    monkeypatch.setattr(typicality, "EXACT_CLUSTER_ROWS", 100)
    X = blobs((150, 150), spread=3.0)
    split = typicality.mean_neighbour_distance(X, 5, "l2", seed=0)
    D = np.linalg.norm(X[:, None].astype(np.float64) - X[None], axis=2)
    np.fill_diagonal(D, np.inf)
    exact = np.sort(D, axis=1)[:, :5].mean(axis=1)
    assert (split >= exact - 1e-4).all()  # neighbours from a part are never nearer
    assert np.isclose(split, exact, rtol=1e-4).mean() > 0.5
    for blob in (slice(0, 150), slice(150, 300)):  # the most typical row of each blob is found
        assert np.argmin(split[blob]) == np.argmin(exact[blob])
    few = np.arange(0, 300, 7)
    np.testing.assert_allclose(typicality._mean_distance_among(X, few, 5, "l2"), exact[few], rtol=1e-4)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    C = 1 - U @ U.T
    np.fill_diagonal(C, np.inf)
    np.testing.assert_allclose(typicality._mean_distance_among(X, few, 5, "cosine"),
                               np.sort(C, axis=1)[few, :5].mean(axis=1), rtol=1e-3, atol=1e-5)


# -- prototypes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("keep", ["easy", "hard"])
def test_prototypes_keeps_the_easiest_or_hardest_of_each_cluster_in_proportion(keep):
    sizes = (80, 60, 40)
    X = blobs(sizes)
    sel = PrototypesSelector(metric="l2", n_clusters=3, keep=keep).select(X, k=18, seed=0)
    label = blob_of(sizes)
    assert np.bincount(label[sel.positions], minlength=3).tolist() == allocate(np.array(sizes), 18).tolist()
    for b in range(3):
        rows = np.flatnonzero(label == b)
        dist = np.linalg.norm(X[rows] - X[rows].mean(axis=0), axis=1)
        q = int((label[sel.positions] == b).sum())
        ranked = rows[np.argsort(dist if keep == "easy" else -dist)]
        assert set(sel.positions[label[sel.positions] == b].tolist()) == set(ranked[:q].tolist())
        # within a cluster, the documented order: easiest (hardest) first
        picked = sel.scores[label[sel.positions] == b]
        assert np.all(np.diff(picked) >= -1e-6) if keep == "easy" else np.all(np.diff(picked) <= 1e-6)
    assert sel.info["clusters_picked"] == 3


def test_prototypes_equal_allocation_and_global_ranking():
    sizes = (80, 60, 40)
    X = blobs(sizes)
    label = blob_of(sizes)
    equal = PrototypesSelector(metric="l2", n_clusters=3, allocation="equal").select(X, k=30, seed=0)
    assert np.bincount(label[equal.positions]).tolist() == [10, 10, 10]
    glob = PrototypesSelector(metric="l2", n_clusters=3, keep="hard", allocation="global").select(X, k=30, seed=0)
    assert np.all(np.diff(glob.scores) <= 1e-6)  # hardest first over the whole pool


# -- semdedup ------------------------------------------------------------------------------------
def planted_duplicates(n=120, dup=30, d=32, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    twins = X[:dup] + rng.normal(scale=1e-3, size=(dup, d)).astype(np.float32)
    return np.concatenate([X, twins])


def test_semdedup_drops_the_planted_near_duplicates():
    X = planted_duplicates()
    sel = SemDeDupSelector(n_clusters=4).select(X, k=120, seed=0)
    assert sel.info["dropped"] == 30 and sel.info["kept"] == 120 and sel.info["filled_from_dropped"] == 0
    chosen = set(sel.positions.tolist())
    for i in range(30):  # exactly one of each planted pair is kept
        assert (i in chosen) != (120 + i in chosen)
    assert set(range(30, 120)) <= chosen


def test_semdedup_keeps_the_record_farthest_from_the_centroid():
    X = planted_duplicates(n=40, dup=20)  # 60 rows: k-means trains on all of them (64 per centroid)
    sel = SemDeDupSelector(n_clusters=1).select(X, k=40, seed=0)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    centroid = unit.mean(axis=0) / np.linalg.norm(unit.mean(axis=0))
    far = 1 - unit @ centroid
    chosen = set(sel.positions.tolist())
    for i in range(20):
        farther = i if far[i] > far[40 + i] else 40 + i
        assert farther in chosen


def test_semdedup_fills_from_the_dropped_least_similar_first_with_a_warning(caplog):
    X = planted_duplicates(n=40, dup=10)
    with caplog.at_level(logging.WARNING, logger="vlprune"):
        sel = SemDeDupSelector(n_clusters=2).select(X, k=45, seed=0)
    assert "fewer than k=45" in caplog.text
    assert sel.info["kept"] == 40 and sel.info["filled_from_dropped"] == 5
    assert len(set(sel.positions.tolist())) == 45


def test_semdedup_base_selector_orders_the_deduplicated_pool():
    X = planted_duplicates(dup=0)  # nothing to drop: the base selects from every row
    sel = SemDeDupSelector(n_clusters=3, base="farthest-point:start=mean").select(X, k=10, seed=0)
    assert sel.info["dropped"] == 0 and sel.info["base"] == "farthest-point"
    assert is_kcenter_order(X, sel.positions)
    plain = get_selector("farthest-point", start="mean").select(X, 10)
    assert sel.positions.tolist() == plain.positions.tolist()


def test_deduplicate_only_kept_records_drop_others():
    # a ~ b and b ~ c, but a !~ c: b goes, c stays (it duplicates only a dropped record)
    angles = np.radians([0.0, 20.0, 40.0])
    Y = np.c_[np.cos(angles), np.sin(angles)].astype(np.float32)
    keep, similarity = deduplicate(Y, threshold=np.cos(np.radians(25)))
    assert keep.tolist() == [True, False, True]
    assert similarity[1] == pytest.approx(np.cos(np.radians(20)), abs=1e-6) and np.isinf(similarity[0])


def test_deduplicate_matches_a_row_by_row_loop_across_blocks(monkeypatch):
    import vlprune.select.semdedup as semdedup

    monkeypatch.setattr(semdedup, "BLOCK", 7)
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(60, 3)).astype(np.float32)
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    keep, _ = deduplicate(Y, 0.9)
    kept = []
    for i in range(len(Y)):
        if not kept or (Y[kept] @ Y[i]).max() <= 0.9:
            kept.append(i)
    assert np.flatnonzero(keep).tolist() == kept


# -- cluster-balanced ----------------------------------------------------------------------------
def test_cluster_balanced_gives_the_diffuse_cluster_more_and_follows_the_softmax():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (100, 8)), rng.normal(12, 0.2, (100, 8))].astype(np.float32)
    sel = ClusterBalancedSelector(metric="l2", n_clusters=2, temperature=10).select(X, k=40, seed=0)
    diffuse = int((sel.positions < 100).sum())
    assert 20 < diffuse < 40
    colder = ClusterBalancedSelector(metric="l2", n_clusters=2, temperature=1).select(X, k=40, seed=0)
    assert int((colder.positions < 100).sum()) > diffuse  # a lower temperature concentrates
    hotter = ClusterBalancedSelector(metric="l2", n_clusters=2, temperature=1e6).select(X, k=40, seed=0)
    assert int((hotter.positions < 100).sum()) == 20  # a flat softmax: an even split
    assert sel.info["effective_clusters"] < hotter.info["effective_clusters"]


def test_cluster_balanced_k_center_inside_each_cluster():
    sizes = (80, 60, 40)
    X = blobs(sizes)
    sel = ClusterBalancedSelector(metric="l2", n_clusters=3, temperature=100).select(X, k=24, seed=1)
    label = blob_of(sizes)
    for b in range(3):
        picks = sel.positions[label[sel.positions] == b]
        rows = np.flatnonzero(label == b)
        local = np.searchsorted(rows, picks)
        assert len(picks) >= 2 and is_kcenter_order(X[rows], local)


def test_transferability_and_density_match_their_definitions():
    C = np.random.default_rng(0).normal(size=(7, 5))
    U = C / np.linalg.norm(C, axis=1, keepdims=True)
    S = U @ U.T
    expected = [S[i][S[i] <= 0.9].mean() for i in range(7)]
    np.testing.assert_allclose(transferability(C, block=3), expected, rtol=1e-5)
    X = np.random.default_rng(1).normal(size=(30, 4)).astype(np.float32)
    D2 = ((X[:, None].astype(np.float64) - X[None]) ** 2).sum(axis=2)
    exact = np.exp(-D2 / 2 / 1.5**2).mean()
    rows = np.arange(30)
    assert kernel_density(X, rows, 1.5, "l2", np.random.default_rng(0)) == pytest.approx(exact, rel=1e-5)


def test_allocate_weighted_water_fills_and_sqrt_sits_between():
    assert allocate_weighted(np.array([10, 10, 10]), 12, np.array([8.0, 1, 1])).tolist() == [10, 1, 1]
    assert allocate_weighted(np.array([5, 5]), 10, np.array([1.0, 0])).tolist() == [5, 5]
    sizes = np.array([400, 100, 25])
    prop, sqrt, equal = (allocate(sizes, 70, a) for a in ("proportional", "sqrt", "equal"))
    assert prop.sum() == sqrt.sum() == equal.sum() == 70
    assert prop[0] > sqrt[0] > equal[0] and prop[2] < sqrt[2] < equal[2]
    assert sqrt.tolist() == [40, 20, 10]
    rng = np.random.default_rng(0)
    for _ in range(200):
        sizes = rng.integers(0, 20, size=rng.integers(1, 8))
        k = int(rng.integers(0, sizes.sum() + 1))
        quota = allocate(sizes, k, "sqrt")
        assert quota.sum() == k and (quota <= sizes).all() and (quota >= 0).all()


# -- per-group -----------------------------------------------------------------------------------
def grouped_pool(sizes=(30, 20, 10), d=6, seed=0):
    """A pool whose topics t0, t1, ... hold two blobs each, with embeddings to match."""
    rng = np.random.default_rng(seed)
    records, vectors = [], []
    i = 0
    for g, m in enumerate(sizes):
        for j in range(m):
            centre = np.zeros(d)
            centre[g % d] = 40.0 * (1 + g // d)
            centre[(g + 1) % d] += 20.0 * (j % 2)  # two blobs per topic
            vectors.append(centre + rng.normal(size=d))
            records.append(make_record(i, topic=f"t{g}", skill=f"s{j % 3}"))
            i += 1
    return make_pool(records), np.asarray(vectors, dtype=np.float32)


def test_per_group_keeps_the_allocation_and_reports_it():
    pool, _ = grouped_pool()
    for allocation in ("proportional", "equal", "sqrt"):
        sel = PerGroupSelector(by="topic", allocation=allocation).select(pool, 12, seed=0)
        expected = allocate(np.array([30, 20, 10]), 12, allocation).tolist()
        got = pool.table.loc[sel.positions, "topic"].value_counts().reindex(["t0", "t1", "t2"]).fillna(0)
        assert got.astype(int).tolist() == expected
        assert [sel.info["groups"][t]["kept"] for t in ("t0", "t1", "t2")] == expected
        assert [sel.info["groups"][t]["size"] for t in ("t0", "t1", "t2")] == [30, 20, 10]


def test_stratified_farthest_point_is_k_center_inside_each_group():
    pool, X = grouped_pool()
    sel = PerGroupSelector(by="topic", within="farthest-point", embedder=PrecomputedEmbedder(X)).select(
        pool, 15, seed=0)
    topics = pool.table["topic"].to_numpy()
    for t in ("t0", "t1", "t2"):
        rows = np.flatnonzero(topics == t)
        picks = sel.positions[topics[sel.positions] == t]
        assert is_kcenter_order(X[rows], np.searchsorted(rows, picks))
    assert sel.embedder is not None and sel.info["within"] == "farthest-point"


def test_stratified_typicality_picks_the_densest_point_of_each_blob_of_each_group():
    pool, X = grouped_pool(sizes=(40, 40, 40))
    sel = PerGroupSelector(by="topic", within="typicality", embedder=PrecomputedEmbedder(X)).select(
        pool, 6, seed=0)
    topics = pool.table["topic"].to_numpy()
    expected = set()
    for t in ("t0", "t1", "t2"):
        rows = np.flatnonzero(topics == t)
        for blob in (rows[0::2], rows[1::2]):
            expected.add(int(blob[np.argmax(brute_typicality(X[blob]))]))
    assert set(sel.positions.tolist()) == expected


def test_per_group_order_interleaves_groups():
    pool, _ = grouped_pool()
    sel = PerGroupSelector(by="topic").select(pool, 12, seed=0)  # quotas 6, 4, 2
    topics = pool.table.loc[sel.positions, "topic"].tolist()
    # pick r of a group with q picks at (r + 0.5) / q; ties to the group with more picks
    assert topics == ["t0", "t1", "t0", "t2", "t1", "t0", "t0", "t1", "t0", "t2", "t1", "t0"]
    assert interleave([np.array([1, 2, 3, 4]), np.array([9, 8])]).tolist() == [1, 9, 2, 3, 8, 4]


def test_per_group_unknown_values_form_their_own_group():
    records = [make_record(i, topic=t) for i, t in enumerate(["a"] * 6 + [None, ""] * 2 + ["b"] * 2)]
    pool = make_pool(records)
    pool.table.loc[6, "topic"] = None  # as an unknown-aware loader leaves it
    sel = PerGroupSelector(by="topic", allocation="equal").select(pool, 6, seed=0)
    assert sel.info["groups"] == {"a": {"size": 6, "kept": 2}, "b": {"size": 2, "kept": 2},
                                  "unknown": {"size": 4, "kept": 2}}
    codes, names = group_codes(__import__("pandas").Series(["x", None, float("nan"), " "]))
    assert names == ["unknown", "x"] and codes.tolist() == [1, 0, 0, 0]


def test_per_group_by_cluster_works_on_arrays_and_groups_by_field_need_a_pool():
    X = blobs((30, 30, 30))
    sel = PerGroupSelector(by="cluster", n_clusters=3, allocation="equal").select(X, 9, seed=0)
    assert np.bincount(blob_of((30, 30, 30))[sel.positions]).tolist() == [3, 3, 3]
    with pytest.raises(ConfigError, match="reads a record field; pass a Pool"):
        PerGroupSelector(by="topic").select(X, 3)


def test_per_group_group_of_identical_rows_is_drawn_at_random():
    records = [make_record(i, topic="a" if i < 5 else "b") for i in range(12)]
    X = np.r_[np.ones((5, 3)), np.random.default_rng(0).normal(size=(7, 3))].astype(np.float32)
    sel = PerGroupSelector(by="topic", within="farthest-point", embedder=PrecomputedEmbedder(X),
                           allocation="equal").select(make_pool(records), 6, seed=0)
    assert len(set(sel.positions.tolist())) == 6


# -- the selector spec ---------------------------------------------------------------------------
def test_selector_spec_parsing():
    assert parse_selector_spec("farthest-point") == ("farthest-point", {})
    assert parse_selector_spec("hand-rules:weights=2,1,1,by=topic") == (
        "hand-rules", {"weights": "2,1,1", "by": "topic"})
    assert parse_selector_spec(" typicality : n-neighbors = 5 ") == ("typicality", {"n_neighbors": "5"})
    sel = PerGroupSelector(within="typicality:n_neighbors=5,max_clusters=2")
    sel.validate()
    for bad, message in [(":x=1", "must name a selector"), ("random:oops", "not KEY=VALUE"),
                         ("random:=3", "no parameter name")]:
        with pytest.raises(ConfigError, match=message):
            parse_selector_spec(bad)


# -- bad parameters ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params, message", [
    ("typicality", {"n_neighbors": 0}, "n_neighbors must be >= 1"),
    ("typicality", {"metric": "dot"}, "metric must be one of l2, cosine"),
    ("typicality", {"max_clusters": 0}, "max_clusters must be >= 1"),
    ("prototypes", {"keep": "medium"}, "keep must be one of easy, hard"),
    ("prototypes", {"allocation": "fair"}, "allocation must be one of"),
    ("prototypes", {"n_clusters": -1}, "n_clusters must be >= 1"),
    ("semdedup", {"threshold": 1.5}, r"threshold must be in \[-1, 1\]"),
    ("semdedup", {"base": "nope"}, "semdedup base 'nope': unknown selector"),
    ("semdedup", {"base": "random:x=1"}, "takes no parameter"),
    ("semdedup", {"base": "semdedup"}, "cannot be semdedup itself"),
    ("cluster-balanced", {"temperature": 0}, "temperature must be > 0"),
    ("cluster-balanced", {"within": "mmd"}, "within must be one of k-center, random"),
    ("cluster-balanced", {"bandwidth": -1}, "bandwidth must be > 0"),
    ("per-group", {"within": "nope"}, "per-group within 'nope': unknown selector"),
    ("per-group", {"within": "typicality:n_neighbors=0"}, "n_neighbors must be >= 1"),
    ("per-group", {"within": "farthest-point:embedder=minilm"}, "give the embedder to per-group"),
    ("per-group", {"allocation": "fair"}, "allocation must be one of proportional, equal, sqrt"),
    ("per-group", {"by": ""}, "by must name a field"),
])
def test_bad_parameters_are_config_errors(name, params, message):
    with pytest.raises(ConfigError, match=message):
        get_selector(name, **params)


def test_unknown_field_for_per_group():
    pool, _ = grouped_pool()
    with pytest.raises(ConfigError, match="field 'colour'"):
        PerGroupSelector(by="colour").select(pool, 3)


@pytest.mark.parametrize("argv, message", [
    (["--selector", "typicality", "--n-neighbors", "0"], "n_neighbors must be >= 1"),
    (["--selector", "prototypes", "--keep", "medium"], "keep must be one of easy, hard"),
    (["--selector", "semdedup", "--threshold", "2"], "threshold must be in [-1, 1]"),
    (["--selector", "semdedup", "--base", "nope"], "unknown selector 'nope'"),
    (["--selector", "cluster-balanced", "--within", "mmd"], "within must be one of k-center, random"),
    (["--selector", "per-group", "--within", "random:x=1"], "takes no parameter"),
    (["--selector", "per-group", "--by", "colour"], "field 'colour'"),
])
def test_cli_bad_parameters_exit_2_with_one_line(tmp_path, capsys, argv, message):
    out = tmp_path / "s.json"
    code = main(["select", "--k", "5", "--size", "tiny", "--out", str(out), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err and not out.exists()


def test_cli_runs_the_family_with_specs(tmp_path, capsys):
    import json

    emb = tmp_path / "emb.npy"
    np.save(emb, np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32))
    runs = [["--selector", "typicality", "--n-neighbors", "5"],
            ["--selector", "prototypes", "--n-clusters", "8", "--keep", "easy", "--allocation", "sqrt"],
            ["--selector", "semdedup", "--threshold", "0.9", "--base", "farthest-point:metric=cosine"],
            ["--selector", "cluster-balanced", "--n-clusters", "6", "--within", "random"],
            ["--selector", "per-group", "--by", "topic", "--within", "typicality:n_neighbors=3"],
            ["--selector", "per-group", "--by", "cluster", "--n-clusters", "3", "--allocation", "equal"]]
    for argv in runs:
        out = tmp_path / "s.json"
        code = main(["select", "--k", "12", "--size", "tiny", "--out", str(out), "--embeddings", str(emb), *argv])
        assert code == 0, capsys.readouterr().err
        manifest = json.loads(out.read_text())
        assert manifest["k"] == 12 and len(set(manifest["ids"])) == 12
        assert manifest["selector"]["name"] == argv[1]
