"""The tiny preset on REAL ScienceQA text: the tuning protocol (dev) and the reporting protocol (test).

Real data: ``../shared/data/scienceqa-text`` (12,237 train + 4,241 test problems, captions for
every picture, no pixels: every image problem's caption joins its context,
``--caption-for-missing-images``).

- ``--protocol tune`` (all exploration): 1,000 random problems of the ``tune`` split (train
  without dev), scored on the ``dev`` split (a fixed tenth of train by id hash, 1,269 problems).
- ``--protocol report`` (once, with the chosen settings): 1,000 random problems of ``train``,
  scored on the 4,241-problem ``test`` split, one draw per seed (default 0, 1, 2).

Each draw runs the two commands a user runs (printed), as subprocesses:

    vlprune select --dataset scienceqa --data DATA --split tune --selector random --k 1000 --seed S --out subset.json
    vlprune train --subset subset.json --config configs/train/tiny-real.yaml --caption-for-missing-images \\
        --set eval.split=dev --seed S --out run

The base pretraining (the stand-in for pretrained checkpoints, cached per pool) is trained
first, in this process, and timed on its own; ``vlprune train`` then finds it cached, which is
what its wall time against the 15-minute budget assumes. Prints every draw's accuracy, the
mean, chance, and the wall and CPU seconds of ``vlprune train``; writes ``summary.json``.

    PYTHONPATH=src python benchmarks/bench_train_real.py --protocol tune
    PYTHONPATH=src python benchmarks/bench_train_real.py --protocol report --seeds 0,1,2

Threads: ``--threads`` (default 1) sets OMP_NUM_THREADS for ``vlprune train``; on a machine
shared with other jobs one thread is the faster choice (docs/training.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

PROTOCOLS = {"tune": ("tune", "dev"), "report": ("train", "test")}


def stage_seconds(run_dir: Path) -> dict[str, float]:
    out = {}
    for line in (run_dir / "train_log.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("event") == "done" and "seconds" in record:
            out[record["stage"]] = record["seconds"]
        if record.get("event") == "done" and record.get("stage") == "stage2":
            out["skipped_overlong"] = record.get("skipped_overlong", 0)
    return out


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command (its output passes through); return its wall and CPU seconds."""
    print("$", " ".join(cmd), flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def pretrain(config: str | None, data: str, split: str, sets: list[str], log: Path) -> tuple[float, bool]:
    """Train (or find cached) the base of the config's preset on the pool; (seconds, cached)."""
    from vlprune import load_pool
    from vlprune.cli.common import assignments
    from vlprune.train.base import pretrain_base
    from vlprune.train.checkpoint import TrainLog
    from vlprune.train.config import load_config
    from vlprune.train.loop import make_accelerator
    from vlprune.train.model import build_model

    overrides = {"data.caption_for_missing_images": True}
    overrides.update(assignments(sets, "--set", "KEY=VALUE"))
    cfg = load_config(config, overrides=overrides)
    if cfg.data.base_records != "pool" or not cfg.model.preset or cfg.base.epochs <= 0:
        return 0.0, True  # nothing shared to train once
    pool = load_pool("scienceqa", data, split=split)
    t0 = time.perf_counter()
    bundle = build_model(cfg, pool)
    train_log = TrainLog(log)
    pretrain_base(bundle, cfg, pool, accelerator=make_accelerator(cfg), train_log=train_log,
                  progress=sys.stderr.isatty())
    return time.perf_counter() - t0, any(r.get("event") == "cached" for r in train_log.records())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", choices=tuple(PROTOCOLS), default="tune",
                        help="tune: select from tune, score dev; report: select from train, score test")
    parser.add_argument("--data", default="../shared/data/scienceqa-text", help="the real ScienceQA text folder")
    parser.add_argument("--config", default="configs/train/tiny-real.yaml", help="training config (YAML)")
    parser.add_argument("--seeds", default=None, help="comma-separated draws (default: tune 0, report 0,1,2)")
    parser.add_argument("--k", type=int, default=1000, help="problems per draw (default 1000)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of vlprune train (default 1)")
    parser.add_argument("--out", default=None, help="output folder (default runs/bench-train-real-PROTOCOL; replaced)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--fresh-base", action="store_true", help="drop the cached base pretraining first")
    args = parser.parse_args()

    select_split, eval_split = PROTOCOLS[args.protocol]
    seeds = [int(s) for s in (args.seeds or ("0" if args.protocol == "tune" else "0,1,2")).split(",")]
    out = Path(args.out or f"runs/bench-train-real-{args.protocol}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    sets = [x for item in args.set for x in ("--set", item)]

    if args.fresh_base:
        from vlprune.io import cache_dir

        shutil.rmtree(cache_dir("train", "base"), ignore_errors=True)
    base_seconds, base_cached = pretrain(args.config, args.data, select_split, args.set, out / "base_log.jsonl")

    draws = []
    for seed in seeds:
        subset, run_dir = out / f"subset-{seed}.json", out / f"run-{seed}"
        run(["vlprune", "-q", "select", "--dataset", "scienceqa", "--data", args.data, "--split", select_split,
             "--selector", "random", "--k", str(args.k), "--seed", str(seed), "--out", str(subset)], env)
        wall, cpu = run(["vlprune", "train", "--subset", str(subset), "--config", args.config,
                         "--caption-for-missing-images", "--set", f"eval.split={eval_split}", *sets,
                         "--seed", str(seed), "--out", str(run_dir)], env)
        metrics = json.loads((run_dir / "metrics.json").read_text())
        draws.append({"seed": seed, "accuracy": metrics["accuracy"], "chance": metrics["chance"],
                      "count": metrics["count"], "train_wall_s": round(wall, 1), "train_cpu_s": round(cpu, 1),
                      **stage_seconds(run_dir)})

    mean = sum(d["accuracy"] for d in draws) / len(draws)
    chance = draws[0]["chance"]
    load = os.getloadavg()
    summary = {"protocol": args.protocol, "select_split": select_split, "eval_split": eval_split, "k": args.k,
               "config": args.config, "overrides": args.set, "threads": args.threads, "draws": draws,
               "mean_accuracy": mean, "chance": chance, "base_seconds": round(base_seconds, 1),
               "base_cached": base_cached, "load_average_end": load[0], "cpus": os.cpu_count()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    print(f"\ntiny preset ({args.config}{' ' + ' '.join(args.set) if args.set else ''}), {args.k} random real "
          f"problems of {select_split}, likelihood evaluation on {eval_split} ({draws[0]['count']} problems)")
    print(f"{'seed':>4} {'accuracy':>9} {'vs chance':>10} {'train wall s':>13} {'train CPU s':>12} {'stage 2 s':>10}")
    for d in draws:
        print(f"{d['seed']:>4} {100 * d['accuracy']:>8.2f}% {100 * (d['accuracy'] - chance):>+9.2f} "
              f"{d['train_wall_s']:>13.1f} {d['train_cpu_s']:>12.1f} {d.get('stage2', float('nan')):>10.1f}")
    print(f"mean {100 * mean:>8.2f}% {100 * (mean - chance):>+9.2f}   chance {100 * chance:.2f}%")
    print(f"base pretraining ({'cached' if base_cached else 'trained'} once per pool): {base_seconds:.1f} s; "
          f"{os.cpu_count()} CPU cores, {args.threads} torch thread(s) for vlprune train, load average at the end "
          f"{load[0]:.1f} (other jobs share the machine: wall times are pessimistic)")


if __name__ == "__main__":
    main()
