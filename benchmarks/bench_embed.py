"""Throughput of the embedders on the synthetic train split (12,726 problems), CPU.

Prints one row per embedder: records, seconds, examples per second, dimension; plus the
time to read the same vectors back from the embedding cache. Model loading is timed apart
from embedding. The cache is bypassed for the throughput figures (``embed`` directly) and
exercised in a temporary folder for the cache row.

    PYTHONPATH=src python benchmarks/bench_embed.py                 # full train split, 2 threads
    PYTHONPATH=src python benchmarks/bench_embed.py --size small --embedders tfidf,clip-tiny

``clip-tiny`` is a randomly initialised 2-layer CLIP built on the fly (vlprune.embed.tiny):
it measures the pipeline around the model (tokenising, reading and preprocessing images,
batching), not a real CLIP's cost. Timings on a shared machine are indicative only.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="full", help="synthetic size: full (default), small, tiny")
    parser.add_argument("--data", help="benchmark a ScienceQA folder instead of the synthetic dataset")
    parser.add_argument("--embedders", default="tfidf,minilm,clip-tiny,pixels",
                        help="comma-separated: tfidf, minilm, pixels, clip-tiny, default")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--batch-size", type=int, default=None, help="batch size of the model embedders")
    args = parser.parse_args()

    import numpy as np
    import torch

    from vlprune.data.loaders import load_pool
    from vlprune.embed import cached_embed, get_embedder
    from vlprune.embed.tiny import make_tiny_clip

    torch.set_num_threads(args.threads)
    t = time.perf_counter()
    if args.data:
        pool = load_pool("scienceqa", args.data, split="train")
    else:
        pool = load_pool("synthetic", split="train", size=args.size)
    print(f"pool: {len(pool)} records ({int(pool.image_available.sum())} with pixels), "
          f"loaded in {time.perf_counter() - t:.1f}s")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
          f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f} (shared machine?)")

    tmp = tempfile.mkdtemp(prefix="bench-embed-")
    rows = []
    for name in args.embedders.split(","):
        params = {}
        if name in ("minilm", "clip-tiny", "default"):
            params["device"] = "cpu"
            if args.batch_size:
                params["batch_size"] = args.batch_size
        if name == "clip-tiny":
            emb = get_embedder("clip", model=str(make_tiny_clip(os.path.join(tmp, "clip"))), **params)
        else:
            emb = get_embedder(name, **params)
        load_s = 0.0
        if hasattr(emb, "load"):  # time the model load apart from the embedding
            t = time.perf_counter()
            emb.load()
            load_s = time.perf_counter() - t
        t = time.perf_counter()
        X = emb.embed(pool)
        seconds = time.perf_counter() - t
        cache = os.path.join(tmp, "cache")
        cached_embed(emb, pool, cache)  # writes the entry
        t = time.perf_counter()
        again = cached_embed(emb, pool, cache)
        hit_s = time.perf_counter() - t
        assert np.array_equal(np.asarray(again), X)
        rows.append((name, len(pool), load_s, seconds, len(pool) / seconds, X.shape[1], hit_s))
        print(f"  {name}: {seconds:.1f}s", flush=True)

    print()
    print("| embedder | records | model load (s) | embed (s) | examples/s | dim | cache hit (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, load_s, s, rate, dim, hit_s in rows:
        print(f"| {name} | {n} | {load_s:.1f} | {s:.1f} | {rate:,.0f} | {dim} | {hit_s:.2f} |")


if __name__ == "__main__":
    main()
