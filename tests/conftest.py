"""Shared fixtures: real ScienceQA (the sample and the text-only train/test), small
hand-made pools, and a private cache for the whole session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from vlprune.data.pool import DatasetRef, Pool, records_to_table

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SAMPLE = Path(os.environ.get("VLPRUNE_SCIENCEQA_SAMPLE", DATA / "scienceqa-sample"))
#: Real ScienceQA text: 12,237 train and 4,241 test problems, no pixels (its README says
#: which fields are known for how many records). Present in CI; tests skip without it.
SCIENCEQA_TEXT = Path(os.environ.get("VLPRUNE_SCIENCEQA_TEXT", DATA / "scienceqa-text"))


# -- real ScienceQA --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The real ScienceQA sample (1,773 records, no pixels), which lives outside the repo."""
    if not (SAMPLE / "problems.json").exists():
        pytest.skip(f"ScienceQA sample not found at {SAMPLE} (set VLPRUNE_SCIENCEQA_SAMPLE)")
    return SAMPLE


@pytest.fixture(scope="session")
def scienceqa_text_dir() -> Path:
    """The real ScienceQA text folder (train 12,237 / test 4,241), outside the repo."""
    if not (SCIENCEQA_TEXT / "problems.json").exists():
        pytest.skip(f"real ScienceQA text not found at {SCIENCEQA_TEXT} "
                    "(../shared/data/scienceqa-text; set VLPRUNE_SCIENCEQA_TEXT)")
    return SCIENCEQA_TEXT


@pytest.fixture(scope="session")
def scienceqa_text(scienceqa_text_dir):
    """The real train and test pools, loaded once per session (a few seconds each)."""
    from vlprune import load_pool

    return {split: load_pool("scienceqa", scienceqa_text_dir, split=split) for split in ("train", "test")}


#: How many problems of each split the slice takes: enough for every kind of unknown.
SLICE = {"train": 300, "test": 100}


@pytest.fixture(scope="session")
def scienceqa_text_slice(scienceqa_text_dir, tmp_path_factory) -> Path:
    """A small copy of the real ScienceQA text, in its layout, for tests that run commands:
    the first train and test problems in pid order (of which some know every field and some
    lack hint, subject, grade...), their captions, and pid_splits.json cut to those pids."""
    problems = json.loads((scienceqa_text_dir / "problems.json").read_text())
    captions = json.loads((scienceqa_text_dir / "captions.json").read_text())
    splits = json.loads((scienceqa_text_dir / "pid_splits.json").read_text())
    chosen: dict[str, dict] = {}
    for split, n in SLICE.items():
        # Every fifth problem of the split, so the slice mixes the sources the README lists.
        pids = [pid for pid in splits[split] if pid in problems][::5][:n]
        chosen.update({pid: problems[pid] for pid in pids})
    root = tmp_path_factory.mktemp("scienceqa-text-slice")
    (root / "problems.json").write_text(json.dumps(chosen))
    (root / "captions.json").write_text(json.dumps({p: c for p, c in captions.items() if p in chosen}))
    (root / "pid_splits.json").write_text(json.dumps(
        {name: [p for p in pids if p in chosen] for name, pids in splits.items()}))
    return root


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
