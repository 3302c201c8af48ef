"""``vlprune train`` and ``vlprune eval``."""

from __future__ import annotations

import argparse
from typing import Any

from vlprune.cli.common import assignments

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
