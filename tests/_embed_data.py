"""Small pools for the embedder tests, built here (no data outside the repository).

``write_mixed_pool`` writes ScienceQA-layout problems (``problems.json``, ``captions.json``,
``images/train/<pid>/image.png``) and renders a picture for most image problems, so a pool
holds all three kinds of record: text-only, image with pixels, image whose pixels are
missing (its caption stands in).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

_QUESTIONS = [
    ("Which animal is a mammal?", ["wolf", "trout", "frog"], "natural science", "biology"),
    ("Which of these states is farthest north?", ["Maine", "Ohio", "Texas"], "social science", "geography"),
    ("Will these magnets attract or repel each other?", ["attract", "repel"], "natural science", "physics"),
    ("Which word would you find on a dictionary page between cap and cup?", ["cot", "dog"],
     "language science", "vocabulary"),
    ("What is the capital of Ohio?", ["Columbus", "Denver", "Boston"], "social science", "geography"),
    ("Which is a solid?", ["ice", "juice", "steam"], "natural science", "chemistry"),
]
_HINTS = ["", "", "The diagram shows two magnets.", "Wolves have fur and feed their young milk.",
          "Read the map carefully; north is at the top."]


def write_mixed_pool(root: Path, n: int = 24, *, seed: int = 0) -> Path:
    """Write ``n`` problems (half with an image; the last two image problems without pixels)."""
    problems, captions = {}, {}
    for i in range(n):
        question, choices, subject, topic = _QUESTIONS[i % len(_QUESTIONS)]
        pid = str(i + 1)
        has_image = i % 2 == 0
        problems[pid] = {
            "question": question if i < len(_QUESTIONS) else f"{question} ({i})",
            "choices": choices, "answer": i % len(choices), "hint": _HINTS[i % len(_HINTS)],
            "image": "image.png" if has_image else None, "task": "closed choice", "grade": f"grade{2 + i % 6}",
            "subject": subject, "topic": topic, "category": topic.title(), "skill": f"{topic} skill {i % 3}",
            "lecture": "", "solution": "", "split": "train",
        }
        if has_image:
            captions[pid] = f"A picture for problem {pid}: a {choices[0]} next to a {choices[-1]}."
    root.mkdir(parents=True, exist_ok=True)
    (root / "problems.json").write_text(json.dumps(problems))
    (root / "captions.json").write_text(json.dumps(captions))
    from PIL import Image

    rng = np.random.default_rng(seed)
    for pid in sorted(captions, key=int)[:-2]:  # the last two image problems keep their pixels missing
        folder = root / "images" / "train" / pid
        folder.mkdir(parents=True, exist_ok=True)
        pixels = (rng.random((24 + int(pid) % 9, 30, 3)) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / "image.png")
    return root


def load_mixed_pool(root: Path):
    from vlprune.data.loaders import load_pool

    return load_pool("scienceqa", root, split="train")


def text_pool(questions: list[str], *, name: str = "texts"):
    """A pool of text-only records with the given questions (other fields filled in)."""
    from vlprune.data.pool import DatasetRef, Pool, records_to_table

    records = [{"id": f"{name}-{i}", "split": "train", "question": q, "choices": ["yes", "no"], "answer": 0,
                "hint": "", "image": "", "caption": "", "subject": "natural science", "topic": "biology",
                "category": "", "skill": "", "grade": 3, "lecture": "", "solution": "", "source": name,
                "conversations": [], "image_path": ""} for i, q in enumerate(questions)]
    return Pool(records_to_table(records), DatasetRef("test", name, "train"))
