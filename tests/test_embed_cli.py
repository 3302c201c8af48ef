"""``vlprune embed`` and the embedder options of ``vlprune select``, end to end in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import vlprune
from _embed_data import write_mixed_pool
from vlprune.cli import main
from vlprune.embed import load_embeddings
from vlprune.embed.store import sidecar_path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return str(write_mixed_pool(tmp_path_factory.mktemp("mixed")))


@pytest.fixture(scope="module")
def other_data(tmp_path_factory):
    """A different pool: fewer of the same records."""
    return str(write_mixed_pool(tmp_path_factory.mktemp("other"), n=20))


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cache"


def run(*argv: str) -> int:
    return main(["-q", *argv])


def error_line(capsys) -> str:
    """The one error line on stderr (the fixture's missing-images warning may come before it)."""
    err = [line for line in capsys.readouterr().err.strip().splitlines() if "images were not found" not in line]
    assert len(err) == 1, err
    return err[0]


def ds(data: str) -> list[str]:
    return ["--dataset", "scienceqa", "--data", data]


def test_embed_clip_end_to_end_through_model_path(data, clip_path, capsys, cache, monkeypatch):
    from transformers import CLIPModel

    calls = []
    original = CLIPModel.get_text_features
    monkeypatch.setattr(CLIPModel, "get_text_features", lambda self, **kw: calls.append(1) or original(self, **kw))
    assert run("embed", "--embedder", "clip", "--model", clip_path, *ds(data), "--out", "emb.npy",
               "--batch-size", "8", "--device", "cpu") == 0
    assert "wrote emb.npy: 24 x 32 float32, embedder clip" in capsys.readouterr().out
    X, meta = load_embeddings("emb.npy")
    assert X.shape == (24, 32) and meta["embedder"]["params"]["model"] == clip_path
    assert meta["embedder"]["params"]["batch_size"] == 8 and len(calls) == 3
    # The second run is served by the cache (no model call) and writes the same file.
    assert run("embed", "--embedder", f"clip:{clip_path}", *ds(data), "--out", "again.npy") == 0
    assert len(calls) == 3
    np.testing.assert_array_equal(np.load("again.npy"), X)
    assert list((cache / "embeddings").glob("clip-*.npy"))


def test_embed_llava_end_to_end_through_model_path(data, llava_path, capsys):
    assert run("embed", "--embedder", "llava", "--model", llava_path, *ds(data), "--out", "emb.npy",
               "--no-cache") == 0
    X, meta = load_embeddings("emb.npy")
    assert X.shape == (24, 32) and np.isfinite(X).all()
    assert meta["embedder"]["name"] == "llava" and not Path("cache").exists()


def test_embed_param_reaches_the_embedder(data, clip_path):
    assert run("embed", "--embedder", "clip", "--model", clip_path, "--param", "join=average",
               "--param", "fields=question,choices", *ds(data), "--out", "emb.npy") == 0
    X, meta = load_embeddings("emb.npy")
    assert X.shape == (24, 16)
    assert meta["embedder"]["params"]["fields"] == ["question", "choices"]


def test_embed_shards_merge_to_the_unsharded_result(data, clip_path, capsys):
    spec = f"clip:{clip_path}+tfidf*0.5"
    for i in range(3):
        assert run("embed", "--embedder", spec, *ds(data), "--shard", f"{i}/3", "--out", f"s{i}.npy") == 0
    assert "shard 2/3 (rows 16-24)" in capsys.readouterr().out
    assert run("embed", "--merge", "s2.npy", "s0.npy", "s1.npy", "--out", "merged.npy") == 0
    assert run("embed", "--embedder", spec, *ds(data), "--out", "whole.npy", "--no-cache") == 0
    np.testing.assert_allclose(np.load("merged.npy"), np.load("whole.npy"), atol=1e-6)
    assert json.loads(sidecar_path("merged.npy").read_text())["shard"] is None


@pytest.mark.parametrize("argv, message", [
    (["--embedder", "clipp"], "unknown embedder 'clipp' (did you mean 'clip'?)"),
    (["--embedder", "tfidf", "--shard", "3/3"], "the index counts from 0, so it must lie in 0..2"),
    (["--embedder", "tfidf", "--shard", "half"], "a shard is written I/N"),
    (["--embedder", "tfidf", "--batch-size", "8"], "embedder 'tfidf' takes no parameter(s) batch_size"),
    (["--embedder", "tfidf", "--model", "x"], "embedder 'tfidf' takes no model"),
    (["--embedder", "llava"], "the llava embedder needs a model"),
    (["--embedder", "clip+llava", "--model", "m"], "several parts of 'clip+llava' take a model"),
    (["--embedder", "tfidf*x"], "bad weight 'x'"),
    (["--embedder", "minilm", "--param", "caption=sometimes"], "caption must be one of missing, always, never"),
    (["--embedder", "tfidf", "--param", "nope"], "--param takes NAME=VALUE"),
    ([], "give --embedder NAME"),
    (["--merge", "a.npy", "--embedder", "tfidf"], "--merge takes only shard files and --out, not --embedder"),
    (["--merge", "missing.npy"], "missing.npy: file not found"),
])
def test_embed_bad_input_is_one_line_and_exit_2(data, capsys, argv, message):
    assert run("embed", *argv, *ds(data), "--out", "emb.npy") == 2
    line = error_line(capsys)
    assert line.startswith("vlprune embed: error: ") and message in line, line
    assert not Path("emb.npy").exists()


def test_merge_of_mismatched_shards_is_one_line_and_exit_2(data, other_data, capsys):
    assert run("embed", "--embedder", "pixels", *ds(data), "--shard", "0/2", "--out", "a.npy") == 0
    assert run("embed", "--embedder", "tfidf", *ds(data), "--shard", "1/2", "--out", "b.npy") == 0
    assert run("embed", "--embedder", "pixels", *ds(other_data), "--shard", "1/2", "--out", "c.npy") == 0
    capsys.readouterr()
    assert run("embed", "--merge", "a.npy", "b.npy", "--out", "emb.npy") == 2
    assert "a.npy and b.npy cannot be merged: they come from different embedders (pixels and tfidf)" in error_line(capsys)
    assert run("embed", "--merge", "a.npy", "c.npy", "--out", "emb.npy") == 2
    assert "different pools" in error_line(capsys)
    assert run("embed", "--merge", "a.npy", "--out", "emb.npy") == 2
    assert "shard(s) 1/2 missing" in error_line(capsys)
    assert not Path("emb.npy").exists()


def test_output_is_written_atomically(data, capsys, monkeypatch):
    Path("emb.npy").write_bytes(b"previous")

    def failing_save(file, arr, **kw):
        file.write(b"\x93NUMPY partial")
        raise OSError("No space left on device")

    monkeypatch.setattr("vlprune.embed.store.np.save", failing_save)
    assert run("embed", "--embedder", "pixels", *ds(data), "--out", "emb.npy", "--no-cache") == 2
    assert "No space left on device" in error_line(capsys)
    assert Path("emb.npy").read_bytes() == b"previous"
    assert sorted(p.name for p in Path().iterdir()) == ["emb.npy"]  # no temporary files left


def test_select_farthest_point_with_a_model_embedder(data, clip_path, capsys):
    assert run("select", "--selector", "farthest-point", "--embedder", "clip", "--model", clip_path,
               "--k", "5", *ds(data), "--out", "subset.json") == 0
    manifest = json.loads(Path("subset.json").read_text())
    assert manifest["embedder"]["name"] == "clip" and manifest["embedder"]["params"]["model"] == clip_path
    assert run("select", "--selector", "farthest-point", "--embedder", f"clip:{clip_path}", "--k", "5",
               *ds(data), "--out", "again.json") == 0
    assert json.loads(Path("again.json").read_text())["ids"] == manifest["ids"]


def test_select_with_embeddings_from_vlprune_embed(data, other_data, clip_path, capsys):
    assert run("embed", "--embedder", f"clip:{clip_path}", *ds(data), "--out", "emb.npy") == 0
    assert run("select", "--embeddings", "emb.npy", "--k", "5", *ds(data), "--out", "a.json") == 0
    assert run("select", "--embedder", f"clip:{clip_path}", "--k", "5", *ds(data), "--out", "b.json") == 0
    a, b = (json.loads(Path(f).read_text()) for f in ("a.json", "b.json"))
    assert a["ids"] == b["ids"]
    assert a["embedder"]["params"]["source"]["name"] == "clip"
    capsys.readouterr()
    # embeddings of another pool, a shard, and --model with them are refused
    assert run("select", "--embeddings", "emb.npy", "--k", "5", *ds(other_data), "--out", "c.json") == 2
    assert "were computed for a different pool" in error_line(capsys)
    assert run("embed", "--embedder", "pixels", *ds(data), "--shard", "0/2", "--out", "s0.npy") == 0
    capsys.readouterr()
    assert run("select", "--embeddings", "s0.npy", "--k", "5", *ds(data), "--out", "c.json") == 2
    assert "is shard 0/2 of a sharded run; merge the shards first" in error_line(capsys)
    assert run("select", "--embeddings", "emb.npy", "--model", clip_path, "--k", "5", *ds(data)) == 2
    assert "--model applies to --embedder" in error_line(capsys)
    assert run("select", "--selector", "random", "--model", clip_path, "--k", "5", *ds(data)) == 2
    assert "--model applies to embedding-based selectors" in error_line(capsys)
    assert not Path("c.json").exists()


def test_help_does_not_import_torch():
    src = str(Path(vlprune.__file__).resolve().parents[1])
    code = ("import sys; from vlprune.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'transformers', 'sklearn', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": src})
    assert out.stdout.strip() == "[]"


def test_select_default_embeds_with_minilm_and_pixels_through_the_cache(data, cache, capsys):
    assert run("select", "--k", "6", *ds(data), "--out", "subset.json") == 0
    manifest = json.loads(Path("subset.json").read_text())
    assert manifest["selector"]["name"] == "farthest-point" and manifest["embedder"]["name"] == "default"
    assert [part[0]["name"] for part in manifest["embedder"]["params"]["parts"]] == ["minilm", "pixels"]
    entries = sorted(p.name.split("-")[0] for p in (cache / "embeddings").glob("*.npy"))
    assert entries == ["minilm", "pixels"]
    # the selection is the farthest-point order over the default embedding
    from vlprune.data.loaders import load_pool
    from vlprune.embed import get_embedder
    from vlprune.select.farthest_point import FarthestPointSelector

    X = get_embedder("minilm+pixels", device="cpu").embed(load_pool("scienceqa", data))
    expected = FarthestPointSelector().select(X, 6, seed=0).positions
    assert manifest["ids"] == [f"{p + 1}" for p in expected]
