import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_pool, make_record, random_pool
from vlprune import (
    DifficultySelector,
    FarthestPointSelector,
    HandRuleSelector,
    ImageFirstSelector,
    RandomSelector,
    StratifiedSelector,
    TopicCoverageSelector,
    get_selector,
)
from vlprune.errors import ConfigError, MissingFieldError
from vlprune.select.base import selectors
from vlprune.select.kcenter import farthest_point_order
from vlprune.select.stratified import allocate

POOL_SELECTORS = [
    RandomSelector(),
    StratifiedSelector(by="topic"),
    StratifiedSelector(by="grade", allocation="equal"),
    ImageFirstSelector(),
    TopicCoverageSelector(by="skill"),
    DifficultySelector(),
    HandRuleSelector(),
    HandRuleSelector(rules=("difficulty", "image-first"), weights=(1.0, 2.0)),
    FarthestPointSelector(embedder="tfidf"),
]


@pytest.fixture(scope="module")
def pool():
    return random_pool(120, seed=3)


# -- properties every selector has -----------------------------------------------------------
@pytest.mark.parametrize("selector", POOL_SELECTORS, ids=repr)
@given(k=st.integers(1, 120), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=15, deadline=None)
def test_exactly_k_distinct_valid_positions_and_deterministic(pool, selector, k, seed):
    sel = selector.select(pool, k, seed=seed)
    assert len(sel.positions) == k == len(set(sel.positions.tolist()))
    assert sel.positions.min() >= 0 and sel.positions.max() < len(pool)
    assert sel.ids == [pool.ids[p] for p in sel.positions]
    again = selector.select(pool, k, seed=seed)
    assert again.positions.tolist() == sel.positions.tolist()


def test_every_registered_builtin_is_covered():
    covered = {s.name for s in POOL_SELECTORS}
    assert set(selectors.names()) >= covered
    assert covered == {"random", "stratified", "image-first", "topic-coverage", "difficulty",
                       "hand-rules", "farthest-point"}


def test_different_seeds_give_different_random_subsets(pool):
    subsets = {tuple(sorted(RandomSelector().select(pool, 20, seed=s).positions)) for s in range(5)}
    assert len(subsets) == 5


@pytest.mark.parametrize("k", [0, -3, 121])
def test_bad_k(pool, k):
    with pytest.raises(ConfigError, match="k must be positive|larger than the pool"):
        RandomSelector().select(pool, k)


def test_unknown_selector_and_parameter():
    with pytest.raises(ConfigError, match="unknown selector 'farthest'.*did you mean 'farthest-point'"):
        get_selector("farthest")
    with pytest.raises(ConfigError, match="takes no parameter.*metrc"):
        get_selector("farthest-point", metrc="cosine")


def test_unknown_field(pool):
    with pytest.raises(MissingFieldError, match="field 'topik'"):
        StratifiedSelector(by="topik").select(pool, 5)


def test_field_empty_for_every_record():
    pool = make_pool([make_record(i, topic="") for i in range(10)])
    with pytest.raises(MissingFieldError, match="empty for every record"):
        TopicCoverageSelector(by="topic").select(pool, 3)


# -- stratified --------------------------------------------------------------------------------
def test_allocate_proportional_hamilton():
    assert allocate(np.array([5, 3, 2]), 4).tolist() == [2, 1, 1]  # 2.0, 1.2, 0.8 -> remainder to 0.8
    assert allocate(np.array([1, 1, 1]), 2).tolist() == [1, 1, 0]  # ties: earlier group first
    assert allocate(np.array([10, 0, 5]), 15).tolist() == [10, 0, 5]


@given(sizes=st.lists(st.integers(0, 30), min_size=1, max_size=8), data=st.data())
def test_allocate_is_exact_and_bounded(sizes, data):
    sizes = np.array(sizes)
    k = data.draw(st.integers(0, int(sizes.sum())))
    for allocation in ("proportional", "equal"):
        quota = allocate(sizes, k, allocation)
        assert quota.sum() == k and (quota <= sizes).all() and (quota >= 0).all()


def test_equal_allocation_balances(pool):
    sel = StratifiedSelector(by="subject", allocation="equal").select(pool, 30, seed=1)
    assert pool.table.loc[sel.positions, "subject"].value_counts().tolist() == [10, 10, 10]


# -- hand rules --------------------------------------------------------------------------------
@given(k=st.integers(15, 120), seed=st.integers(0, 1000))
@settings(max_examples=20, deadline=None)
def test_topic_coverage_covers_every_value_when_k_allows(pool, k, seed):
    n_values = pool.table["skill"].nunique()
    assert k >= n_values
    sel = TopicCoverageSelector(by="skill").select(pool, k, seed=seed)
    assert set(pool.table.loc[sel.positions, "skill"]) == set(pool.table["skill"])
    assert sel.info == {"values_covered": n_values, "values_total": n_values}


def test_topic_coverage_prefers_frequent_values_when_k_is_short():
    records = [make_record(i, topic=t) for i, t in enumerate("aaaaabbbbccd")]
    sel = TopicCoverageSelector(by="topic").select(make_pool(records), 2, seed=0)
    assert sorted(make_pool(records).table.loc[sel.positions, "topic"]) == ["a", "b"]


def test_image_first_takes_images_first(pool):
    n_img = int(pool.has_image.sum())
    sel = ImageFirstSelector().select(pool, n_img + 5, seed=0)
    assert pool.has_image[sel.positions[:n_img]].all()
    assert not pool.has_image[sel.positions[n_img:]].any()


def test_difficulty_takes_the_hardest(pool):
    sel = DifficultySelector(score="grade").select(pool, 10, seed=0)
    grades = pool.table["grade"].to_numpy()
    assert grades[sel.positions].min() >= np.sort(grades)[-10]
    custom = DifficultySelector(score=lambda p: -p.table["grade"].to_numpy()).select(pool, 10, seed=0)
    assert grades[custom.positions].max() <= np.sort(grades)[9]


def test_difficulty_score_errors(pool):
    with pytest.raises(ConfigError, match="must be numeric"):
        DifficultySelector(score="topic").select(pool, 3)
    with pytest.raises(ConfigError, match="one number per record"):
        DifficultySelector(score=lambda p: np.zeros(3)).select(pool, 3)


def test_hand_rules_lexicographic_order():
    # coverage first: one per topic, each the image-bearing, hardest of its topic; then images.
    records = [
        make_record(0, topic="a", image="", grade=12),
        make_record(1, topic="a", image="image.png", grade=2),
        make_record(2, topic="a", image="image.png", grade=9),
        make_record(3, topic="b", image="", grade=5),
        make_record(4, topic="b", image="", grade=11),
        make_record(5, topic="a", image="image.png", grade=1),
    ]
    pool = make_pool(records)
    sel = HandRuleSelector(by="topic", score="grade").select(pool, 4, seed=0)
    assert sel.positions.tolist()[:2] == [2, 4]  # covering picks, in key order (image first)
    assert sel.positions.tolist()[2:] == [1, 5]  # then the remaining images, harder first
    no_cov = HandRuleSelector(rules=("difficulty",), score="grade").select(pool, 2, seed=0)
    assert no_cov.positions.tolist() == [0, 4]


def test_hand_rules_weights_trade_off():
    records = [make_record(0, image="image.png", grade=1), make_record(1, image="", grade=12),
               make_record(2, image="", grade=11)]
    pool = make_pool(records)
    image_heavy = HandRuleSelector(rules=("image-first", "difficulty"), weights=(2, 1), score="grade")
    hard_heavy = HandRuleSelector(rules=("image-first", "difficulty"), weights=(0.1, 1), score="grade")
    assert image_heavy.select(pool, 1).positions.tolist() == [0]
    assert hard_heavy.select(pool, 1).positions.tolist() == [1]


@pytest.mark.parametrize(("params", "message"), [
    ({"rules": ()}, "at least one rule"),
    ({"rules": ("image-first", "colour")}, "unknown rule"),
    ({"rules": ("difficulty", "difficulty")}, "must not repeat"),
    ({"weights": (1, 2)}, "one weight per rule"),
    ({"weights": (1, -1, 1)}, "non-negative"),
])
def test_hand_rules_validation(pool, params, message):
    with pytest.raises(ConfigError, match=message):
        HandRuleSelector(**params).select(pool, 3)


# -- farthest point ----------------------------------------------------------------------------
def assert_valid_farthest_order(X, order, radii, *, warm=()):
    """Each chosen point is (up to float32 rounding) the farthest from those chosen before."""
    X = np.asarray(X, dtype=np.float64)
    chosen = list(warm)
    min_d = np.full(len(X), np.inf) if not chosen else \
        np.min(np.linalg.norm(X[:, None, :] - X[None, chosen, :], axis=2), axis=1)
    for t, p in enumerate(order):
        if chosen:
            tol = 1e-4 * max(1.0, min_d.max())
            assert min_d[p] >= min_d.max() - tol, f"step {t}: {min_d[p]} < {min_d.max()}"
        chosen.append(p)
        min_d = np.minimum(min_d, np.linalg.norm(X - X[p], axis=1))
        assert abs(radii[t] - min_d.max()) <= 1e-3 * max(1.0, min_d.max())


@given(n=st.integers(2, 60), d=st.integers(1, 6), seed=st.integers(0, 10_000), data=st.data())
@settings(max_examples=40, deadline=None)
def test_farthest_point_order_is_valid(n, d, seed, data):
    X = np.random.default_rng(seed).normal(size=(n, d)) * 10
    k = data.draw(st.integers(1, n))
    res = farthest_point_order(X, k, start="random", rng=np.random.default_rng(seed))
    assert len(set(res.order.tolist())) == k
    assert np.all(np.diff(res.radii) <= 1e-5 * max(1.0, res.radii.max()))
    assert_valid_farthest_order(X, res.order, res.radii)


def test_farthest_point_prefix_is_the_smaller_selection():
    X = np.random.default_rng(0).normal(size=(300, 5))
    full = FarthestPointSelector(start=7).select(X, 50)
    small = FarthestPointSelector(start=7).select(X, 20)
    assert full.prefix(20).positions.tolist() == small.positions.tolist()


def _exhaustive_kcenter_radius(X, k):
    D = np.linalg.norm(X[:, None] - X[None], axis=2)
    return min(D[:, list(c)].min(axis=1).max() for c in itertools.combinations(range(len(X)), k))


@pytest.mark.parametrize("seed", range(8))
def test_farthest_point_is_within_twice_the_optimum(seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 2)) * 10
    X = np.concatenate([c + rng.normal(size=(4, 2)) for c in centres])  # 12 points, 3 planted clusters
    for k in (2, 3, 4):
        opt = _exhaustive_kcenter_radius(X, k)
        for start in range(len(X)):
            res = farthest_point_order(X, k, start=start)
            assert res.radii[-1] <= 2 * opt + 1e-9


def test_farthest_point_start_options():
    X = np.array([[0.0, 0], [1, 1], [2, 2], [10, 10]])
    assert farthest_point_order(X, 1, start="mean").order.tolist() == [2]
    assert farthest_point_order(X, 2, start=1).order.tolist() == [1, 3]
    a = farthest_point_order(X, 2, rng=np.random.default_rng(0)).order[0]
    b = farthest_point_order(X, 2, rng=np.random.default_rng(0)).order[0]
    assert a == b
    with pytest.raises(ConfigError, match="start must be"):
        farthest_point_order(X, 2, start="middle")
    with pytest.raises(ConfigError, match="outside"):
        farthest_point_order(X, 2, start=9)


def test_farthest_point_warm_start():
    X = np.random.default_rng(1).normal(size=(80, 3))
    res = farthest_point_order(X, 10, warm_start=[0, 5])
    assert not {0, 5} & set(res.order.tolist())
    assert_valid_farthest_order(X, res.order, res.radii, warm=[0, 5])
    # warm-starting from a prefix continues the same traversal
    full = farthest_point_order(X, 10, start=3)
    cont = farthest_point_order(X, 7, warm_start=full.order[:3])
    assert cont.order.tolist() == full.order[3:].tolist()


def test_farthest_point_warm_start_by_id(pool):
    sel = FarthestPointSelector(embedder="tfidf", warm_start=["r3", "r7"]).select(pool, 5)
    assert not {"r3", "r7"} & set(sel.ids)
    with pytest.raises(ConfigError, match="not in this test pool"):
        FarthestPointSelector(embedder="tfidf", warm_start=["nope"]).select(pool, 5)


def test_farthest_point_cosine_ignores_scale():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 4))
    scaled = X * rng.uniform(0.1, 10, size=(50, 1))
    a = farthest_point_order(X, 10, start=0, metric="cosine")
    b = farthest_point_order(scaled, 10, start=0, metric="cosine")
    assert a.order.tolist() == b.order.tolist()
    assert (a.radii <= 2 + 1e-6).all()


def test_farthest_point_duplicates_never_repeat():
    X = np.zeros((10, 3))
    res = farthest_point_order(X, 10, start=0)
    assert sorted(res.order.tolist()) == list(range(10))
    assert res.radii.tolist() == [0.0] * 10


def test_farthest_point_bad_input():
    with pytest.raises(ConfigError, match="2-D"):
        farthest_point_order(np.zeros(5), 2)
    with pytest.raises(ConfigError, match="NaN"):
        farthest_point_order(np.array([[np.nan], [1.0]]), 1)
    with pytest.raises(ConfigError, match="metric"):
        farthest_point_order(np.zeros((3, 2)), 1, metric="manhattan")


def test_selector_on_pool_uses_embedder_and_records_params(pool):
    sel = FarthestPointSelector(embedder="tfidf", start="mean").select(pool, 8, seed=0)
    assert sel.selector == "farthest-point" and sel.params["embedder"] == "tfidf"
    assert sel.scores is not None and len(sel.scores) == 8
