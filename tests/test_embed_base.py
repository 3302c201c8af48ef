"""Embedder specs, fingerprints, the joint combinator and the default embedder."""

from __future__ import annotations

import numpy as np
import pytest

from _embed_data import text_pool
from vlprune.embed import PrecomputedEmbedder, embedders, get_embedder
from vlprune.embed.clip import CLIPEmbedder
from vlprune.embed.joint import DefaultEmbedder, JointEmbedder
from vlprune.embed.minilm import MiniLMEmbedder
from vlprune.errors import ConfigError
from vlprune.select.farthest_point import FarthestPointSelector


def test_registry_lists_the_builtin_embedders():
    assert {"tfidf", "pixels", "minilm", "clip", "llava", "joint", "default"} <= set(embedders.names())


def test_spec_with_a_model():
    emb = get_embedder("clip:/models/clip vit", join="average")
    assert isinstance(emb, CLIPEmbedder) and emb.model == "/models/clip vit" and emb.join == "average"
    with pytest.raises(ConfigError, match="model is given twice"):
        get_embedder("clip:/a", model="/b")
    with pytest.raises(ConfigError, match="names no model"):
        get_embedder("clip:")
    with pytest.raises(ConfigError, match="'pixels' takes no model"):
        get_embedder("pixels:/x")


def test_joint_spec_routes_parameters_to_the_parts_that_take_them():
    emb = get_embedder("clip:/m*2+minilm+pixels*0.5", device="cpu", batch_size=4)
    (clip, w1), (minilm, w2), (_pixels, w3) = emb.resolved_parts()
    assert (w1, w2, w3) == (2.0, 1.0, 0.5)
    assert clip.device == minilm.device == "cpu" and clip.batch_size == minilm.batch_size == 4
    assert clip.model == "/m" and emb.spec() == "clip*2+minilm+pixels*0.5"
    assert get_embedder("minilm+pixels", model="/mini").resolved_parts()[0][0].model == "/mini"
    with pytest.raises(ConfigError, match="no part of embedder 'tfidf\\+pixels' takes parameter 'model'"):
        get_embedder("tfidf+pixels", model="/x")


def test_default_embedder_is_minilm_with_pixels_and_takes_runtime_options():
    assert DefaultEmbedder().spec() == "minilm+pixels"
    assert FarthestPointSelector().embedder == "default"
    on_cpu = get_embedder("default", device="cpu")
    assert on_cpu.resolved_parts()[0][0].device == "cpu"
    # Runtime options do not change what is computed, so the fingerprint stays the same.
    assert on_cpu.fingerprint == DefaultEmbedder().fingerprint == get_embedder("minilm+pixels").fingerprint


def test_fingerprint_covers_what_changes_the_vectors_only():
    base = MiniLMEmbedder(device="cpu")
    assert MiniLMEmbedder(device="cpu", batch_size=3, progress=True).fingerprint == base.fingerprint
    assert MiniLMEmbedder(device="cpu", fields=("question",)).fingerprint != base.fingerprint
    assert MiniLMEmbedder(device="cpu", caption="never").fingerprint != base.fingerprint
    assert MiniLMEmbedder(device="cpu", dtype="bfloat16").fingerprint != base.fingerprint
    assert get_embedder("tfidf", dim=8).fingerprint != get_embedder("tfidf").fingerprint
    assert JointEmbedder([("tfidf", 1.0)]).fingerprint != JointEmbedder([("tfidf", 0.5)]).fingerprint


def test_check_finds_bad_parameters_before_any_data_is_read():
    with pytest.raises(ConfigError, match="device must be one of auto, cpu, cuda"):
        get_embedder("default", device="tpu").check()
    with pytest.raises(ConfigError, match="dtype must be one of"):
        MiniLMEmbedder(dtype="float8").check()
    with pytest.raises(ConfigError, match="fields must be a list"):
        MiniLMEmbedder(fields="question").check()
    with pytest.raises(ConfigError, match="size must be >= 1"):
        get_embedder("pixels", size=0).check()


def test_joint_combines_unit_parts_with_weights():
    pool = text_pool(["a", "b", "c"])
    emb = JointEmbedder([(PrecomputedEmbedder(np.array([[3.0, 4.0], [0, 2], [0, 0]])), 2.0),
                         (PrecomputedEmbedder(np.array([[1.0], [1.0], [5.0]])), 0.5)])
    np.testing.assert_allclose(emb.embed(pool), [[1.2, 1.6, 0.5], [0, 2, 0.5], [0, 0, 0.5]], atol=1e-6)
    np.testing.assert_allclose(emb.embed(pool, rows=(1, 3)), [[0, 2, 0.5], [0, 0, 0.5]], atol=1e-6)
    with pytest.raises(ConfigError, match="non-negative numbers"):
        JointEmbedder([("tfidf", -1)]).embed(pool)
    with pytest.raises(ConfigError, match="at least one part"):
        JointEmbedder([]).embed(pool)


def test_rows_are_checked():
    pool = text_pool(["a", "b"])
    with pytest.raises(ConfigError, match=r"rows \(1, 3\) do not lie within the pool's 2 records"):
        get_embedder("tfidf").embed(pool, rows=(1, 3))


def test_precomputed_checks_the_pool():
    pool = text_pool(["a", "b"])
    emb = PrecomputedEmbedder(np.zeros((2, 2)), label="e.npy", pool_fingerprint="sha256:other")
    with pytest.raises(ConfigError, match=r"e\.npy were computed for a different pool"):
        emb.embed(pool)
    with pytest.raises(ConfigError, match="have 3 rows but the pool has 2"):
        PrecomputedEmbedder(np.zeros((3, 2))).embed(pool)
