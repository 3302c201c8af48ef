"""Benchmark: how much of the SYNTHETIC test split a train lookup can answer, and how often
captions name the answer.

Usage::

    python benchmarks/synthetic_leak.py [--size full] [--seed 0] [--root DIR] [--minilm]

``--root`` reads any folder in ScienceQA layout (e.g. an older generator's cached copy);
otherwise the synthetic dataset of that size and seed is loaded (generated once into the
cache). Every rate is over the test split against the train split. Definitions:

* **twin**: a train item with the same question, hint, choice SET, answer text and caption
  (the split key since generator version 3; must be 0).
* **verbatim**: the same question, hint, choices in the same order, answer and caption.
* **visible twin**: the same question, hint, choice set and caption -- everything a model
  sees -- whatever the answer.
* **same question and choices**: the same question text and choice set; hint and caption
  may differ.
* **lookup of train twins**: answer the most common train answer of the item's visible
  twins; an item without one scores chance (1 / number of choices, its expected score).
* **TF-IDF >= 0.95**: cosine of word 1-2-gram TF-IDF vectors (sublinear tf, fit on train)
  of "question | hint | sorted choices | caption" to the nearest train item is at least 0.95;
  also how often that neighbour's answer is the item's answer. ``--minilm`` adds the same with
  all-MiniLM-L6-v2 sentence embeddings of the same text (slower).
* **caption names the answer** (image items): the correct choice occurs in the caption as a
  whole word (case-insensitive); "caption pick" answers uniformly among the choices the
  caption names (all choices when it names none) and reports the expected accuracy.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np


def read(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Train and test items of a ScienceQA-layout folder, each with its caption ("" if none)."""
    problems = json.loads((root / "problems.json").read_text(encoding="utf-8"))
    splits = json.loads((root / "pid_splits.json").read_text(encoding="utf-8"))
    captions = json.loads((root / "captions.json").read_text(encoding="utf-8"))
    return {s: [{**problems[pid], "id": pid, "caption": captions.get(pid, "")} for pid in splits[s]]
            for s in ("train", "test")}


def answer_text(p: dict[str, Any]) -> str:
    return p["choices"][p["answer"]]


KEYS = {
    "twin": lambda p: (p["question"], p["hint"], tuple(sorted(p["choices"])), answer_text(p), p["caption"]),
    "verbatim": lambda p: (p["question"], p["hint"], tuple(p["choices"]), p["answer"], p["caption"]),
    "visible twin": lambda p: (p["question"], p["hint"], tuple(sorted(p["choices"])), p["caption"]),
    "same question and choices": lambda p: (p["question"], tuple(sorted(p["choices"]))),
}


def _text(p: dict[str, Any]) -> str:
    return " | ".join([p["question"], p["hint"], *sorted(p["choices"]), p["caption"]])


def named_choices(p: dict[str, Any]) -> list[str]:
    """The choices that occur in the caption as whole words (case-insensitive)."""
    caption = p["caption"].lower()
    return [c for c in p["choices"] if re.search(r"(?<!\w)" + re.escape(c.lower()) + r"(?!\w)", caption)]


def nearest_train(train: list[dict], test: list[dict], minilm: bool) -> tuple[np.ndarray, np.ndarray]:
    """(cosine, index) of each test item's nearest train item."""
    if minilm:
        from sentence_transformers import SentenceTransformer

        from vlprune.embed.minilm import packaged_minilm_path

        model = SentenceTransformer(packaged_minilm_path(), device="cpu")
        a = model.encode([_text(p) for p in train], batch_size=128, normalize_embeddings=True)
        b = model.encode([_text(p) for p in test], batch_size=128, normalize_embeddings=True)
        sims = [b[i:i + 512] @ a.T for i in range(0, len(b), 512)]
    else:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        a = vec.fit_transform([_text(p) for p in train])
        b = vec.transform([_text(p) for p in test])
        sims = [(b[i:i + 512] @ a.T).toarray() for i in range(0, b.shape[0], 512)]
    return np.concatenate([s.max(axis=1) for s in sims]), np.concatenate([s.argmax(axis=1) for s in sims])


def _near(out: dict[str, Any], name: str, train: list[dict], test: list[dict], minilm: bool) -> None:
    t = time.perf_counter()
    best, nn = nearest_train(train, test, minilm)
    close = best >= 0.95 - 1e-6
    out[f"{name}>=0.95"] = int(close.sum())
    # Answering a close item with its neighbour's answer: does closeness carry the answer?
    out[f"{name} neighbour-answer accuracy"] = float(np.mean(
        [answer_text(train[j]) == answer_text(p) for p, j, c in zip(test, nn, close, strict=True) if c]))
    out[f"{name} neighbour chance"] = float(np.mean([1 / len(p["choices"]) for p, c in zip(test, close, strict=True) if c]))
    out[f"{name} seconds"] = time.perf_counter() - t


def measure(data: dict[str, list[dict]], *, minilm: bool = False) -> dict[str, Any]:
    train, test = data["train"], data["test"]
    out: dict[str, Any] = {"train": len(train), "test": len(test)}
    for name, key in KEYS.items():
        seen = {key(p) for p in train}
        out[name] = sum(key(p) in seen for p in test)

    answers: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
    for p in train:
        answers[KEYS["visible twin"](p)][answer_text(p)] += 1
    scores = []
    for p in test:
        seen_answers = answers.get(KEYS["visible twin"](p))
        scores.append(float(seen_answers.most_common(1)[0][0] == answer_text(p)) if seen_answers
                      else 1 / len(p["choices"]))
    out["lookup accuracy"] = float(np.mean(scores))
    out["chance"] = float(np.mean([1 / len(p["choices"]) for p in test]))

    # The same question and choice set seen in train (hint and caption may differ): is the
    # train answer still the answer? (Chance if the hint or picture decides it.)
    by_qc: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
    for p in train:
        by_qc[KEYS["same question and choices"](p)][answer_text(p)] += 1
    qc = [(by_qc[k].most_common(1)[0][0] == answer_text(p), 1 / len(p["choices"]))
          for p in test if (k := KEYS["same question and choices"](p)) in by_qc]
    out["same question and choices: lookup accuracy, chance"] = [float(x) for x in np.mean(qc, axis=0)]

    _near(out, "tfidf", train, test, minilm=False)
    if minilm:
        _near(out, "minilm", train, test, minilm=True)

    img = [p for p in test if p["image"]]
    named = [named_choices(p) for p in img]
    out["image items"] = len(img)
    out["caption names the answer"] = float(np.mean([answer_text(p) in n for p, n in zip(img, named, strict=True)]))
    out["caption pick accuracy"] = float(np.mean([
        (answer_text(p) in n) / len(n) if n else 1 / len(p["choices"]) for p, n in zip(img, named, strict=True)]))
    out["image chance"] = float(np.mean([1 / len(p["choices"]) for p in img]))
    out["category share (test)"] = {c: n / len(test) for c, n in sorted(
        collections.Counter(p["category"] for p in test).items())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", type=Path, default=None, help="a ScienceQA-layout folder to read instead")
    parser.add_argument("--minilm", action="store_true", help="also the MiniLM nearest-neighbour rate")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()

    if args.root is None:
        from vlprune.data.synthetic import GENERATOR_VERSION
        from vlprune.data.synthetic_loader import synthetic_root

        root = synthetic_root(args.seed, args.size)
        print(f"synthetic dataset, generator version {GENERATOR_VERSION}, size {args.size}, seed {args.seed}: {root}")
    else:
        root = args.root
        print(f"dataset folder {root}")
    out = measure(read(root), minilm=args.minilm)
    n = out["test"]
    print(f"{out['train']} train, {n} test items")
    for name in (*KEYS, "tfidf>=0.95", *(("minilm>=0.95",) if args.minilm else ())):
        print(f"  test items with a train {name:<28} {out[name]:6d}  ({out[name] / n:6.1%})")
    acc, chance = out["same question and choices: lookup accuracy, chance"]
    print(f"  same question and choices: the train answer is right {acc:.1%} (chance {chance:.1%})")
    for name in ("tfidf", *(("minilm",) if args.minilm else ())):
        print(f"  {name} >= 0.95: the neighbour's answer is right {out[f'{name} neighbour-answer accuracy']:.1%} "
              f"(chance {out[f'{name} neighbour chance']:.1%}; {out[f'{name} seconds']:.0f} s)")
    print(f"  lookup of train twins: accuracy {out['lookup accuracy']:.1%} (chance {out['chance']:.1%})")
    print(f"  image test items {out['image items']}: caption names the answer {out['caption names the answer']:.1%}, "
          f"caption pick accuracy {out['caption pick accuracy']:.1%} (chance {out['image chance']:.1%})")
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
