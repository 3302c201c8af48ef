"""The on-disk embedding cache: hits do not recompute, changes miss, damage is repaired."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from _embed_data import load_mixed_pool, write_mixed_pool
from vlprune.embed import cached_embed, get_embedder, load_embeddings
from vlprune.embed.cache import cache_entry
from vlprune.embed.clip import CLIPEmbedder
from vlprune.embed.store import sidecar_path
from vlprune.embed.tfidf import TfidfEmbedder
from vlprune.errors import DataError


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    return load_mixed_pool(write_mixed_pool(tmp_path_factory.mktemp("mixed")))


@pytest.fixture
def calls(monkeypatch):
    """Counts CLIP text-tower forward calls (one per batch) made by the embedders."""
    from transformers import CLIPModel

    counter = {"clip": 0}
    original = CLIPModel.get_text_features

    def counting(self, *args, **kwargs):
        counter["clip"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CLIPModel, "get_text_features", counting)
    return counter


def test_hit_does_not_recompute(pool, clip_path, tmp_path, calls):
    emb = CLIPEmbedder(model=clip_path, device="cpu", batch_size=8)
    first = cached_embed(emb, pool, tmp_path)
    assert calls["clip"] == 3  # 24 records in batches of 8
    again = cached_embed(CLIPEmbedder(model=clip_path, device="cpu", batch_size=8), pool, tmp_path)
    assert calls["clip"] == 3
    assert isinstance(again, np.memmap) and not again.flags.writeable
    np.testing.assert_array_equal(first, again)
    # Runtime options do not change the vectors, so they share the entry.
    cached_embed(CLIPEmbedder(model=clip_path, device="cpu", batch_size=5, progress=False), pool, tmp_path)
    assert calls["clip"] == 3


def test_changed_parameter_or_pool_misses(pool, clip_path, tmp_path, calls):
    cached_embed(CLIPEmbedder(model=clip_path, device="cpu"), pool, tmp_path)
    n = calls["clip"]
    X = cached_embed(CLIPEmbedder(model=clip_path, device="cpu", caption="never"), pool, tmp_path)
    assert calls["clip"] == 2 * n
    cached_embed(CLIPEmbedder(model=clip_path, device="cpu"), pool.subset(range(10)), tmp_path)
    assert calls["clip"] == 2 * n + 1
    assert X.shape == (len(pool), 32)
    assert len(list(tmp_path.glob("clip-*.npy"))) == 3


def test_changed_images_miss(pool, tmp_path):
    a = cache_entry(get_embedder("pixels"), pool, tmp_path)
    fewer = pool.subset(range(len(pool)))
    fewer.table.loc[int(np.flatnonzero(pool.image_available)[0]), "image_path"] = ""
    assert fewer.fingerprint == pool.fingerprint
    assert cache_entry(get_embedder("pixels"), fewer, tmp_path) != a


@pytest.mark.parametrize("damage", ["truncate", "flip", "drop-sidecar", "garble-sidecar"])
def test_damaged_entry_is_rebuilt_with_a_warning(pool, clip_path, tmp_path, calls, caplog, damage):
    emb = CLIPEmbedder(model=clip_path, device="cpu")
    good = np.array(cached_embed(emb, pool, tmp_path))
    n = calls["clip"]
    path = cache_entry(emb, pool, tmp_path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:-5] + bytes([data[-5] ^ 0xFF]) + data[-4:])
    elif damage == "drop-sidecar":
        sidecar_path(path).unlink()
    else:
        sidecar_path(path).write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="vlprune"):
        rebuilt = cached_embed(emb, pool, tmp_path)
    assert calls["clip"] == 2 * n
    np.testing.assert_array_equal(rebuilt, good)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unusable" in warnings[0].getMessage() and path.name in warnings[0].getMessage()
    # ... and the entry is whole again: the next call reads it without a warning.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vlprune"):
        np.testing.assert_array_equal(cached_embed(emb, pool, tmp_path), good)
    assert calls["clip"] == 2 * n and not caplog.records


def test_joint_embedder_caches_each_part(pool, tmp_path, monkeypatch):
    counts = {"tfidf": 0}
    original = TfidfEmbedder._embed

    def counting(self, p):
        counts["tfidf"] += 1
        return original(self, p)

    monkeypatch.setattr(TfidfEmbedder, "_embed", counting)
    a = cached_embed("tfidf+pixels", pool, tmp_path)
    b = cached_embed("tfidf*0.5+pixels", pool, tmp_path)  # a new weight reuses the parts
    assert counts["tfidf"] == 1
    np.testing.assert_allclose(b[:, :256], 0.5 * a[:, :256], atol=1e-6)
    np.testing.assert_array_equal(a, get_embedder("tfidf+pixels").embed(pool))


def test_rows_are_cached_apart_and_agree_with_the_whole(pool, tmp_path):
    whole = cached_embed("tfidf", pool, tmp_path)
    part = cached_embed("tfidf", pool, tmp_path, rows=(5, 17))
    np.testing.assert_array_equal(part, whole[5:17])
    assert len(list(tmp_path.glob("tfidf-*.npy"))) == 2


def test_default_cache_dir_follows_the_environment(pool, tmp_path, monkeypatch):
    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path / "c"))
    cached_embed("pixels", pool)
    entries = list((tmp_path / "c" / "embeddings").glob("pixels-*.npy"))
    assert len(entries) == 1
    meta = json.loads(sidecar_path(entries[0]).read_text())
    assert meta["pool"]["fingerprint"] == pool.fingerprint
    assert meta["embedder"]["fingerprint"] == get_embedder("pixels").fingerprint
    assert meta["rows"] == [0, len(pool)] and meta["shape"][0] == len(pool)


def test_load_embeddings_reports_mismatched_shape(pool, tmp_path):
    cached_embed("pixels", pool, tmp_path)
    path = next(tmp_path.glob("pixels-*.npy"))
    np.save(path, np.zeros((3, 3), dtype=np.float32))
    with pytest.raises(DataError, match=r"sidecar says float32 \[24, 193\]"):
        load_embeddings(path)


def test_unwritable_cache_warns_and_still_returns(pool, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="vlprune"):
        X = cached_embed("pixels", pool, blocker)
    assert X.shape == (len(pool), 193)
    assert any("could not write embedding cache" in r.getMessage() for r in caplog.records)
