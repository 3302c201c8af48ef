"""Small pools for the embedder tests: real ScienceQA records with rendered pictures.

``mixed_pool_dir`` copies 24 train records of the ScienceQA sample into a folder in the
original layout and renders a picture for most of its image problems, so a pool holds all
three kinds of record: text-only, image with pixels, image whose pixels are missing (its
caption stands in).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SAMPLE = Path("/work/shared/data/scienceqa-sample")


def write_mixed_pool(root: Path, n: int = 24, *, seed: int = 0) -> Path:
    problems = json.loads((SAMPLE / "problems.json").read_text())
    captions = json.loads((SAMPLE / "captions.json").read_text())
    captions = captions.get("captions", captions)
    train = [pid for pid, p in problems.items() if p["split"] == "train"]
    with_image = [pid for pid in train if problems[pid]["image"]][: n // 2]
    text_only = [pid for pid in train if not problems[pid]["image"]][: n - len(with_image)]
    chosen = sorted(with_image + text_only, key=int)
    root.mkdir(parents=True, exist_ok=True)
    (root / "problems.json").write_text(json.dumps({pid: problems[pid] for pid in chosen}))
    (root / "captions.json").write_text(json.dumps({pid: captions.get(pid, f"a picture for problem {pid}")
                                                    for pid in with_image}))
    from PIL import Image

    rng = np.random.default_rng(seed)
    for pid in with_image[:-2]:  # the last two image problems keep their pixels missing
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
