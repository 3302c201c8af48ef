"""The ``vlprune`` command line: argument parsing and printing only, no logic of its own.

Every subcommand parses its flags, calls the library and prints what came back. Errors a
user can cause (bad data, bad parameters) print one line and exit with status 2; nothing is
written before every input has been checked.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vlprune._version import __version__

log = logging.getLogger("vlprune")

CACHE_HELP = ("cache folder for the synthetic data, embeddings, tokenizers and base models "
              "(default: $VLPRUNE_CACHE_DIR, else the user cache folder, e.g. ~/.cache/vlprune)")


class UsageError(Exception):
    """A command-line mistake found after parsing (exit code 2, one line)."""


# -- options every command shares ---------------------------------------------------------------
def common_options() -> argparse.ArgumentParser:
    """``-q``, ``--debug`` and ``--cache-dir``, accepted before or after the subcommand."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="only warnings and errors on stderr")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    p.add_argument("--cache-dir", metavar="DIR", default=argparse.SUPPRESS, help=CACHE_HELP)
    return p


def add_dataset_options(p: argparse.ArgumentParser, *, split_default: str | None = "train") -> None:
    g = p.add_argument_group("dataset")
    g.add_argument("--dataset", default="synthetic", metavar="NAME",
                   help="loader: synthetic (default, built in), scienceqa, hf, llava-json, "
                        "or a registered plugin")
    g.add_argument("--data", metavar="PATH", help="dataset folder, file or hub id (not for synthetic)")
    g.add_argument("--split", default=split_default,
                   help=f"split to load (default: {split_default}); dev and tune are the tuning splits "
                        "carved from train (docs/data.md)")
    g.add_argument("--size", default=None,
                   help="synthetic only: full (default), small, tiny or 'train=N,val=N,test=N'")
    g.add_argument("--data-seed", type=int, default=None, help="synthetic only: generator seed (default 0)")
    g.add_argument("--image-folder", metavar="DIR", help="where image files live (scienceqa, llava-json)")
    g.add_argument("--require-images", action="store_true",
                   help="make a missing image file an error instead of using its caption")
    g.add_argument("--on-duplicate-id", choices=("error", "suffix"), default=None,
                   help="llava-json only: what to do with repeated ids")


def dataset_ref(args: argparse.Namespace, *, split: str | None = None):
    """The one translation of the dataset flags into a :class:`DatasetRef` (every command that
    loads data uses it, so no flag is silently dropped by one of them)."""
    from vlprune.data.pool import DatasetRef

    options: dict[str, Any] = {}
    if args.dataset == "synthetic":
        if args.size:
            options["size"] = args.size
        if args.data_seed is not None:
            options["seed"] = args.data_seed
    else:
        for flag in ("size", "data_seed"):
            if getattr(args, flag) is not None:
                raise UsageError(f"--{flag.replace('_', '-')} applies to --dataset synthetic only")
    if args.image_folder:
        options["image_folder"] = args.image_folder
    if args.require_images:
        options["require_images"] = True
    if args.on_duplicate_id:
        options["on_duplicate_id"] = args.on_duplicate_id
    return DatasetRef(args.dataset, args.data, split if split is not None else args.split, options)


def load_pool_from_args(args: argparse.Namespace, *, split: str | None = None):
    from vlprune.data.loaders import load_pool

    ref = dataset_ref(args, split=split)
    progress = {"progress": sys.stderr.isatty()} if ref.loader == "synthetic" else {}
    return load_pool(ref.loader, ref.source, split=ref.split, **ref.options, **progress)


def assignments(items: Sequence[str] | None, flag: str, form: str = "NAME=VALUE") -> dict[str, str]:
    """``NAME=VALUE`` items of a repeatable flag as {name: value text}."""
    out = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep:
            raise UsageError(f"{flag} takes {form}, not {item!r}")
        out[name.strip().replace("-", "_") if form == "NAME=VALUE" else name.strip()] = text.strip()
    return out


# -- select -------------------------------------------------------------------------------------
def selector_parameter_help() -> dict[str, str]:
    """Every constructor parameter of every registered selector -> its help: allowed values
    and default, per selector when they differ."""
    from vlprune.select.base import selectors

    users: dict[str, list[tuple[str, str]]] = {}
    for name, cls in selectors.items():
        for param, spec in cls.param_specs().items():
            users.setdefault(param, []).append((name, spec.help()))
    out = {}
    for param, entries in users.items():
        helps = {h for _, h in entries}
        names = ", ".join(n for n, _ in entries)
        out[param] = (f"{helps.pop()} ({names})" if len(helps) == 1
                      else "; ".join(f"{n}: {h}" for n, h in entries))
    return out


def add_select_parser(sub, common) -> None:
    p = sub.add_parser("select", parents=[common], help="choose k records of a dataset and write a subset manifest",
                       description="Choose k records and write the subset manifest (subset.json).")
    p.add_argument("--k", type=int, required=True, help="how many records to select")
    from vlprune.select.base import selectors

    p.add_argument("--selector", default="farthest-point",
                   help=f"{', '.join(selectors.names())} (default farthest-point), or a registered "
                        "plugin (docs/selectors.md)")
    p.add_argument("--seed", type=int, default=0, help="random seed, a non-negative integer (default 0)")
    p.add_argument("--out", default="subset.json", help="manifest to write (default subset.json)")
    p.add_argument("--export-llava", metavar="FILE", help="also write the subset as LLaVA training JSON")
    p.add_argument("--embeddings", metavar="NPY",
                   help="precomputed embeddings (n x d .npy, rows in pool order, e.g. from vlprune "
                        "embed) for embedding-based selectors")
    p.add_argument("--model", dest="embedder_model", metavar="PATH",
                   help="model of --embedder (clip, llava, minilm): hub id or local folder")
    add_dataset_options(p)
    g = p.add_argument_group("selector parameters (each applies to the selectors named)")
    for name, text in selector_parameter_help().items():
        g.add_argument(f"--{name.replace('_', '-')}", dest=f"sp_{name}", metavar="VALUE", help=text)
    g.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="any selector parameter, for plugins (repeatable)")
    p.set_defaults(func=run_select)


def selector_from_args(args: argparse.Namespace):
    """The selector the flags describe, built and validated before any data is read."""
    from vlprune.select.base import selectors

    cls = selectors.get(args.selector)
    specs = cls.param_specs()
    params: dict[str, Any] = {}
    for key, text in vars(args).items():
        if key.startswith("sp_") and text is not None:
            if key[3:] not in specs:
                raise UsageError(f"--{key[3:].replace('_', '-')} does not apply to selector {args.selector!r} "
                                 f"(its parameters: {', '.join(specs) or 'none'})")
            params[key[3:]] = text
    params.update(assignments(args.param, "--param"))
    if str(params.get("warm_start", "")).endswith(".json"):
        from vlprune.data.subset import SubsetManifest

        params["warm_start"] = SubsetManifest.load(params["warm_start"]).ids
    if args.embeddings or args.embedder_model:
        flag = "--embeddings" if args.embeddings else "--model"
        if "embedder" not in specs:
            raise UsageError(f"{flag} applies to embedding-based selectors, not {args.selector!r}")
        if args.embeddings and "embedder" in params:
            raise UsageError("give either --embedder or --embeddings, not both")
        if args.embeddings and args.embedder_model:
            raise UsageError("--model applies to --embedder, not to precomputed --embeddings")
        if args.embeddings:
            from vlprune.embed.precomputed import PrecomputedEmbedder

            params["embedder"] = PrecomputedEmbedder.from_file(args.embeddings)
        else:
            from vlprune.embed.spec import get_embedder

            params["embedder"] = get_embedder(params.get("embedder", specs["embedder"].default),
                                              model=args.embedder_model)
    return selectors.create(args.selector, **params)


def run_select(args: argparse.Namespace) -> int:
    from vlprune.data.subset import SubsetManifest
    from vlprune.data.summary import format_summary, subset_summary
    from vlprune.io import check_outputs, check_writable
    from vlprune.params import check_seed
    from vlprune.select.base import check_k

    check_k(args.k)
    check_seed(args.seed, what="--seed")
    selector = selector_from_args(args)
    check_outputs({"--out": args.out, "--export-llava": args.export_llava},
                  [args.data, args.embeddings, args.image_folder])
    for target in (args.out, args.export_llava):
        if target:
            check_writable(target)
    pool = load_pool_from_args(args)
    selection = selector.select(pool, args.k, seed=args.seed)
    SubsetManifest.from_selection(selection, pool).save(args.out, export_llava=args.export_llava, pool=pool)
    print(format_summary(subset_summary(pool, selection.positions), title=f"{selection.selector} selection"))
    print(f"wrote {args.out}" + (f" and {args.export_llava}" if args.export_llava else ""))
    return 0


# -- inspect ------------------------------------------------------------------------------------
def add_inspect_parser(sub, common) -> None:
    p = sub.add_parser("inspect", parents=[common], help="show a subset's make-up beside its pool's",
                       description="Compare a subset with the pool it was selected from.")
    p.add_argument("manifest", help="subset manifest (subset.json)")
    p.add_argument("--data", metavar="PATH", help="read the dataset from here instead of the manifest's path")
    p.add_argument("--allow-mismatch", action="store_true",
                   help="accept a dataset whose fingerprint differs from the manifest's")
    p.add_argument("--top", type=int, default=15, help="rows shown per table (default 15)")
    p.add_argument("--card", nargs="?", const="-", metavar="FILE",
                   help="write a markdown subset card for publishing the subset (make-up against the pool, "
                        "selector, parameters, seed, hashes, versions, the command that reproduces it) to "
                        "FILE, or to stdout without FILE")
    p.set_defaults(func=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    from vlprune.data.subset import SubsetManifest
    from vlprune.data.summary import format_comparison

    if args.card and args.card != "-":
        from vlprune.io import check_outputs, check_writable

        check_outputs({"--card": args.card}, [args.manifest, args.data])
        check_writable(args.card)
    manifest = SubsetManifest.load(args.manifest)
    pool = manifest.load_pool(**({"source": args.data} if args.data else {}))
    positions = manifest.positions_in(pool, allow_mismatch=args.allow_mismatch)
    if args.card:
        from vlprune.io import atomic_open
        from vlprune.select.card import subset_card

        card = subset_card(manifest, pool, path=args.manifest, positions=positions, top=args.top)
        if args.card == "-":
            print(card)
            return 0
        with atomic_open(args.card, "w", encoding="utf-8") as f:
            f.write(card)
        print(f"wrote {args.card}")
        return 0
    print(f"{args.manifest}: {manifest.selector} selection of {manifest.k} from {len(pool)} "
          f"({pool.reference.loader}, split {pool.reference.split}), seed {manifest.seed}")
    print(format_comparison(pool, positions, top=args.top))
    return 0


# -- train / eval -------------------------------------------------------------------------------
#: Flags that set one config key each (flag dest -> dotted key); the rest goes through --set.
TRAIN_FLAGS = {
    "preset": "model.preset", "llm": "model.llm", "vision": "model.vision", "model": "model.checkpoint",
    "epochs": "stage2.epochs", "lr": "stage2.lr", "batch_size": "stage2.batch_size",
    "warmup_ratio": "stage2.warmup_ratio", "scheduler": "stage2.scheduler",
    "stage1_epochs": "stage1.epochs", "stage1_lr": "stage1.lr", "stage1_batch_size": "stage1.batch_size",
    "stage1_data": "data.stage1_data", "stage1_image_folder": "data.stage1_image_folder",
    "lora_r": "lora.r", "lora_alpha": "lora.alpha", "precision": "precision", "max_length": "data.max_length",
    "target": "data.target", "answer": "data.answer", "save_every": "save_every", "seed": "seed",
    "eval_mode": "eval.mode", "eval_limit": "eval.limit", "eval_split": "eval.split",
}
TRAIN_SWITCHES = {
    "gradient_checkpointing": "gradient_checkpointing", "skip_stage1": "skip_stage1",
    "caption_for_missing_images": "data.caption_for_missing_images",
}


def add_train_parser(sub, common) -> None:
    from vlprune.data.prompts import ANSWER_FORMATS, TARGET_FORMATS

    p = sub.add_parser(
        "train", parents=[common], help="train a LLaVA model on a subset and score it on ScienceQA test",
        description="Train a LLaVA-Mistral model on a subset with the two-stage recipe (stage 1: projector "
                    "on image-caption pairs, cached; stage 2: LLM + projector on the subset), then score it "
                    "on the dataset's test split. Rerunning the same command resumes an interrupted run. "
                    "Settings: defaults < --preset < --config YAML < flags < --set. See docs/training.md.")
    p.add_argument("--subset", required=True, metavar="JSON", help="subset manifest written by vlprune select")
    p.add_argument("--out", metavar="DIR", help="run directory (default runs/<subset file name>)")
    p.add_argument("--config", metavar="YAML", help="a config file (sections model, stage1, stage2, lora, data, eval)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", dest="set_",
                   help="any config key, e.g. --set stage2.warmup_ratio=0.1 (repeatable)")
    p.add_argument("--overwrite", action="store_true", help="start over in an existing run directory")
    p.add_argument("--allow-mismatch", action="store_true",
                   help="accept a dataset whose fingerprint differs from the manifest's")
    m = p.add_argument_group("model")
    m.add_argument("--preset", metavar="NAME", help="random-weight model built offline: tiny (CPU) or mid (GPU smoke)")
    m.add_argument("--llm", metavar="ID", help="Mistral hub id or local path (default mistralai/Mistral-7B-v0.1)")
    m.add_argument("--vision", metavar="ID", help="CLIP hub id or local path (default openai/clip-vit-large-patch14-336)")
    m.add_argument("--model", metavar="PATH", help="an existing llava-hf checkpoint to fine-tune (stage 1 skipped)")
    m.add_argument("--projector", metavar="KIND|PATH",
                   help="projector kind, linear or mlp2x_gelu (default); or a stage-1 projector file to reuse")
    m.add_argument("--skip-stage1", action="store_true", help="do not run (or look up) stage 1")
    r = p.add_argument_group("recipe (stage 2 unless named stage1)")
    r.add_argument("--epochs", type=float, help="stage-2 epochs (default 15; presets have their own, see docs/training.md)")
    r.add_argument("--lr", type=float, help="stage-2 learning rate (default 2e-5; presets have their own)")
    r.add_argument("--batch-size", type=int, help="stage-2 global batch size (default 32)")
    r.add_argument("--micro-batch-size", type=int,
                   help="examples per forward pass, both stages; gradients accumulate up to the batch size")
    r.add_argument("--warmup-ratio", type=float, help="stage-2 warm-up share of the steps (default 0.03)")
    r.add_argument("--scheduler", help="stage-2 schedule: cosine (default), linear, constant, constant_with_warmup")
    r.add_argument("--stage1-epochs", type=float, help="stage-1 epochs (default 1)")
    r.add_argument("--stage1-lr", type=float, help="stage-1 learning rate (default 1e-3)")
    r.add_argument("--stage1-batch-size", type=int, help="stage-1 global batch size (default 64)")
    r.add_argument("--stage1-data", metavar="JSON", help="LLaVA-Pretrain JSON for stage 1 (default: the pool's captions)")
    r.add_argument("--stage1-image-folder", metavar="DIR", help="image folder of --stage1-data")
    r.add_argument("--lora-r", type=int, help="LoRA rank (0: full fine-tuning, the default)")
    r.add_argument("--lora-alpha", type=int, help="LoRA alpha (default 256)")
    r.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations to save memory")
    r.add_argument("--precision", help="auto (bf16 autocast on GPU, fp32 on CPU), fp32, bf16-mixed, bf16 (weights)")
    r.add_argument("--max-length", type=int, help="longest example in tokens; longer ones are skipped, never cut")
    r.add_argument("--target", choices=TARGET_FORMATS,
                   help="response format: A (the answer, default), EA (solution first), LEA (lecture, solution)")
    r.add_argument("--answer", choices=ANSWER_FORMATS,
                   help="how the answer names the option: letter ('The answer is B.', default), text "
                        "('The answer is trout.'), letter-text ('The answer is (B) trout.')")
    r.add_argument("--save-every", type=int, metavar="STEPS", help="also checkpoint every N optimizer steps")
    r.add_argument("--seed", type=int, help="seed of stage 2 (data order, LoRA init); default 0")
    r.add_argument("--caption-for-missing-images", action="store_true",
                   help="use an image problem's caption when its image file is missing (default: error)")
    e = p.add_argument_group("evaluation")
    e.add_argument("--eval-mode", choices=("likelihood", "generate"), help="likelihood (default) or generate")
    e.add_argument("--eval-split", metavar="SPLIT",
                   help="split to score (default test; dev when tuning on a subset of the tune split)")
    e.add_argument("--eval-limit", type=int, metavar="N", help="score only the first N test problems")
    e.add_argument("--no-eval", action="store_true", help="train only")
    p.set_defaults(func=run_train)


def train_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config keys the train flags set (only the flags given)."""
    from vlprune.train.config import PROJECTORS

    overrides: dict[str, Any] = {key: getattr(args, dest) for dest, key in TRAIN_FLAGS.items()
                                 if getattr(args, dest) is not None}
    overrides.update({key: True for dest, key in TRAIN_SWITCHES.items() if getattr(args, dest)})
    if args.micro_batch_size is not None:
        overrides["stage1.micro_batch_size"] = overrides["stage2.micro_batch_size"] = args.micro_batch_size
    if args.projector is not None:
        overrides["model.projector" if args.projector in PROJECTORS else "projector_path"] = args.projector
    overrides.update(assignments(args.set_, "--set", "KEY=VALUE"))
    return overrides


def run_train(args: argparse.Namespace) -> int:
    from vlprune.data.metrics import format_metrics
    from vlprune.train.config import load_config
    from vlprune.train.recipe import train

    cfg = load_config(args.config, train_overrides(args))
    result = train(args.subset, cfg, args.out, allow_mismatch=args.allow_mismatch, overwrite=args.overwrite,
                   evaluate_after=not args.no_eval)
    if result.metrics is not None:
        print(format_metrics(result.metrics, title=f"{result.run_dir}: {result.metrics['mode']} evaluation "
                                                   f"on {result.metrics['split']}"))
        print(f"wrote {result.run_dir / 'metrics.json'} and {result.run_dir / 'predictions.json'}")
    return 0


def add_eval_parser(sub, common) -> None:
    p = sub.add_parser("eval", parents=[common], help="score a trained run on ScienceQA (accuracy per category)",
                       description="Evaluate a finished training run: writes metrics.json and predictions.json "
                                   "into the run directory and prints the summary table.")
    p.add_argument("--run", required=True, metavar="DIR", help="run directory written by vlprune train")
    p.add_argument("--mode", choices=("likelihood", "generate"), help="default: the run's setting (likelihood)")
    p.add_argument("--split", help="split to score (default: the run's setting, test)")
    p.add_argument("--limit", type=int, metavar="N", help="score only the first N problems")
    p.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from vlprune.data.metrics import format_metrics
    from vlprune.train.recipe import evaluate

    result = evaluate(args.run, mode=args.mode, split=args.split, limit=args.limit)
    m = result.metrics
    print(format_metrics(m, title=f"{args.run}: {m['mode']} evaluation on {m['split']}"))
    if result.files:
        print(f"wrote {result.files[0]} and {result.files[1]}")
    return 0


# -- embed --------------------------------------------------------------------------------------
def add_embed_parser(sub, common) -> None:
    p = sub.add_parser(
        "embed", parents=[common], help="embed a dataset's records (whole or one shard) or merge shards",
        description="Embed every record of a dataset split into OUT (.npy + .npy.json sidecar), "
                    "through the embedding cache; or merge the shards of a sharded run.",
        epilog="examples:\n"
               "  vlprune embed --embedder minilm --out emb.npy\n"
               "  vlprune embed --embedder clip --model openai/clip-vit-base-patch32 --shard 0/4 --out s0.npy\n"
               "  vlprune embed --merge s0.npy s1.npy s2.npy s3.npy --out emb.npy",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--embedder", metavar="SPEC",
                   help="tfidf, pixels, minilm, clip, llava, default (minilm+pixels), a joint "
                        "spec like minilm+pixels*0.5, or NAME:MODEL")
    p.add_argument("--model", metavar="PATH", help="model of the embedder: hub id or local folder")
    p.add_argument("--out", required=True, help="embeddings file to write (.npy; sidecar OUT.json)")
    p.add_argument("--shard", metavar="I/N", help="embed only shard I of N (I counts from 0)")
    p.add_argument("--merge", nargs="+", metavar="SHARD", help="merge these shard files into --out")
    p.add_argument("--batch-size", type=int, help="records per model batch (model embedders)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"),
                   help="where model embedders run (default auto: CUDA when present)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="any embedder parameter, e.g. join=average or caption=always (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    add_dataset_options(p)
    p.set_defaults(func=run_embed)


def run_embed(args: argparse.Namespace) -> int:
    from vlprune.embed.shards import embed_to_file, merge_shards, parse_shard
    from vlprune.embed.spec import get_embedder
    from vlprune.io import check_outputs

    check_outputs({"--out": args.out}, [args.data, *(args.merge or [])])
    if args.merge:
        given = [flag for flag, value in (("--embedder", args.embedder), ("--model", args.model),
                                          ("--shard", args.shard), ("--param", args.param)) if value]
        if given:
            raise UsageError(f"--merge takes only shard files and --out, not {', '.join(given)}")
        meta = merge_shards(args.merge, args.out)
    else:
        if not args.embedder:
            raise UsageError("give --embedder NAME (or --merge SHARD... to merge shards)")
        shard = parse_shard(args.shard) if args.shard else None
        params = {"model": args.model, "batch_size": args.batch_size, "device": args.device}
        params = {k: v for k, v in params.items() if v is not None} | assignments(args.param, "--param")
        embedder = get_embedder(args.embedder, **params)
        pool = load_pool_from_args(args)
        meta = embed_to_file(embedder, pool, args.out, shard=shard, use_cache=not args.no_cache)
    rows, shard_info = meta["rows"], meta["shard"]
    part = f", shard {shard_info['index']}/{shard_info['count']} (rows {rows[0]}-{rows[1]})" if shard_info else ""
    print(f"wrote {args.out}: {meta['shape'][0]} x {meta['shape'][1]} float32, embedder "
          f"{meta['embedder']['name']}{part}")
    return 0


# -- compare ------------------------------------------------------------------------------------
def add_compare_parser(sub, common) -> None:
    p = sub.add_parser("compare", parents=[common],
                       help="score selectors against each other (and random) over budgets and seeds",
                       description="Select, train and evaluate every (selector, k, seed) cell; write "
                                   "results.csv, summary.md, learning_curve.png, categories.png and "
                                   "cost.png. The grid is checked whole before the first cell. "
                                   "Resumable: completed cells are skipped.")
    p.add_argument("--selectors", help="comma list of selector names (default: random)")
    p.add_argument("--k", help="comma list of budgets, e.g. 250,500,1000,2000 (required, unless the "
                               "--config file gives k)")
    p.add_argument("--seeds", help="number of seeds (5 -> 0,...,4; default 5) or a comma list")
    p.add_argument("--scorer", help="probe (fast proxy, default) or llava (the built-in trainer)")
    p.add_argument("--scorer-param", action="append", metavar="NAME=VALUE", help="scorer option (repeatable)")
    p.add_argument("--config", metavar="YAML", help="grid file; flags given here override it")
    p.add_argument("--eval-split", metavar="SPLIT",
                   help="split every cell is scored on (default test; dev to tune on --split tune)")
    p.add_argument("--no-full-data", action="store_true", help="skip the full-data reference row")
    p.add_argument("--out", required=True, help="output folder (reused to resume)")
    add_dataset_options(p)
    p.set_defaults(func=run_compare)


def _comma_list(text: str, convert: Callable = str) -> list:
    try:
        return [convert(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"expected a comma-separated list, got {text!r}") from None


def run_compare(args: argparse.Namespace) -> int:
    from vlprune.compare import GridConfig, compare

    flags: dict[str, Any] = {}
    if args.selectors:
        flags["selectors"] = _comma_list(args.selectors)
    if args.k:
        flags["k"] = _comma_list(args.k, int)
    if args.seeds:
        seeds = _comma_list(args.seeds, int)
        flags["seeds"] = seeds[0] if len(seeds) == 1 and "," not in args.seeds else seeds
    if args.scorer:
        flags["scorer"] = args.scorer
    if args.scorer_param:
        flags["scorer_params"] = assignments(args.scorer_param, "--scorer-param")
    if args.eval_split:
        flags["test_split"] = args.eval_split
    if args.no_full_data:
        flags["full_data"] = False
    if args.data or args.dataset != "synthetic" or args.size or args.data_seed is not None or args.split != "train" \
            or not args.config:
        flags["dataset"] = dataset_ref(args).to_dict()
    config = GridConfig.load(args.config, flags)
    compare(config, args.out, progress=sys.stderr.isatty())
    print((Path(args.out) / "summary.md").read_text())
    print(f"wrote {args.out}/results.csv, summary.md, learning_curve.png, categories.png, cost.png")
    return 0


# -- entry point --------------------------------------------------------------------------------
SUBCOMMANDS: list[Callable] = [add_select_parser, add_inspect_parser, add_embed_parser, add_train_parser,
                               add_eval_parser, add_compare_parser]


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="vlprune", parents=[common],
        description="Prune visual-instruction-tuning data and score the subsets.",
        epilog="Cached data lives in $VLPRUNE_CACHE_DIR (default: the user cache folder, "
               "e.g. ~/.cache/vlprune); --cache-dir DIR overrides it for one command.")
    parser.add_argument("--version", action="version", version=f"vlprune {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(sub, common)
    return parser


def _attach_dash_values(argv: list[str]) -> list[str]:
    """``--shard -1/4`` as ``--shard=-1/4``: argparse would read the value as an option and
    answer with its own message instead of the shard check's."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if i and argv[i - 1] == "--shard" and arg.startswith("-") and out and out[-1] == "--shard":
            out[-1] = f"--shard={arg}"
        else:
            out.append(arg)
    return out


def _shown_nowhere_else(record: logging.LogRecord) -> bool:
    """False for a record a library's own handler has printed already (huggingface_hub has
    one and still passes its records up to ours): each message is shown once."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None and logger is not logging.root:
        if logger.handlers:
            return False
        if not logger.propagate:
            break
        logger = logger.parent
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_attach_dash_values(list(sys.argv[1:] if argv is None else argv)))
    quiet, debug = getattr(args, "quiet", False), getattr(args, "debug", False)
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                        format="vlprune: %(message)s", stream=sys.stderr, force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_shown_nowhere_else)
    if getattr(args, "cache_dir", None):
        os.environ["VLPRUNE_CACHE_DIR"] = args.cache_dir  # read by vlprune.io.cache_dir, in every layer
    from vlprune.errors import VlpruneError

    try:
        return int(args.func(args) or 0)
    except (VlpruneError, UsageError, OSError) as exc:
        if debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"vlprune {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vlprune: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
