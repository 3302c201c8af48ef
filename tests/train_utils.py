"""Helpers for the trainer tests: a toy ScienceQA folder with real image files, a subset
manifest over it, and a tiny training configuration that runs in seconds on CPU."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220)}
ANIMALS = [("wolf", "trout"), ("bear", "shark"), ("horse", "salmon")]


def write_toy_scienceqa(root: Path, *, n_train: int = 24, n_test: int = 12, seed: int = 0,
                        images: bool = True) -> Path:
    """A ScienceQA-layout folder: colour problems with an image, mammal problems without."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    problems: dict[str, Any] = {}
    for split, n in (("train", n_train), ("test", n_test)):
        for i in range(n):
            pid = f"{split}{i}"
            if i % 2 == 0:
                colour = list(COLOURS)[int(rng.integers(3))]
                problems[pid] = {
                    "question": "Which colour is the square?", "choices": list(COLOURS),
                    "answer": list(COLOURS).index(colour), "hint": "", "image": "image.png",
                    "subject": "natural science", "topic": "colours", "category": "Colours",
                    "skill": "colours", "grade": "grade2", "split": split,
                    "lecture": "Colours are seen by the eye.", "solution": f"The square is {colour}.",
                    "caption": f"A {colour} square.",
                }
                if images:
                    folder = root / "images" / split / pid
                    folder.mkdir(parents=True, exist_ok=True)
                    Image.new("RGB", (40, 40), COLOURS[colour]).save(folder / "image.png")
            else:
                mammal, fish = ANIMALS[int(rng.integers(len(ANIMALS)))]
                choices = [mammal, fish] if rng.random() < 0.5 else [fish, mammal]
                problems[pid] = {
                    "question": "Which is a mammal?", "choices": choices, "answer": choices.index(mammal),
                    "hint": "Mammals have fur." if i % 4 == 1 else "", "image": None,
                    "subject": "social science" if i % 3 else "language science", "topic": "animals",
                    "category": "Mammals", "skill": "mammals", "grade": "grade8", "split": split,
                    "lecture": "A mammal has fur.", "solution": f"A {mammal} is a mammal.",
                }
    root.mkdir(parents=True, exist_ok=True)
    (root / "problems.json").write_text(json.dumps(problems), encoding="utf-8")
    return root


def write_manifest(data: Path, out: Path, *, k: int | None = None, seed: int = 0) -> Path:
    from vlprune import RandomSelector, SubsetManifest, load_pool

    pool = load_pool("scienceqa", str(data), split="train")
    selection = RandomSelector().select(pool, k or len(pool), seed=seed)
    SubsetManifest.from_selection(selection, pool).save(out)
    return out


def tiny_overrides(**extra: Any) -> dict[str, Any]:
    """The tiny preset cut down further for unit tests (seconds per run)."""
    overrides: dict[str, Any] = {
        "model.preset": "tiny", "model.vocab_size": 320,
        "base.epochs": 0, "stage1.epochs": 1, "stage1.batch_size": 8, "stage1.micro_batch_size": 8,
        "stage2.epochs": 2, "stage2.batch_size": 8, "stage2.micro_batch_size": 4,
        "eval.batch_size": 8,
    }
    overrides.update(extra)
    return overrides


MICRO = dict(
    text=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
              num_key_value_heads=1, head_dim=16, max_position_embeddings=512, sliding_window=128,
              tie_word_embeddings=True),
    vision=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                image_size=16, patch_size=8, projection_dim=32),
)


def register_micro_preset(monkeypatch) -> None:
    """A preset far smaller than ``tiny`` so that a whole training run takes a second or two."""
    from vlprune.train import presets

    micro = presets.Preset("micro", "unit tests", MICRO["text"], MICRO["vision"],
                           defaults={**presets.TINY.defaults, "model": {"vocab_size": 400, "vision_feature_layer": -1}})
    monkeypatch.setitem(presets.PRESETS, "micro", micro)


def micro_overrides(**extra: Any) -> dict[str, Any]:
    """A complete run on the micro preset: no base pretraining, 1 stage-1 epoch, 2 stage-2 epochs."""
    overrides: dict[str, Any] = {
        "model.preset": "micro", "base.epochs": 0,
        "stage1.epochs": 1, "stage1.batch_size": 8, "stage1.micro_batch_size": 8,
        "stage2.epochs": 2, "stage2.batch_size": 8, "stage2.micro_batch_size": 4,
        "eval.batch_size": 16,
        # pinned, not the preset's: the tests check letter scoring and name this rate
        "stage2.lr": 2e-4, "data.answer": "letter",
    }
    overrides.update(extra)
    return overrides


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory) -> Path:
    """A toy ScienceQA folder (24 train, 12 test problems, half with images) and
    ``subset.json`` selecting all of its train split, side by side."""
    root = tmp_path_factory.mktemp("toy")
    write_toy_scienceqa(root / "data")
    write_manifest(root / "data", root / "subset.json")
    return root


@pytest.fixture
def micro(monkeypatch, tmp_path):
    """The micro preset registered, a private cache folder, and one torch thread (the
    machine is shared: two threads contending for two busy cores run many times slower)."""
    import logging

    import torch

    # vlprune.cli.main() points the root logger at the sys.stderr of the test that called it
    # (pytest's capture, closed afterwards): start each test without that handler.
    for handler in logging.root.handlers[:]:
        logging.root.removeHandler(handler)
    register_micro_preset(monkeypatch)
    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield tmp_path
    torch.set_num_threads(threads)
