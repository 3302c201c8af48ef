"""Throughput of the embedders on the synthetic train split (12,726 problems), CPU.

Prints one row per embedder: records, wall seconds, examples per second, the process's CPU
seconds (user + system, all threads), dimension, and the time to read the same vectors back
from the embedding cache. Model loading is timed apart from embedding. On a shared machine
wall time depends on the other load; CPU seconds do less so (for the model embedders, which
keep all threads busy, CPU seconds / threads approximates the wall time on idle cores).
The throughput figures call ``embed`` directly (no cache, imports included); the vectors
are then stored in a temporary cache folder and read back for the cache-hit column.

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
import resource
import tempfile
import time


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
    from vlprune.embed import cached_embed, get_embedder, save_embeddings
    from vlprune.embed.cache import cache_entry
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
        t, c = time.perf_counter(), cpu_seconds()
        X = emb.embed(pool)
        seconds, cpu = time.perf_counter() - t, cpu_seconds() - c
        cache = os.path.join(tmp, "cache")
        save_embeddings(cache_entry(emb, pool, cache), X, pool=pool, embedder=emb)  # what a miss stores
        t = time.perf_counter()
        again = cached_embed(emb, pool, cache)
        hit_s = time.perf_counter() - t
        assert np.array_equal(np.asarray(again), X)
        rows.append((name, len(pool), load_s, seconds, len(pool) / seconds, cpu, X.shape[1], hit_s))
        print(f"  {name}: {seconds:.1f}s wall, {cpu:.1f}s CPU", flush=True)

    print()
    print("| embedder | records | model load (s) | embed (s) | examples/s | CPU (s) | dim | cache hit (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, load_s, s, rate, cpu, dim, hit_s in rows:
        print(f"| {name} | {n} | {load_s:.1f} | {s:.1f} | {rate:,.0f} | {cpu:.1f} | {dim} | {hit_s:.2f} |")


if __name__ == "__main__":
    main()
