"""The model embedders: MiniLM (real packaged weights), tiny random CLIP and LLaVA."""

from __future__ import annotations

import numpy as np
import pytest

from _embed_data import load_mixed_pool, text_pool, write_mixed_pool
from vlprune.data.prompts import format_prompt
from vlprune.embed import get_embedder
from vlprune.embed.clip import CLIPEmbedder
from vlprune.embed.llava import LlavaEmbedder
from vlprune.embed.minilm import MiniLMEmbedder
from vlprune.embed.tiny import make_tiny_clip
from vlprune.errors import ConfigError


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    return load_mixed_pool(write_mixed_pool(tmp_path_factory.mktemp("mixed")))


def kinds(pool):
    """Positions of text-only records, records with pixels, and records whose pixels are missing."""
    text_only = np.flatnonzero(~pool.has_image)
    pixels = np.flatnonzero(pool.image_available)
    missing = np.flatnonzero(pool.has_image & ~pool.image_available)
    assert len(text_only) and len(pixels) and len(missing), "the fixture must hold all three kinds"
    return text_only, pixels, missing


# -- MiniLM -----------------------------------------------------------------------------------
def test_minilm_paraphrase_lands_nearer_than_unrelated_sentence():
    pool = text_pool(["Which of these animals is a mammal?",
                      "Which animal here is a mammal?",
                      "What is the boiling point of water at sea level?"])
    X = MiniLMEmbedder(fields=("question",), device="cpu").embed(pool)
    assert X.shape == (3, 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    d_para, d_other = np.linalg.norm(X[0] - X[1]), np.linalg.norm(X[0] - X[2])
    assert d_para < 0.6 < d_other, (d_para, d_other)


def test_minilm_reads_captions_only_where_pixels_are_missing(pool):
    text_only, pixels, missing = kinds(pool)
    with_caption = MiniLMEmbedder(fields=("question",), device="cpu").embed(pool)
    without = MiniLMEmbedder(fields=("question",), device="cpu", caption="never").embed(pool)
    always = MiniLMEmbedder(fields=("question",), device="cpu", caption="always").embed(pool)
    same = np.all(np.isclose(with_caption, without, atol=1e-6), axis=1)
    assert same[text_only].all() and same[pixels].all()
    assert not same[missing].any()
    # "always" also adds the caption of problems whose pixels are there.
    assert not np.all(np.isclose(always, without, atol=1e-6), axis=1)[pixels].any()
    again = MiniLMEmbedder(fields=("question",), device="cpu").embed(pool)
    np.testing.assert_array_equal(again, with_caption)  # deterministic


def test_minilm_rows_equal_the_rows_of_the_whole_pool(pool):
    emb = MiniLMEmbedder(device="cpu", batch_size=5)
    np.testing.assert_allclose(emb.embed(pool, rows=(7, 19)), emb.embed(pool)[7:19], atol=1e-6)


# -- CLIP -------------------------------------------------------------------------------------
def test_clip_concat_has_a_zero_image_half_without_pixels(pool, clip_path):
    text_only, pixels, missing = kinds(pool)
    X = CLIPEmbedder(model=clip_path, device="cpu", batch_size=7).embed(pool)
    assert X.shape == (len(pool), 32)
    text, image = X[:, :16], X[:, 16:]
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(image[pixels], axis=1), 1.0, atol=1e-5)
    assert not image[text_only].any() and not image[missing].any()
    # different pictures give different image halves
    assert np.linalg.norm(image[pixels[0]] - image[pixels[1]]) > 1e-3


def test_clip_average_is_text_alone_without_pixels(pool, clip_path):
    text_only, pixels, _ = kinds(pool)
    concat = CLIPEmbedder(model=clip_path, device="cpu").embed(pool)
    avg = CLIPEmbedder(model=clip_path, device="cpu", join="average").embed(pool)
    assert avg.shape == (len(pool), 16)
    np.testing.assert_allclose(np.linalg.norm(avg, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(avg[text_only], concat[text_only, :16], atol=1e-6)
    mean = concat[pixels, :16] + concat[pixels, 16:]
    np.testing.assert_allclose(avg[pixels], mean / np.linalg.norm(mean, axis=1, keepdims=True), atol=1e-5)


def test_clip_caption_stands_in_for_missing_pixels(pool, clip_path):
    text_only, pixels, missing = kinds(pool)
    a = CLIPEmbedder(model=clip_path, device="cpu").embed(pool)
    b = CLIPEmbedder(model=clip_path, device="cpu", caption="never").embed(pool)
    same = np.all(np.isclose(a, b, atol=1e-6), axis=1)
    assert same[text_only].all() and same[pixels].all() and not same[missing].any()


def test_clip_bad_parameters_and_missing_model(pool, tmp_path):
    with pytest.raises(ConfigError, match="join must be one of concat, average"):
        CLIPEmbedder(model="x", join="sum").embed(pool)
    with pytest.raises(ConfigError, match="caption must be one of"):
        CLIPEmbedder(model="x", caption="sometimes").embed(pool)
    with pytest.raises(ConfigError, match="batch_size must be >= 1"):
        CLIPEmbedder(model="x", batch_size=0).embed(pool)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"cannot load CLIP model .*empty.*\(folder\)"):
        CLIPEmbedder(model=str(tmp_path / "empty"), device="cpu").embed(pool)


# -- LLaVA ------------------------------------------------------------------------------------
def test_llava_prompts_follow_the_trainer_prompt(pool):
    text_only, pixels, missing = kinds(pool)
    prompts = LlavaEmbedder(model="unused").prompts(pool)
    records = pool.table.to_dict("records")
    for pos in pixels:
        assert prompts[pos] == format_prompt(records[pos]) and prompts[pos].startswith("<image>\n")
    for pos in text_only:
        assert prompts[pos] == format_prompt(records[pos]) and "<image>" not in prompts[pos]
    for pos in missing:
        assert prompts[pos] == f"Image: {records[pos]['caption']}\n" + format_prompt(records[pos], image_token=False)


def test_llava_embeds_every_kind_of_record_padding_free(pool, llava_path):
    text_only, pixels, missing = kinds(pool)
    emb = LlavaEmbedder(model=llava_path, device="cpu", batch_size=6)
    X = emb.embed(pool)
    assert X.shape == (len(pool), 32) and np.isfinite(X).all()
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    # A record embedded alone (no padding) equals its row in a padded batch.
    for pos in (text_only[0], pixels[0], missing[0]):
        alone = emb.embed(pool, rows=(int(pos), int(pos) + 1))
        np.testing.assert_allclose(alone[0], X[pos], atol=1e-5)
    # The image changes the vector: the same record without its pixels differs.
    no_pixels = LlavaEmbedder(model=llava_path, device="cpu", caption="never")
    sub = pool.subset([pixels[0]])
    sub.table.loc[0, "image_path"] = ""
    assert np.linalg.norm(no_pixels.embed(sub)[0] - X[pixels[0]]) > 1e-3


def test_llava_needs_a_model(pool):
    with pytest.raises(ConfigError, match="llava embedder needs a model"):
        LlavaEmbedder().embed(pool)
    with pytest.raises(ConfigError, match="llava embedder needs a model"):
        get_embedder("llava").fingerprint  # noqa: B018


def test_model_signature_follows_the_weights(clip_path, tmp_path):
    import shutil

    a = CLIPEmbedder(model=clip_path, device="cpu")
    copy = shutil.copytree(clip_path, tmp_path / "copy")
    assert CLIPEmbedder(model=str(copy), device="cpu").fingerprint_extras() == a.fingerprint_extras()
    other = make_tiny_clip(tmp_path / "other", seed=1)
    assert CLIPEmbedder(model=str(other), device="cpu").fingerprint != a.fingerprint
