"""GPU check of the model embedders: the CUDA + float16 path of ``clip`` and ``llava``.

Builds tiny random CLIP and LLaVA checkpoints and a pool of synthetic-looking records
(half with rendered images), then for each embedder:

- embeds the pool on the GPU with the defaults (device ``auto`` -> cuda, dtype ``auto`` ->
  float16) and times it;
- embeds the first rows again on the GPU (rerun determinism) and on the CPU in float32;
- checks the vectors are finite and unit-length, the GPU/CPU rows agree (cosine), and the
  fingerprints differ by precision (float16 vs float32 entries never share a cache entry).

Prints a table and exits 1 if a check fails. Needs torch with CUDA and transformers; no
sentence-transformers, faiss, datasets or network (so ``minilm`` is not covered here).

    PYTHONPATH=src VLPRUNE_CACHE_DIR=/tmp/vlp python benchmarks/gpu_embed.py      # ~1 min on one H100
    PYTHONPATH=src python benchmarks/gpu_embed.py --cpu-smoke                     # the same on the CPU, bfloat16
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def make_pool(n: int, folder: Path):
    import numpy as np
    from PIL import Image

    from vlprune.data.pool import DatasetRef, Pool, records_to_table

    rng = np.random.default_rng(0)
    words = "mammal magnet north solid liquid gas map wolf trout force push pull state capital".split()
    records = []
    for i in range(n):
        kind = i % 4  # 0, 1: with pixels; 2: text only; 3: image set, pixels missing (caption)
        image_path = ""
        if kind < 2:
            image_path = str(folder / f"{i}.png")
            Image.fromarray((rng.random((48, 64, 3)) * 255).astype("uint8")).save(image_path)
        question = " ".join(rng.choice(words, size=8 + i % 7)) + "?"
        records.append({
            "id": f"gpu-{i}", "split": "train", "question": question, "choices": ["yes", "no", "maybe"],
            "answer": 0, "hint": " ".join(rng.choice(words, size=i % 30)), "image": "" if kind == 2 else "image.png",
            "caption": "" if kind == 2 else f"a picture of a {words[i % len(words)]}", "subject": "natural science",
            "topic": "physics", "category": "", "skill": "", "grade": 3, "lecture": "", "solution": "",
            "source": "gpu-check", "conversations": [], "image_path": image_path})
    return Pool(records_to_table(records), DatasetRef("gpu-check", None, "train"))


def main() -> int:
    parser = argparse.ArgumentParser(description="GPU (CUDA + float16) check of the clip and llava embedders")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="run on the CPU in bfloat16 with a small pool (tests this script here)")
    parser.add_argument("--n", type=int, default=None, help="records (default 4096; 64 with --cpu-smoke)")
    args = parser.parse_args()

    import numpy as np
    import torch

    from vlprune.embed import get_embedder
    from vlprune.embed.tiny import make_tiny_clip, make_tiny_llava

    if not args.cpu_smoke and not torch.cuda.is_available():
        print("no CUDA device visible to torch; run with --cpu-smoke to test on the CPU", file=sys.stderr)
        return 2
    device, dtype = ("cpu", "bfloat16") if args.cpu_smoke else ("auto", "auto")
    n = args.n or (64 if args.cpu_smoke else 4096)
    check_rows = min(n, 128)
    tmp = Path(tempfile.mkdtemp(prefix="gpu-embed-"))
    (tmp / "img").mkdir()
    pool = make_pool(n, tmp / "img")
    print(f"torch {torch.__version__}, cuda available: {torch.cuda.is_available()}"
          + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else ""))
    models = {
        "clip": make_tiny_clip(tmp / "clip", hidden=64, projection_dim=32, image_size=64),
        "llava": make_tiny_llava(tmp / "llava", hidden=64, image_size=64),
    }
    failures, rows = [], []
    for name, path in models.items():
        batch = 64 if name == "clip" else 16
        fast = get_embedder(name, model=str(path), device=device, dtype=dtype, batch_size=batch, progress=False)
        ref = get_embedder(name, model=str(path), device="cpu", dtype="float32", batch_size=batch, progress=False)
        precision = fast.fingerprint_extras()["precision"]
        fast.embed(pool, rows=(0, min(n, batch)))  # warm-up: CUDA context, kernels
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t = time.perf_counter()
        X = fast.embed(pool)
        seconds = time.perf_counter() - t
        again = fast.embed(pool, rows=(0, check_rows))
        base = ref.embed(pool, rows=(0, check_rows))
        cos = np.sum(X[:check_rows] * base, axis=1) / np.maximum(
            np.linalg.norm(X[:check_rows], axis=1) * np.linalg.norm(base, axis=1), 1e-12)
        rerun = float(np.abs(again - X[:check_rows]).max())
        # llava rows are unit vectors; clip's concat rows are [text, image] halves of unit
        # length each, the image half zero without pixels: length 1 or sqrt(2).
        norms = np.linalg.norm(X, axis=1)
        unit_like = np.isclose(norms, 1, atol=1e-2) | np.isclose(norms, np.sqrt(2), atol=1e-2)
        rows.append((name, precision, n, seconds, n / seconds, X.shape[1], float(cos.min()), rerun))
        threshold = 0.98 if args.cpu_smoke else 0.99
        if not np.isfinite(X).all():
            failures.append(f"{name}: non-finite values")
        if not unit_like.all():
            failures.append(f"{name}: rows of unexpected length: {norms.min():.3f}..{norms.max():.3f}")
        if cos.min() < threshold:
            failures.append(f"{name}: {precision} rows differ from CPU float32 (min cosine {cos.min():.4f})")
        if rerun > 1e-3:
            failures.append(f"{name}: a rerun differs by {rerun:.2e}")
        if fast.fingerprint == ref.fingerprint:
            failures.append(f"{name}: {precision} and float32 share a fingerprint")
        if precision == "float32":
            failures.append(f"{name}: expected half precision, got {precision}")

    print()
    print("| embedder | precision | records | seconds | examples/s | dim | min cosine vs CPU fp32 | rerun max diff |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, precision, n_, s, rate, dim, cos_min, rerun in rows:
        print(f"| {name} (tiny) | {precision} | {n_} | {s:.1f} | {rate:,.0f} | {dim} | {cos_min:.4f} | {rerun:.1e} |")
    print()
    print("FAILED:\n  " + "\n  ".join(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
