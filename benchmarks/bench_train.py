""""It must learn": the tiny preset trained on 1,000 synthetic problems on CPU, scored on the
synthetic test split, beside the chance level.

1. Select 1,000 problems at random from the synthetic full train split (12,726 problems).
2. Base pretraining of the tiny LLM and vision tower on the pool's lectures and image-caption
   pairs (never questions, answers or solutions): it stands in for the pretrained checkpoints
   a real user starts from, and is cached, so it is timed separately.
3. ``vlprune train`` as a user runs it: stage 1 (projector on image-caption pairs), stage 2 on
   the 1,000 problems, likelihood evaluation on the 4,241 test problems.

Prints the accuracy overall and per category next to chance (the mean of 1 / number of
choices over the test split) and the wall time of every part. The issue's budget: at most 15
minutes for the whole run on 2 CPU cores, accuracy at least 15 points above chance.

    PYTHONPATH=src python benchmarks/bench_train.py                 # base cached after the first run
    PYTHONPATH=src python benchmarks/bench_train.py --fresh-base    # time the base pretraining too

Threads: on a machine shared with other jobs, one torch thread is several times faster than
two (two OpenMP threads spin-wait for each other's busy core); ``--threads`` sets it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path


def stage_seconds(run_dir: Path) -> dict[str, float]:
    out = {}
    for line in (run_dir / "train_log.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("event") == "done" and "seconds" in record:
            out[record["stage"]] = record["seconds"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=1000, help="training problems (default 1000)")
    parser.add_argument("--size", default="full", help="synthetic dataset size (default full)")
    parser.add_argument("--seed", type=int, default=0, help="selection and stage-2 seed")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, see above)")
    parser.add_argument("--out", default="runs/bench-train", help="run directory (replaced)")
    parser.add_argument("--fresh-base", action="store_true", help="drop the cached base pretraining first")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from vlprune import RandomSelector, SubsetManifest, load_pool
    from vlprune.data.metrics import format_metrics
    from vlprune.io import cache_dir
    from vlprune.train.base import pretrain_base
    from vlprune.train.checkpoint import TrainLog
    from vlprune.train.config import load_config
    from vlprune.train.loop import make_accelerator
    from vlprune.train.model import build_model
    from vlprune.train.recipe import train

    started = time.perf_counter()
    pool = load_pool("synthetic", size=args.size)
    test = load_pool("synthetic", size=args.size, split="test")
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    selection = RandomSelector().select(pool, args.k, seed=args.seed)
    SubsetManifest.from_selection(selection, pool).save(out / "subset.json")
    data_seconds = time.perf_counter() - started

    overrides = {"model.preset": "tiny", "seed": args.seed}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = value
    cfg = load_config(overrides=overrides)

    # The base pretraining (cached): stands in for downloading pretrained checkpoints.
    if args.fresh_base:
        shutil.rmtree(cache_dir("train", "base"), ignore_errors=True)
        shutil.rmtree(cache_dir("train", "stage1"), ignore_errors=True)
    t0 = time.perf_counter()
    bundle = build_model(cfg, pool)
    base_log = out / "base_log.jsonl"
    pretrain_base(bundle, cfg, pool, accelerator=make_accelerator(cfg), train_log=TrainLog(base_log), progress=True)
    base_seconds = time.perf_counter() - t0
    base_cached = any(json.loads(line).get("event") == "cached" for line in base_log.read_text().splitlines())
    del bundle

    # The run a user starts: vlprune train --subset subset.json --preset tiny
    t0 = time.perf_counter()
    result = train(out / "subset.json", cfg, out / "run", progress=True)
    train_seconds = time.perf_counter() - t0
    parts = stage_seconds(out / "run")
    stage1_note = "trained" if "stage1" in parts else "cached"

    metrics = result.metrics
    chance = metrics["chance"]
    print()
    print(format_metrics(metrics, title=f"tiny preset, {args.k} random synthetic problems (seed {args.seed}), "
                                         f"likelihood evaluation on the {len(test)}-problem test split"))
    print(f"\naccuracy {100 * metrics['accuracy']:.2f}% vs chance {100 * chance:.2f}%: "
          f"{100 * (metrics['accuracy'] - chance):+.2f} points")
    load = os.getloadavg()
    print(f"\nwall time on {os.cpu_count()} CPU cores, {args.threads} torch thread(s), "
          f"load average at the end {load[0]:.1f} (other jobs share the machine: times are pessimistic)")
    print(f"  data (generate/load, select):     {data_seconds:7.1f} s")
    print(f"  base pretraining ({'cached' if base_cached else 'trained'}):       {base_seconds:7.1f} s"
          "  <- stands in for pretrained checkpoints; cached, not part of the 15-minute budget")
    print(f"  vlprune train (stage 1 {stage1_note}, stage 2, eval): {train_seconds:7.1f} s")
    for stage in ("stage1", "stage2"):
        if stage in parts:
            print(f"    {stage}: {parts[stage]:.1f} s")
    print(f"  total against the 15-minute budget (data + vlprune train): {data_seconds + train_seconds:7.1f} s")


if __name__ == "__main__":
    main()
