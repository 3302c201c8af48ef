"""Sharded embedding: shard ranges, merged shards equal the unsharded result, merge checks."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _embed_data import load_mixed_pool, write_mixed_pool
from vlprune.embed import (
    embed_to_file,
    get_embedder,
    load_embeddings,
    merge_shards,
    parse_shard,
    shard_rows,
)
from vlprune.embed.clip import CLIPEmbedder
from vlprune.embed.store import sidecar_path
from vlprune.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    return load_mixed_pool(write_mixed_pool(tmp_path_factory.mktemp("mixed")))


@given(st.integers(0, 5000), st.integers(1, 64))
def test_shards_tile_the_pool(n, count):
    ranges = [shard_rows(n, i, count) for i in range(count)]
    assert ranges[0][0] == 0 and ranges[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("text, expected", [("0/1", (0, 1)), ("3/4", (3, 4)), (" 2 / 7 ", (2, 7))])
def test_parse_shard(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text, message", [("4/4", r"0\.\.3"), ("1/0", "at least 1"), ("a/b", "I/N"),
                                           ("1", "I/N"), ("-1/4", r"0\.\.3")])
def test_parse_shard_rejects(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_shard(text)


def _shards(spec, pool, folder, count, **kw):
    paths = [folder / f"s{i}.npy" for i in range(count)]
    for i, p in enumerate(paths):
        embed_to_file(spec, pool, p, shard=(i, count), use_cache=False, **kw)
    return paths


@pytest.mark.parametrize("spec", ["tfidf", "pixels", "tfidf+pixels*0.5"])
def test_merged_pool_level_shards_equal_the_unsharded_result_exactly(pool, tmp_path, spec):
    paths = _shards(spec, pool, tmp_path, 3)
    meta = merge_shards(paths[::-1], tmp_path / "merged.npy")  # order of the arguments is free
    whole = embed_to_file(spec, pool, tmp_path / "whole.npy", use_cache=False)
    merged, _ = load_embeddings(tmp_path / "merged.npy")
    np.testing.assert_array_equal(merged, load_embeddings(tmp_path / "whole.npy")[0])
    assert meta["shard"] is None and meta["rows"] == [0, len(pool)]
    assert meta["embedder"]["fingerprint"] == whole["embedder"]["fingerprint"]
    assert meta["sha256"] == whole["sha256"]


def test_merged_model_shards_equal_the_unsharded_result(pool, clip_path, tmp_path):
    emb = CLIPEmbedder(model=clip_path, device="cpu", batch_size=4)
    paths = _shards(emb, pool, tmp_path, 5)
    merge_shards(paths, tmp_path / "merged.npy")
    whole = emb.embed(pool)
    np.testing.assert_allclose(load_embeddings(tmp_path / "merged.npy")[0], whole, atol=1e-6)


def test_shard_sidecar_names_index_count_rows_and_fingerprints(pool, tmp_path):
    (path,) = [tmp_path / "s.npy"]
    embed_to_file("tfidf", pool, path, shard=(1, 3), use_cache=False)
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["shard"] == {"index": 1, "count": 3}
    assert meta["rows"] == [8, 16] and meta["shape"] == [8, 256]
    assert meta["pool"]["fingerprint"] == pool.fingerprint and meta["pool"]["size"] == 24
    assert meta["embedder"]["name"] == "tfidf" and meta["embedder"]["fingerprint"].startswith("sha256:")


def test_merge_rejects_missing_and_repeated_shards(pool, tmp_path):
    paths = _shards("pixels", pool, tmp_path, 4)
    with pytest.raises(ConfigError, match=r"shard\(s\) 1/4, 3/4 missing"):
        merge_shards([paths[0], paths[2]], tmp_path / "out.npy")
    with pytest.raises(ConfigError, match=r"shard 2/4 is given twice"):
        merge_shards([paths[2], *paths], tmp_path / "out.npy")
    assert not (tmp_path / "out.npy").exists() and not sidecar_path(tmp_path / "out.npy").exists()


def test_merge_rejects_shards_of_different_runs(pool, tmp_path):
    a = _shards("pixels", pool, tmp_path / "a", 2)
    b = _shards("tfidf", pool, tmp_path / "b", 2)
    c = _shards("pixels", pool.subset(range(20)), tmp_path / "c", 2)
    d = _shards("pixels", pool, tmp_path / "d", 3)
    e = _shards(get_embedder("pixels", size=4), pool, tmp_path / "e", 2)
    with pytest.raises(ConfigError, match=r"different embedders \(pixels and tfidf\)"):
        merge_shards([a[0], b[1]], tmp_path / "out.npy")
    with pytest.raises(ConfigError, match="the pixels embedder with different parameters"):
        merge_shards([a[0], e[1]], tmp_path / "out.npy")
    with pytest.raises(ConfigError, match="different pools"):
        merge_shards([a[0], c[1]], tmp_path / "out.npy")
    with pytest.raises(ConfigError, match="different shard counts"):
        merge_shards([a[0], d[1]], tmp_path / "out.npy")


def test_merge_rejects_files_that_are_not_shards(pool, tmp_path):
    (a0, a1) = _shards("pixels", pool, tmp_path, 2)
    whole = tmp_path / "whole.npy"
    embed_to_file("pixels", pool, whole, use_cache=False)
    with pytest.raises(DataError, match="not a shard"):
        merge_shards([a0, whole], tmp_path / "out.npy")
    plain = tmp_path / "plain.npy"
    np.save(plain, np.zeros((12, 193), dtype=np.float32))
    with pytest.raises(DataError, match="has no sidecar"):
        merge_shards([a0, plain], tmp_path / "out.npy")
    a1.write_bytes(a1.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"s1\.npy"):
        merge_shards([a0, a1], tmp_path / "out.npy")
    with pytest.raises(ConfigError, match="give the shard files"):
        merge_shards([], tmp_path / "out.npy")
