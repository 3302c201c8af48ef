"""Shared fixtures: the real ScienceQA sample, small hand-made pools, a private cache dir."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from vlprune.data.pool import DatasetRef, Pool, records_to_table

REPO = Path(__file__).resolve().parents[1]
SAMPLE = Path(os.environ.get("VLPRUNE_SCIENCEQA_SAMPLE", REPO.parent / "shared" / "data" / "scienceqa-sample"))


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The real ScienceQA sample (1,773 records, no pixels), which lives outside the repo."""
    if not (SAMPLE / "problems.json").exists():
        pytest.skip(f"ScienceQA sample not found at {SAMPLE} (set VLPRUNE_SCIENCEQA_SAMPLE)")
    return SAMPLE


def make_record(i: int, **overrides) -> dict:
    """A valid pool record with sensible defaults; ``overrides`` replace fields."""
    record = {
        "id": f"r{i}",
        "split": "train",
        "question": f"Question {i}?",
        "choices": ["yes", "no"],
        "answer": 0,
        "hint": "",
        "image": "",
        "caption": "",
        "subject": "natural science",
        "topic": "biology",
        "category": "Classification",
        "skill": "Identify mammals",
        "grade": 3,
        "lecture": "",
        "solution": "",
        "source": "test",
        "conversations": None,
        "image_path": "",
    }
    record.update(overrides)
    return record


def make_pool(records: list[dict]) -> Pool:
    return Pool(records_to_table(records), DatasetRef("test", None, "train"))


def random_pool(n: int, seed: int = 0, n_topics: int = 5) -> Pool:
    """A pool of n records with random topics, grades, images and choice counts."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        n_choices = int(rng.integers(2, 6))
        records.append(make_record(
            i,
            topic=f"topic{int(rng.integers(n_topics))}",
            skill=f"skill{int(rng.integers(3 * n_topics))}",
            subject=["natural science", "social science", "language science"][int(rng.integers(3))],
            grade=int(rng.integers(1, 13)),
            image="image.png" if rng.random() < 0.5 else "",
            choices=[f"c{j}" for j in range(n_choices)],
            answer=int(rng.integers(n_choices)),
            solution=" ".join(["word"] * int(rng.integers(0, 80))),
            hint="some context" if rng.random() < 0.3 else "",
        ))
    return make_pool(records)



# Tiny random CLIP and LLaVA checkpoints, built once per test session (several embed tests
# load them; building one takes seconds).
@pytest.fixture(scope="session")
def clip_path(tmp_path_factory):
    from vlprune.embed.tiny import make_tiny_clip

    return str(make_tiny_clip(tmp_path_factory.mktemp("clip")))


@pytest.fixture(scope="session")
def llava_path(tmp_path_factory):
    from vlprune.embed.tiny import make_tiny_llava

    return str(make_tiny_llava(tmp_path_factory.mktemp("llava")))
