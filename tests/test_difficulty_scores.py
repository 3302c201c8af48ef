"""Difficulty scores (select/scores.py) and the proxy model's scores (select/proxy.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import vlprune.select.proxy as proxy
from conftest import random_pool
from vlprune import DifficultySelector, get_selector, load_pool
from vlprune.data.pool import Pool
from vlprune.errors import ConfigError, DataError, MissingFieldError
from vlprune.select.scores import compute_scores, get_score, scores


@pytest.fixture(scope="module")
def pool():
    return random_pool(60, seed=1)


def test_the_registry_holds_every_documented_score():
    assert set(scores.names()) >= {"default", "solution-length", "choices", "column", "file", "el2n", "loss",
                                   "margin"}


def test_default_is_the_hand_rules_mean(pool):
    t = pool.table
    expected = (t["grade"].clip(0, 12) / 12 + ((t["choices"].map(len) - 2) / 3).clip(0, 1)
                + (t["solution"].str.split().str.len().fillna(0) / 100).clip(0, 1)) / 3
    np.testing.assert_allclose(compute_scores("default", pool), expected.to_numpy())


def test_specs_parse_and_describe_themselves():
    score = get_score("el2n:epochs=20,context_fields=question,hint,folds=3")
    assert (score.epochs, score.context_fields, score.folds) == (20, ("question", "hint"), 3)
    assert get_score(score.describe()).get_params() == score.get_params()
    assert get_score("el2n").describe() == "el2n"
    assert get_score("grade").describe() == get_score("column:grade").describe() == "column:grade"


@pytest.mark.parametrize(("spec", "error", "message"), [
    ("colour:x=1", ConfigError, "unknown difficulty score 'colour'"),
    ("el2n:epochs=0", ConfigError, "epochs must be >= 1"),
    ("el2n:epochs", ConfigError, "must be key=value"),
    ("loss:embedder=nonsense", ConfigError, "embedder"),
    ("margin:context_fields=answer", ConfigError, "context_fields"),
    ("file:/no/such/scores.json", ConfigError, "does not exist"),
    ("file:", ConfigError, "needs a value"),
    ("", ConfigError, "score must be"),
])
def test_bad_specs_fail_before_any_work(spec, error, message):
    with pytest.raises(error, match=message):
        get_score(spec)


def test_columns(pool):
    np.testing.assert_array_equal(compute_scores("grade", pool), pool.table["grade"].to_numpy(float))
    with pytest.raises(ConfigError, match="must be numeric"):
        compute_scores("topic", pool)
    with pytest.raises(MissingFieldError):
        compute_scores("colour", pool)


def test_score_files(tmp_path, pool):
    values = np.arange(len(pool), dtype=float)[::-1]
    np.save(tmp_path / "s.npy", values)
    (tmp_path / "s.json").write_text(json.dumps({str(i): float(v) for i, v in zip(pool.ids, values, strict=True)}
                                                | {"not-in-pool": 1.0}))
    (tmp_path / "list.json").write_text(json.dumps(values.tolist()))
    (tmp_path / "s.csv").write_text("id,score\n" + "".join(f"{i},{v}\n" for i, v in zip(pool.ids, values,
                                                                                          strict=True)))
    for name in ("s.npy", "s.json", "list.json", "s.csv"):
        np.testing.assert_array_equal(compute_scores(f"file:{tmp_path / name}", pool), values)
    # by row position for a bare array
    np.testing.assert_array_equal(compute_scores(f"file:{tmp_path / 's.npy'}", np.zeros((len(pool), 2))), values)
    sel = DifficultySelector(score=f"file:{tmp_path / 's.json'}").select(pool, 5, seed=0)
    assert sel.positions.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("short.json", "{}", "no score for 60 of the 60 records, e.g. id 'r0'"),
    ("bad.json", '{"r0": "hard"}', "no score for 59"),
    ("text.json", '"hard"', "must hold an object"),
    ("s.txt", "1 2 3", "must be .npy, .json, .csv or .tsv"),
    ("cols.csv", "name,value\nr0,1\n", "needs columns 'id' and 'score'"),
])
def test_bad_score_files_name_the_file(tmp_path, pool, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=message) as info:
        compute_scores(f"file:{path}", pool)
    assert str(path) in str(info.value)


def test_a_non_number_names_its_record(tmp_path, pool):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({str(i): ("hard" if n == 3 else n) for n, i in enumerate(pool.ids)}))
    with pytest.raises(DataError, match="record 'r3'.*not a number"):
        compute_scores(f"file:{path}", pool)


def test_wrong_length_npy(tmp_path, pool):
    np.save(tmp_path / "s.npy", np.zeros(3))
    with pytest.raises(DataError, match="expected 60 numbers"):
        compute_scores(f"file:{tmp_path / 's.npy'}", pool)


def test_field_scores_refuse_a_bare_array():
    with pytest.raises(ConfigError, match="reads record fields"):
        compute_scores("default", np.zeros((4, 2)))
    with pytest.raises(ConfigError, match="reads record fields"):
        compute_scores("el2n", np.zeros((4, 2)))


def test_difficulty_from_logits():
    logits = np.array([[3.0, 0.0, -np.inf], [0.0, 0.0, 0.0], [-1.0, 1.0, 0.0]], dtype=np.float32)
    mask = np.array([[True, True, False], [True, True, True], [True, True, True]])
    d = proxy.difficulty_from_logits(logits, mask, np.array([0, 2, 0]))
    p0 = np.exp(3) / (np.exp(3) + 1)
    np.testing.assert_allclose(d["el2n"][0], np.sqrt(2) * (1 - p0))
    np.testing.assert_allclose(d["loss"][1], np.log(3))
    np.testing.assert_allclose(d["margin"][:2], [(1 - p0) - p0, 0.0], atol=1e-12)
    assert d["margin"][2] > 0 and d["loss"][2] > d["loss"][0]  # the answer is the least likely choice


# -- the proxy model's scores --------------------------------------------------------------------
def flipped_pool(n_flip=30):
    """The tiny synthetic pool with the answers of ``n_flip`` records moved to a wrong choice."""
    pool = load_pool("synthetic", size="tiny")
    table = pool.table.copy()
    flipped = np.arange(0, 6 * n_flip, 6)
    for r in flipped:
        table.at[r, "answer"] = (table.at[r, "answer"] + 1) % len(table.at[r, "choices"])
    return Pool(table, pool.reference), flipped


def test_proxy_scores_find_planted_wrong_answers_and_are_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path))
    pool, flipped = flipped_pool()
    spec = "loss:embedder=tfidf,epochs=150,lr=0.05"
    loss = compute_scores(spec, pool)
    wrong = np.zeros(len(pool), dtype=bool)
    wrong[flipped] = True
    assert loss[wrong].mean() > 2 * loss[~wrong].mean()
    el2n = compute_scores("el2n:embedder=tfidf,epochs=150,lr=0.05", pool)
    margin = compute_scores("margin:embedder=tfidf,epochs=150,lr=0.05", pool)
    assert el2n[wrong].mean() > el2n[~wrong].mean() and margin[wrong].mean() > margin[~wrong].mean()
    assert (el2n >= 0).all() and (el2n <= np.sqrt(2)).all() and (np.abs(margin) <= 1).all()
    assert len(list((tmp_path / "scores").glob("proxy-*.npz"))) == 1  # one fit served all three

    def refuse(*args, **kwargs):
        raise AssertionError("recomputed despite the cache")

    monkeypatch.setattr(proxy, "cross_fitted_difficulty", refuse)
    np.testing.assert_array_equal(compute_scores(spec, pool), loss)
    with pytest.raises(AssertionError, match="recomputed"):  # another seed is another entry
        compute_scores(spec + ",seed=1", pool)


def test_cross_fitting_is_seeded_and_out_of_sample():
    rng = np.random.default_rng(0)
    choices = proxy.l2_normalise(rng.normal(size=(8, 6)))
    q = proxy.l2_normalise(rng.normal(size=(200, 6)))
    ids = rng.integers(0, 8, size=(200, 3))
    mask = np.ones((200, 3), dtype=bool)
    answer = np.einsum("rwd,rd->rw", choices[ids], q).argmax(1)
    a = proxy.cross_fitted_difficulty(q, ids, mask, answer, choices, folds=2, epochs=100, lr=0.1, seed=0)
    b = proxy.cross_fitted_difficulty(q, ids, mask, answer, choices, folds=2, epochs=100, lr=0.1, seed=0)
    c = proxy.cross_fitted_difficulty(q, ids, mask, answer, choices, folds=2, epochs=100, lr=0.1, seed=1)
    np.testing.assert_array_equal(a["loss"], b["loss"])
    assert not np.array_equal(a["loss"], c["loss"])
    # A record the others contradict: out of sample, its own (wrong) label cannot be memorised.
    answer[0] = (answer[0] + 1) % 3
    d = proxy.cross_fitted_difficulty(q, ids, mask, answer, choices, folds=2, epochs=100, lr=0.1, seed=0)
    assert d["loss"][0] > np.quantile(d["loss"], 0.9)


def test_records_without_answers_cannot_be_scored(monkeypatch, tmp_path):
    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path))
    pool = load_pool("synthetic", size="tiny")
    table = pool.table.copy()
    table.loc[0, "answer"] = -1
    with pytest.raises(ConfigError, match="answer"):
        compute_scores("el2n:embedder=tfidf", Pool(table, pool.reference))


def test_model_scores_drive_the_score_selectors(monkeypatch, tmp_path):
    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path))
    pool, _ = flipped_pool()
    spec = "el2n:embedder=tfidf,epochs=50"
    values = compute_scores(spec, pool)
    top = DifficultySelector(score=spec).select(pool, 10, seed=0)
    assert set(top.positions.tolist()) == set(np.argsort(-values)[:10].tolist())
    ccs = get_selector("ccs", score=spec, strata=5).select(pool, 20, seed=0)
    assert len(set(ccs.ids)) == 20 and ccs.params["score"] == spec
