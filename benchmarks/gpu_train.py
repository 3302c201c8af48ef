"""The trainer on one GPU: the ``mid`` preset (~0.3B parameters, random weights) trained with
the two-stage recipe on a generated ScienceQA-layout dataset; tokens per second of stage 2
(full fine-tuning with bf16 autocast, with gradient checkpointing, and LoRA), peak memory, and
evaluation speed.

Self-contained: the data (problems with 224 px pictures) is generated into a temporary
folder, nothing is downloaded; needs torch + CUDA, transformers, peft, accelerate, numpy,
pandas, Pillow (no datasets, faiss or platformdirs). About a minute on one H100.

Run on the GPU machine:
    PYTHONPATH=src VLPRUNE_CACHE_DIR=/tmp/vlprune-cache python benchmarks/gpu_train.py
Check here on CPU (tiny preset, a few seconds of training):
    PYTHONPATH=src python benchmarks/gpu_train.py --cpu-smoke
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

WORDS = ("river mountain forest animal plant energy magnet circuit planet weather rock soil water light sound "
         "force motion heat cell habitat fossil map state capital trade colony law vote money market "
         "noun verb sentence paragraph rhyme prefix suffix letter story poem fact opinion").split()
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 60, 220), "yellow": (230, 210, 40)}


def write_dataset(root: Path, n_train: int, n_test: int, image_size: int, seed: int = 0) -> Path:
    """ScienceQA-layout problems: half with a picture of coloured shapes (asked about its
    colour), half text-only with a hint paragraph; realistic text lengths."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    problems = {}
    for split, n in (("train", n_train), ("test", n_test)):
        for i in range(n):
            pid = f"{split}{i}"
            words = " ".join(rng.choice(WORDS, size=int(rng.integers(30, 90))))
            k = int(rng.integers(2, 5))
            if i % 2 == 0:
                colours = list(rng.choice(list(COLOURS), size=k, replace=False))
                answer = int(rng.integers(k))
                img = Image.new("RGB", (image_size, image_size), (250, 250, 250))
                draw = ImageDraw.Draw(img)
                x0 = int(rng.integers(0, image_size // 2))
                draw.rectangle([x0, x0, x0 + image_size // 3, x0 + image_size // 3], fill=COLOURS[colours[answer]])
                folder = root / "images" / split / pid
                folder.mkdir(parents=True, exist_ok=True)
                img.save(folder / "image.png")
                problems[pid] = {"question": "Which colour is the square in the picture?", "choices": colours,
                                 "answer": answer, "hint": "", "image": "image.png", "subject": "natural science",
                                 "grade": "grade3", "split": split, "lecture": words,
                                 "solution": f"The square is {colours[answer]}.",
                                 "caption": f"A {colours[answer]} square on a white background."}
            else:
                choices = list(rng.choice(WORDS, size=k, replace=False))
                answer = int(rng.integers(k))
                problems[pid] = {"question": f"Which word appears first in the passage: {', '.join(choices)}?",
                                 "choices": choices, "answer": answer, "hint": f"{choices[answer]} {words}",
                                 "image": None, "subject": "language science", "grade": "grade8", "split": split,
                                 "lecture": words, "solution": f"The passage starts with {choices[answer]}."}
    (root / "problems.json").write_text(json.dumps(problems))
    return root


def steady_tokens_per_s(run_dir: Path, stage: str, skip: int = 2) -> float:
    """Tokens per second over the steps after the first ``skip`` (warm-up, kernel selection)."""
    steps = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    steps = [s for s in steps if s.get("stage") == stage and "tokens" in s]
    first, last = steps[min(skip, len(steps) - 1) - 1] if len(steps) > skip else {"tokens": 0, "seconds": 0.0}, \
        steps[-1]
    return (last["tokens"] - first["tokens"]) / max(last["seconds"] - first["seconds"], 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="tiny preset, tiny data, on CPU")
    parser.add_argument("--train", type=int, default=1024, help="training problems (default 1024)")
    parser.add_argument("--test", type=int, default=256, help="test problems (default 256)")
    args = parser.parse_args()

    import torch

    from vlprune import RandomSelector, SubsetManifest, load_pool
    from vlprune.train.config import load_config
    from vlprune.train.recipe import train

    if args.cpu_smoke:
        preset, n_train, n_test, image_size = "tiny", 32, 16, 32
        base = {"model.preset": "tiny", "base.epochs": 0, "stage2.batch_size": 8, "stage2.micro_batch_size": 4,
                "stage1.batch_size": 8, "stage1.micro_batch_size": 8}
        torch.set_num_threads(1)
    else:
        if not torch.cuda.is_available():
            raise SystemExit("no CUDA device: run with --cpu-smoke to check the script on CPU")
        preset, n_train, n_test, image_size = "mid", args.train, args.test, 224
        base = {"model.preset": "mid", "stage2.batch_size": 32, "stage2.micro_batch_size": 8,
                "stage1.batch_size": 64, "stage1.micro_batch_size": 16, "stage1.max_examples": 512,
                "eval.batch_size": 32}
    work = Path(tempfile.mkdtemp(prefix="vlprune-gpu-train-"))
    os.environ.setdefault("VLPRUNE_CACHE_DIR", str(work / "cache"))
    t0 = time.perf_counter()
    data = write_dataset(work / "data", n_train, n_test, image_size)
    pool = load_pool("scienceqa", str(data), split="train")
    SubsetManifest.from_selection(RandomSelector().select(pool, len(pool), seed=0), pool).save(work / "subset.json")
    print(f"data: {n_train} train / {n_test} test problems ({image_size} px pictures) in "
          f"{time.perf_counter() - t0:.1f} s")
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    print(f"device: {device}; torch {torch.__version__}; preset {preset}")

    variants = [
        ("full fine-tuning, bf16 autocast", {}),
        ("full, + gradient checkpointing", {"gradient_checkpointing": True}),
        ("LoRA r=64, bf16 weights", {"lora.r": 64, "lora.alpha": 128, "precision": "bf16"}),
    ]
    rows = []
    for i, (name, extra) in enumerate(variants):
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        cfg = load_config(overrides={**base, "stage2.epochs": 1, **extra})
        start = time.perf_counter()
        result = train(work / "subset.json", cfg, work / f"run{i}", progress=False)
        seconds = time.perf_counter() - start
        log = [json.loads(line) for line in (work / f"run{i}" / "train_log.jsonl").read_text().splitlines()]
        stage2 = next(r for r in log if r.get("event") == "done" and r.get("stage") == "stage2")
        evaluation = next(r for r in log if r.get("event") == "done" and r.get("stage") == "eval")
        params = next(r for r in log if r.get("event") == "start" and r.get("stage") == "stage2")
        peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else float("nan")
        rows.append((name, params["trainable_parameters"], steady_tokens_per_s(work / f"run{i}", "stage2"),
                     stage2["seconds"], peak, result.metrics["accuracy"], seconds, evaluation))
        print(f"  done: {name} ({seconds:.1f} s)", flush=True)

    print(f"\nstage 2 on {n_train} problems, 1 epoch, batch {base['stage2.batch_size']} "
          f"(micro-batch {base['stage2.micro_batch_size']}); "
          "stage 1 ran once and was reused; evaluation: likelihood mode")
    print("| variant | trainable params | stage-2 tokens/s (steady) | stage-2 s | peak GPU GiB | test acc | run s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, trainable, tps, s2, peak, acc, seconds, _ in rows:
        print(f"| {name} | {trainable / 1e6:.1f}M | {tps:,.0f} | {s2:.1f} | {peak:.1f} | {100 * acc:.1f} | "
              f"{seconds:.1f} |")
    print("(random-weight model on generated data: accuracies are a smoke check, not a result)")


if __name__ == "__main__":
    main()
