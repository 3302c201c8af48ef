"""The ``vlprune`` command line: argument parsing and printing only, no logic of its own.

Every subcommand maps onto one library call; errors a user can cause (bad data, bad
parameters) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vlprune._version import __version__

log = logging.getLogger("vlprune")

DATASETS = ("synthetic", "scienceqa", "hf", "llava-json")


class UsageError(Exception):
    """A command-line mistake found after parsing (exit code 2, one line)."""


# -- shared options ---------------------------------------------------------------------------
def add_dataset_options(p: argparse.ArgumentParser, *, split_default: str | None = "train") -> None:
    g = p.add_argument_group("dataset")
    g.add_argument("--dataset", default="synthetic", metavar="NAME",
                   help="loader: synthetic (default, built in), scienceqa, hf, llava-json, "
                        "or a registered plugin")
    g.add_argument("--data", metavar="PATH", help="dataset folder, file or hub id (not for synthetic)")
    g.add_argument("--split", default=split_default, help=f"split to load (default: {split_default})")
    g.add_argument("--size", default=None,
                   help="synthetic only: full (default), small, tiny or 'train=N,val=N,test=N'")
    g.add_argument("--data-seed", type=int, default=None, help="synthetic only: generator seed (default 0)")
    g.add_argument("--image-folder", metavar="DIR", help="where image files live (scienceqa, llava-json)")
    g.add_argument("--require-images", action="store_true",
                   help="make a missing image file an error instead of using its caption")
    g.add_argument("--on-duplicate-id", choices=("error", "suffix"), default=None,
                   help="llava-json only: what to do with repeated ids")


def load_pool_from_args(args: argparse.Namespace, *, split: str | None = None):
    from vlprune.data.loaders import load_pool

    options: dict[str, Any] = {}
    if args.dataset == "synthetic":
        if args.size:
            options["size"] = args.size
        if args.data_seed is not None:
            options["seed"] = args.data_seed
        options["progress"] = sys.stderr.isatty()
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
    return load_pool(args.dataset, args.data, split=split if split is not None else args.split, **options)


# -- selector parameters as options -----------------------------------------------------------
def selector_parameters() -> dict[str, list[str]]:
    """Every constructor parameter of every registered selector -> the selectors taking it."""
    from vlprune.select.base import selectors

    params: dict[str, list[str]] = {}
    for name, cls in selectors.items():
        for param in cls.param_names():
            params.setdefault(param, []).append(name)
    return params


def _assignment(item: str, flag: str, form: str = "NAME=VALUE") -> tuple[str, str]:
    """``NAME=VALUE`` from a repeatable flag, as (stripped name, value text)."""
    name, sep, text = item.partition("=")
    if not sep:
        raise UsageError(f"{flag} takes {form}, not {item!r}")
    return name.strip(), text


def _literal(text: str) -> Any:
    for convert in (int, float):
        with contextlib.suppress(ValueError):
            return convert(text)
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    return text


def parse_param(name: str, text: str, default: Any) -> Any:
    """Turn an option's text into the parameter's value, guided by the default's type."""
    if name == "warm_start" and text.endswith(".json"):
        from vlprune.data.subset import SubsetManifest

        return SubsetManifest.load(text).ids
    if isinstance(default, tuple | list) or "," in text:
        return [_literal(t.strip()) for t in text.split(",") if t.strip()]
    if isinstance(default, bool):
        value = _literal(text)
        if not isinstance(value, bool):
            raise UsageError(f"--{name.replace('_', '-')} takes true or false, not {text!r}")
        return value
    if isinstance(default, int | float):
        value = _literal(text)
        if not isinstance(value, int | float):
            raise UsageError(f"--{name.replace('_', '-')} takes a number, not {text!r}")
        return type(default)(value)
    return _literal(text) if name in ("start", "weights") else text


def build_selector(args: argparse.Namespace):
    from vlprune.select.base import get_selector, selectors

    cls = selectors.get(args.selector)
    accepted = cls.param_names()
    defaults = {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()}
    given = {name: value for name, value in vars(args).items()
             if name.startswith("sp_") and value is not None}
    params: dict[str, Any] = {}
    for key, text in given.items():
        name = key[3:]
        if name not in accepted:
            raise UsageError(f"--{name.replace('_', '-')} does not apply to selector {args.selector!r} "
                             f"(its parameters: {', '.join(accepted) or 'none'})")
        params[name] = parse_param(name, text, defaults.get(name))
    for item in args.param or []:
        name, text = _assignment(item, "--param")
        name = name.replace("-", "_")
        params[name] = parse_param(name, text, defaults.get(name))
    if args.embeddings:
        if "embedder" not in accepted:
            raise UsageError(f"--embeddings applies to embedding-based selectors, not {args.selector!r}")
        if "embedder" in params:
            raise UsageError("give either --embedder or --embeddings, not both")
        if args.embedder_model:
            raise UsageError("--model applies to --embedder, not to precomputed --embeddings")
        from vlprune.embed.precomputed import PrecomputedEmbedder

        params["embedder"] = PrecomputedEmbedder.from_file(args.embeddings)
    elif args.embedder_model:
        if "embedder" not in accepted:
            raise UsageError(f"--model applies to embedding-based selectors, not {args.selector!r}")
        from vlprune.embed.spec import get_embedder

        params["embedder"] = get_embedder(params.get("embedder", defaults["embedder"]), model=args.embedder_model)
    return get_selector(args.selector, **params)


# -- select -----------------------------------------------------------------------------------
def add_select_parser(sub) -> None:
    p = sub.add_parser("select", help="choose k records of a dataset and write a subset manifest",
                       description="Choose k records and write the subset manifest (subset.json).")
    p.add_argument("--k", type=int, required=True, help="how many records to select")
    p.add_argument("--selector", default="farthest-point",
                   help="random, stratified, image-first, topic-coverage, difficulty, hand-rules, "
                        "farthest-point (default), or a registered plugin")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default="subset.json", help="manifest to write (default subset.json)")
    p.add_argument("--export-llava", metavar="FILE", help="also write the subset as LLaVA training JSON")
    p.add_argument("--embeddings", metavar="NPY",
                   help="precomputed embeddings (n x d .npy, rows in pool order, e.g. from vlprune "
                        "embed) for farthest-point")
    p.add_argument("--model", dest="embedder_model", metavar="PATH",
                   help="model of --embedder (clip, llava, minilm): hub id or local folder")
    add_dataset_options(p)
    g = p.add_argument_group("selector parameters (each applies to the selectors named)")
    for name, users in selector_parameters().items():
        g.add_argument(f"--{name.replace('_', '-')}", dest=f"sp_{name}", metavar="VALUE",
                       help=f"({', '.join(users)})")
    g.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="any selector parameter, for plugins (repeatable)")
    p.set_defaults(func=run_select)


def run_select(args: argparse.Namespace) -> int:
    from vlprune.data.export import export_llava_json
    from vlprune.data.subset import SubsetManifest
    from vlprune.data.summary import format_summary, subset_summary
    from vlprune.io import atomic_path, check_writable

    selector = build_selector(args)
    if args.k <= 0:
        raise UsageError(f"--k must be positive, got {args.k}")
    for target in (args.out, args.export_llava):
        if target:
            check_writable(target)
    pool = load_pool_from_args(args)
    selection = selector.select(pool, args.k, seed=args.seed)
    embedder = None
    if "embedder" in selector.param_names():
        from vlprune.embed.spec import get_embedder

        embedder = get_embedder(selector.embedder).describe()
    manifest = SubsetManifest.from_selection(selection, pool, embedder=embedder)
    # Write every output beside its target first, then rename them together: an error
    # leaves no output file behind.
    with contextlib.ExitStack() as stack:
        tmp_manifest = stack.enter_context(atomic_path(args.out))
        manifest.save(tmp_manifest)
        if args.export_llava:
            tmp_export = stack.enter_context(atomic_path(args.export_llava))
            export_llava_json(pool, selection.positions, tmp_export)
    print(format_summary(subset_summary(pool, selection.positions), title=f"{selection.selector} selection"))
    print(f"wrote {args.out}" + (f" and {args.export_llava}" if args.export_llava else ""))
    return 0


# -- inspect ----------------------------------------------------------------------------------
def add_inspect_parser(sub) -> None:
    p = sub.add_parser("inspect", help="show a subset's make-up beside its pool's",
                       description="Compare a subset with the pool it was selected from.")
    p.add_argument("manifest", help="subset manifest (subset.json)")
    p.add_argument("--data", metavar="PATH", help="read the dataset from here instead of the manifest's path")
    p.add_argument("--allow-mismatch", action="store_true",
                   help="accept a dataset whose fingerprint differs from the manifest's")
    p.add_argument("--top", type=int, default=15, help="rows shown per table (default 15)")
    p.set_defaults(func=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    from vlprune.data.subset import SubsetManifest
    from vlprune.data.summary import format_comparison

    manifest = SubsetManifest.load(args.manifest)
    pool = manifest.load_pool(**({"source": args.data} if args.data else {}))
    positions = manifest.positions_in(pool, allow_mismatch=args.allow_mismatch)
    print(f"{args.manifest}: {manifest.selector} selection of {manifest.k} from {len(pool)} "
          f"({pool.reference.loader}, split {pool.reference.split}), seed {manifest.seed}")
    print(format_comparison(pool, positions, top=args.top))
    return 0


# -- train / eval -----------------------------------------------------------------------------
#: Flags that set one config key each (flag dest -> dotted key); the rest goes through --set.
TRAIN_FLAGS = {
    "preset": "model.preset", "llm": "model.llm", "vision": "model.vision", "model": "model.checkpoint",
    "epochs": "stage2.epochs", "lr": "stage2.lr", "batch_size": "stage2.batch_size",
    "warmup_ratio": "stage2.warmup_ratio", "scheduler": "stage2.scheduler",
    "stage1_epochs": "stage1.epochs", "stage1_lr": "stage1.lr", "stage1_batch_size": "stage1.batch_size",
    "stage1_data": "data.stage1_data", "stage1_image_folder": "data.stage1_image_folder",
    "lora_r": "lora.r", "lora_alpha": "lora.alpha", "precision": "precision", "max_length": "data.max_length",
    "target": "data.target", "answer": "data.answer",
    "save_every": "save_every", "seed": "seed", "eval_mode": "eval.mode", "eval_limit": "eval.limit",
}
TRAIN_SWITCHES = {
    "gradient_checkpointing": "gradient_checkpointing", "skip_stage1": "skip_stage1",
    "caption_for_missing_images": "data.caption_for_missing_images",
}


def add_train_parser(sub) -> None:
    from vlprune.data.prompts import ANSWER_FORMATS, TARGET_FORMATS

    p = sub.add_parser(
        "train", help="train a LLaVA model on a subset and score it on ScienceQA test",
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
    for item in args.set_ or []:
        key, value = _assignment(item, "--set", "KEY=VALUE")
        overrides[key] = value.strip()
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


def add_eval_parser(sub) -> None:
    p = sub.add_parser("eval", help="score a trained run on ScienceQA (accuracy per category)",
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


# -- embed ------------------------------------------------------------------------------------
def add_embed_parser(sub) -> None:
    p = sub.add_parser(
        "embed", help="embed a dataset's records (whole or one shard) or merge shards",
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
    p.add_argument("--cache-dir", metavar="DIR", help="embedding cache folder (default: user cache)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    add_dataset_options(p)
    p.set_defaults(func=run_embed)


def _embedder_from_args(args: argparse.Namespace):
    from vlprune.embed.spec import get_embedder

    params: dict[str, Any] = {}
    if args.model:
        params["model"] = args.model
    if args.batch_size is not None:
        params["batch_size"] = args.batch_size
    if args.device:
        params["device"] = args.device
    for item in args.param or []:
        name, text = _assignment(item, "--param")
        name = name.replace("-", "_")
        params[name] = parse_param(name, text, _embedder_param_default(args.embedder, name))
    return get_embedder(args.embedder, **params)


def _embedder_param_default(spec: str, name: str) -> Any:
    """The default of parameter ``name`` in the first part of ``spec`` that takes it (it
    guides how --param's text is read)."""
    from vlprune.embed.base import embedders

    for term in spec.split("+"):
        base = term.partition("*")[0].partition(":")[0].strip()
        if base in embedders:
            param = inspect.signature(embedders.get(base).__init__).parameters.get(name)
            if param is not None:
                return param.default
    return None


def run_embed(args: argparse.Namespace) -> int:
    from vlprune.embed.shards import embed_to_file, merge_shards, parse_shard

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
        embedder = _embedder_from_args(args)
        embedder.check()
        pool = load_pool_from_args(args)
        meta = embed_to_file(embedder, pool, args.out, shard=shard, cache_dir=args.cache_dir,
                             use_cache=not args.no_cache)
    rows, shard_info = meta["rows"], meta["shard"]
    part = f", shard {shard_info['index']}/{shard_info['count']} (rows {rows[0]}-{rows[1]})" if shard_info else ""
    print(f"wrote {args.out}: {meta['shape'][0]} x {meta['shape'][1]} float32, embedder "
          f"{meta['embedder']['name']}{part}")
    return 0


# -- compare ----------------------------------------------------------------------------------
def add_compare_parser(sub) -> None:
    p = sub.add_parser("compare", help="score selectors against each other (and random) over budgets and seeds",
                       description="Select, train and evaluate every (selector, k, seed) cell; write "
                                   "results.csv, summary.md, learning_curve.png and categories.png. "
                                   "Resumable: completed cells are skipped.")
    p.add_argument("--selectors", help="comma list of selector names (default: random)")
    p.add_argument("--k", help="comma list of budgets, e.g. 250,500,1000,2000")
    p.add_argument("--seeds", help="number of seeds (3 -> 0,1,2) or a comma list")
    p.add_argument("--scorer", help="probe (fast proxy, default) or llava (the built-in trainer)")
    p.add_argument("--scorer-param", action="append", metavar="NAME=VALUE", help="scorer option (repeatable)")
    p.add_argument("--config", metavar="YAML", help="grid file; flags given here override it")
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

    settings: dict[str, Any] = {}
    if args.config:
        import yaml

        from vlprune.errors import DataError

        try:
            settings = yaml.safe_load(Path(args.config).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise DataError(f"cannot read grid config: {str(exc).splitlines()[0]}", file=args.config) from None
        if not isinstance(settings, dict):
            raise DataError("expected a mapping of grid settings", file=args.config)
    if args.selectors:
        settings["selectors"] = _comma_list(args.selectors)
    if args.k:
        settings["k"] = _comma_list(args.k, int)
    if args.seeds:
        seeds = _comma_list(args.seeds, int)
        settings["seeds"] = seeds[0] if len(seeds) == 1 and "," not in args.seeds else seeds
    if args.scorer:
        settings["scorer"] = args.scorer
    for item in args.scorer_param or []:
        name, text = _assignment(item, "--scorer-param")
        settings.setdefault("scorer_params", {})[name.replace("-", "_")] = _literal(text)
    if args.no_full_data:
        settings["full_data"] = False
    if args.data or args.dataset != "synthetic" or args.size or args.data_seed is not None or "dataset" not in settings:
        options: dict[str, Any] = {}
        if args.size:
            options["size"] = args.size
        if args.data_seed is not None:
            options["seed"] = args.data_seed
        if args.image_folder:
            options["image_folder"] = args.image_folder
        settings["dataset"] = {"loader": args.dataset, "source": args.data, "split": args.split, "options": options}
    config = GridConfig.from_dict(settings)
    compare(config, args.out, progress=sys.stderr.isatty())
    print((Path(args.out) / "summary.md").read_text())
    print(f"wrote {args.out}/results.csv, summary.md, learning_curve.png, categories.png")
    return 0


# -- entry point ------------------------------------------------------------------------------
SUBCOMMANDS: list[Callable] = [add_select_parser, add_inspect_parser, add_embed_parser, add_train_parser,
                               add_eval_parser, add_compare_parser]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vlprune",
        description="Prune visual-instruction-tuning data and score the subsets.",
    )
    parser.add_argument("--version", action="version", version=f"vlprune {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="vlprune: %(message)s", stream=sys.stderr, force=True)
    from vlprune.errors import VlpruneError

    try:
        return int(args.func(args) or 0)
    except (VlpruneError, UsageError, OSError) as exc:
        if args.debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"vlprune {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vlprune: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
