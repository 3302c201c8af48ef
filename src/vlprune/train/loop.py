"""The two-stage LLaVA recipe, top to bottom: :func:`train` (data, run folder, model, stage 1,
stage 2, evaluation), then :func:`run_stage`, the one optimisation loop every stage uses.

Distributed training goes through accelerate: ``accelerate launch -m vlprune train ...``
runs the same code on every process; each optimizer step's global batch is split between
the processes and, on each, into micro-batches whose gradients accumulate. Only the main
process writes files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vlprune.data.pool import Pool
from vlprune.errors import ConfigError, VlpruneError
from vlprune.select.manifest import SubsetManifest
from vlprune.train.checkpoint import (
    TrainLog,
    atomic_dir,
    load_checkpoint,
    save_checkpoint,
    set_rng_state,
)
from vlprune.train.config import StageConfig, TrainConfig, load_config
from vlprune.train.data import (
    IGNORE_INDEX,
    Encoder,
    Example,
    ExampleDataset,
    ShuffledChoices,
    caption_examples,
    check_images,
    collate,
    problem_examples,
)
from vlprune.train.model import (
    SHARED_SEED,
    ModelBundle,
    add_lora,
    build_model,
    configure_stage,
    load_projector,
    load_state,
    projector_kind,
    save_projector,
    seed_everything,
    set_activation_checkpointing,
    trainable_state,
)
from vlprune.train.rundir import RunDir, open_run_dir

log = logging.getLogger("vlprune")

#: Called after every optimizer step with (stage, steps done, total steps); tests raise
#: from it to simulate a run killed mid-training.
StepCallback = Callable[[str, int, int], None]

#: Bump when stage 1's data or loss changes, so that cached projectors are not reused.
STAGE1_VERSION = 1


@dataclass
class TrainResult:
    """What :func:`train` returns: the run folder and the evaluation metrics (None when
    evaluation was turned off)."""

    run_dir: Path
    metrics: dict[str, Any] | None


def train(
    subset: str | os.PathLike | SubsetManifest,
    config: TrainConfig | None = None,
    out: str | os.PathLike | None = None,
    *,
    allow_mismatch: bool = False,
    overwrite: bool = False,
    evaluate_after: bool = True,
    on_step: StepCallback | None = None,
    progress: bool | None = None,
) -> TrainResult:
    """Train a LLaVA model on a subset with the two-stage recipe and score it on ScienceQA test.

    Stage 1 (projector pretraining on image-caption pairs) is cached and shared by every
    subset trained from the same base; stage 2 fine-tunes on the subset. Running the same
    call again resumes an interrupted run from its last checkpoint, or returns the finished
    run's metrics.

    Args:
        subset: a subset manifest (``subset.json``) or a loaded :class:`SubsetManifest`.
        config: the settings; default the reference recipe (Mistral-7B + CLIP ViT-L/14-336).
        out: the run directory (default ``runs/<subset file stem>``).
        allow_mismatch: accept a dataset whose fingerprint differs from the manifest's.
        overwrite: delete an existing run in ``out`` instead of resuming it.
        evaluate_after: score the trained model on ``config.eval.split`` (default test).
        on_step: called after every optimizer step with (stage, step, total).
        progress: show progress bars (default: when stderr is a terminal).

    Example:
        >>> from vlprune.train import load_config, train
        >>> cfg = load_config(overrides={"model.preset": "tiny"})
        >>> result = train("subset.json", cfg, "runs/tiny")     # doctest: +SKIP
        >>> result.metrics["accuracy"]                           # doctest: +SKIP
        0.61
    """
    import sys

    cfg = config if config is not None else load_config()
    cfg.validate()
    progress = sys.stderr.isatty() if progress is None else progress
    started = time.perf_counter()

    # 1. The data: the subset's pool and the evaluation split of the same dataset.
    manifest = subset if isinstance(subset, SubsetManifest) else SubsetManifest.load(subset)
    pool = manifest.load_pool()
    positions = manifest.positions_in(pool, allow_mismatch=allow_mismatch)
    if len(positions) == 0:
        raise ConfigError("the subset is empty: nothing to train on")
    check_images(pool, positions, use_captions=cfg.data.caption_for_missing_images, what="subset")
    test_pool = None
    if evaluate_after:
        test_pool = manifest.load_pool(split=cfg.eval.split)
        check_images(test_pool, range(len(test_pool)), use_captions=cfg.data.caption_for_missing_images,
                     what=f"{cfg.eval.split} split")

    # 2. The run folder: new, or the same settings resumed (checked before the model is
    # built, written after, so that a failure in either leaves nothing behind).
    accelerator = make_accelerator(cfg)
    main = accelerator.is_main_process
    if out is None:
        out = Path("runs") / (Path(str(subset)).stem if not isinstance(subset, SubsetManifest) else "subset")
    run = open_run_dir(out, cfg.to_dict(), manifest.to_dict(), overwrite=overwrite, write=False)
    if run.metrics.exists() and evaluate_after and not overwrite:
        log.info("%s is complete; delete metrics.json (or --overwrite) to redo it", run.path)
        return TrainResult(run.path, json.loads(run.metrics.read_text(encoding="utf-8")))
    with out_of_memory_hint(cfg, "building the model"):
        bundle = build_model(cfg, pool)
    open_run_dir(out, cfg.to_dict(), manifest.to_dict(), overwrite=overwrite, write=main)
    accelerator.wait_for_everyone()
    train_log = TrainLog(run.log, enabled=main)
    train_log.write({"event": "start", "stage": "run", "subset": len(positions), "model": cfg.model.source(),
                     "processes": accelerator.num_processes, "device": str(accelerator.device)})

    # 3. The model: base weights, then the stage-1 projector (cached), then stage 2.
    if cfg.model.preset and cfg.base.epochs > 0:
        from vlprune.train.base import pretrain_base

        with out_of_memory_hint(cfg, "base pretraining"):
            pretrain_base(bundle, cfg, pool, accelerator=accelerator, train_log=train_log,
                          on_step=on_step, progress=progress)
    with out_of_memory_hint(cfg, "stage 1"):
        stage1_projector(bundle, cfg, pool, accelerator=accelerator, train_log=train_log,
                         on_step=on_step, progress=progress)

    seed_everything(cfg.seed)
    if cfg.lora.r > 0:
        add_lora(bundle.model, cfg.lora)
    configure_stage(bundle.model, "stage2", cfg.lora)
    if run.trained():
        load_trained_weights(bundle.model, run)
    else:
        encoder = make_encoder(bundle, cfg)
        examples, skipped = problem_examples(pool, positions, encoder, target=cfg.data.target,
                                             on_overlong=cfg.data.on_overlong, what="subset")
        if not examples:
            raise ConfigError(f"all {skipped} subset examples are longer than data.max_length="
                              f"{cfg.data.max_length}; raise --max-length")
        if cfg.data.shuffle_choices:
            dataset = ShuffledChoices(examples, pool, bundle.image_processor, encoder=encoder,
                                      target=cfg.data.target, seed=cfg.seed)
        else:
            dataset = ExampleDataset(examples, pool, bundle.image_processor)
        with out_of_memory_hint(cfg, "stage 2"):
            summary = run_stage("stage2", bundle, dataset, cfg.stage2, cfg=cfg, accelerator=accelerator,
                                checkpoint=run.checkpoints / "stage2.pt", key=_stage2_key(cfg, manifest),
                                seed=cfg.seed, train_log=train_log, on_step=on_step, progress=progress)
        train_log.write({"event": "done", "stage": "stage2", "skipped_overlong": skipped, **summary})
        if main:
            save_trained_weights(bundle, run)
            (run.checkpoints / "stage2.pt").unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                run.checkpoints.rmdir()
        accelerator.wait_for_everyone()

    # 4. Evaluation (deterministic; on the main process).
    metrics = None
    if evaluate_after and main:
        from vlprune.train.evaluate import evaluate_bundle, write_results

        assert test_pool is not None
        result = evaluate_bundle(bundle, test_pool, cfg, progress=progress)
        write_results(run, result)
        metrics = result.metrics
        train_log.write({"event": "done", "stage": "eval", "accuracy": metrics["accuracy"],
                         "count": metrics["count"], "seconds_total": round(time.perf_counter() - started, 1)})
    accelerator.wait_for_everyone()
    return TrainResult(run.path, metrics)


# -- pieces train() uses ----------------------------------------------------------------------
def make_accelerator(cfg: TrainConfig):
    """An ``accelerate.Accelerator``: bf16 autocast on GPU (``precision`` auto or bf16-mixed),
    fp32 on CPU; DDP told that some parameters may get no gradient (the projector in a
    text-only batch)."""
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    cuda = torch.cuda.is_available()
    mixed = cfg.precision == "bf16-mixed" or (cfg.precision == "auto" and cuda)
    return Accelerator(mixed_precision="bf16" if mixed else "no", cpu=not cuda,
                       kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])


def make_encoder(bundle: ModelBundle, cfg: TrainConfig) -> Encoder:
    return Encoder(bundle.tokenizer, image_token_id=bundle.image_token_id,
                   image_seq_length=bundle.image_seq_length, template=cfg.data.template,
                   max_length=cfg.data.max_length)


@contextlib.contextmanager
def out_of_memory_hint(cfg: TrainConfig, what: str):
    """Turn CUDA's out-of-memory error into one line naming the flags that reduce memory."""
    try:
        yield
    except torch.cuda.OutOfMemoryError:
        hints = []
        if cfg.lora.r == 0:
            hints.append("LoRA (--lora-r 128)")
        if not cfg.gradient_checkpointing:
            hints.append("--gradient-checkpointing")
        hints.append(f"a smaller --micro-batch-size (now {cfg.stage2.micro_batch_size})")
        if cfg.precision != "bf16":
            hints.append("bf16 weights (--precision bf16)")
        raise VlpruneError(f"CUDA ran out of memory during {what}; reduce memory with "
                           + ", ".join(hints) + " (see docs/training.md, memory table)") from None


def _hash(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _stage2_key(cfg: TrainConfig, manifest: SubsetManifest) -> str:
    d = cfg.to_dict()
    return _hash("stage2", {k: v for k, v in d.items() if k not in ("eval", "save_every")}, manifest.ids)


def stage1_projector(bundle: ModelBundle, cfg: TrainConfig, pool: Pool, *, accelerator, train_log: TrainLog,
                     on_step: StepCallback | None = None, progress: bool = False) -> str:
    """Give the model its stage-1 projector: from ``projector_path``, from the cache, or by
    training it (vision tower and LLM frozen) on image-caption pairs and caching the result.

    The cache key is the base model, the stage-1 settings and the caption data's fingerprint,
    so every subset trained from the same base shares one stage 1. Returns what was done.
    """
    from vlprune.io import cache_dir

    if cfg.projector_path:
        load_projector(bundle.model, cfg.projector_path)
        train_log.write({"event": "projector", "stage": "stage1", "source": cfg.projector_path})
        return f"loaded {cfg.projector_path}"
    if cfg.skip_stage1 or cfg.model.checkpoint:
        why = "the checkpoint's projector is trained" if cfg.model.checkpoint else "skip_stage1"
        if not cfg.model.checkpoint:
            log.warning("stage 1 skipped: the projector keeps its random initialisation")
        train_log.write({"event": "skipped", "stage": "stage1", "why": why})
        return "skipped"

    captions_pool = pool
    if cfg.data.stage1_data:
        from vlprune.data.loaders import load_pool

        options = {"image_folder": cfg.data.stage1_image_folder} if cfg.data.stage1_image_folder else {}
        captions_pool = load_pool("llava-json", cfg.data.stage1_data, split=None, **options)
    key = _hash("stage1", STAGE1_VERSION, bundle.identity, projector_kind(bundle.model), cfg.stage1,
                cfg.data.max_length, captions_pool.fingerprint)
    folder = cache_dir("train", "stage1", key)
    result = folder / "projector.safetensors"
    if result.exists():
        load_projector(bundle.model, result)
        log.info("stage 1: reusing the cached projector %s", result)
        train_log.write({"event": "cached", "stage": "stage1", "source": str(result)})
        return f"cached {result}"

    encoder = make_encoder(bundle, cfg)
    examples = caption_examples(captions_pool, encoder, max_examples=cfg.stage1.max_examples, seed=SHARED_SEED)
    if not examples:
        log.warning("stage 1 skipped: no image-caption pairs with image files (the projector stays random)")
        train_log.write({"event": "skipped", "stage": "stage1", "why": "no image-caption pairs"})
        return "skipped"
    configure_stage(bundle.model, "stage1")
    dataset = ExampleDataset(examples, captions_pool, bundle.image_processor)
    summary = run_stage("stage1", bundle, dataset, cfg.stage1, cfg=cfg, accelerator=accelerator,
                        checkpoint=folder / "stage1.pt", key=key, seed=SHARED_SEED, train_log=train_log,
                        on_step=on_step, progress=progress)
    if accelerator.is_main_process:
        save_projector(bundle.model, result, key=key)
        (folder / "stage1.pt").unlink(missing_ok=True)
    accelerator.wait_for_everyone()
    train_log.write({"event": "done", "stage": "stage1", "cached": str(result), **summary})
    return f"trained {result}"


def save_trained_weights(bundle: ModelBundle, run: RunDir) -> None:
    """Write the stage-2 weights (every trainable parameter) and how to rebuild around them."""
    from safetensors.torch import save_file

    from vlprune.io import write_json

    with atomic_dir(run.model) as tmp:
        save_file(trainable_state(bundle.model), str(tmp / "trainable.safetensors"),
                  metadata={"projector": projector_kind(bundle.model)})
        write_json(tmp / "info.json", {"base": bundle.identity, "projector": projector_kind(bundle.model),
                                       "image_seq_length": bundle.image_seq_length})


def load_trained_weights(model: nn.Module, run: RunDir) -> None:
    from safetensors.torch import load_file

    load_state(model, load_file(str(run.model / "trainable.safetensors")), what=str(run.model))


def restore_model(run_dir: str | os.PathLike, *, progress: bool = False) -> tuple[ModelBundle, TrainConfig,
                                                                                  SubsetManifest]:
    """Rebuild a finished run's model for evaluation: the base (from the cache, or recomputed
    deterministically), LoRA adapters if any, and the saved stage-2 weights."""
    run = RunDir(Path(run_dir))
    if not run.is_run():
        raise ConfigError(f"{run.path}: not a vlprune run directory (no config.yaml)")
    if not run.trained():
        raise ConfigError(f"{run.path}: training has not finished (no model/trainable.safetensors); "
                          "rerun the same vlprune train command to resume it")
    cfg = load_config(run.config)
    manifest = SubsetManifest.load(run.subset)
    pool = manifest.load_pool() if cfg.model.preset else None
    bundle = build_model(cfg, pool)
    if cfg.model.preset and cfg.base.epochs > 0:
        from vlprune.train.base import pretrain_base

        pretrain_base(bundle, cfg, pool, accelerator=make_accelerator(cfg), train_log=TrainLog(run.log, enabled=False),
                      progress=progress)
    if cfg.lora.r > 0:
        seed_everything(cfg.seed)
        add_lora(bundle.model, cfg.lora)
    configure_stage(bundle.model, "stage2", cfg.lora)
    load_trained_weights(bundle.model, run)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    bundle.model.to(device)
    return bundle, cfg, manifest


# -- the optimisation loop --------------------------------------------------------------------
class TokenLoss(nn.Module):
    """Summed next-token cross-entropy over the labelled positions of a batch.

    The LM head runs only on the positions that have a label: with a loss on the answer
    alone, that is a few tokens per sequence instead of all of them. Wrapping the model in
    this module is also what DDP wraps, so gradients synchronise as usual.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor,
                pixel_values: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.model.model(input_ids=input_ids, attention_mask=attention_mask,
                                  pixel_values=pixel_values).last_hidden_state
        targets = labels[:, 1:]
        mask = targets != IGNORE_INDEX
        logits = self.model.lm_head(hidden[:, :-1][mask])
        return F.cross_entropy(logits.float(), targets[mask], reduction="sum")


def n_targets(example: Example) -> int:
    """Tokens the loss covers (labels after the one-token shift)."""
    return sum(1 for t in example.labels[1:] if t != IGNORE_INDEX)


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The data order of one epoch: a permutation that depends only on (seed, epoch).

    Example:
        >>> epoch_order(5, seed=0, epoch=1).tolist() == epoch_order(5, seed=0, epoch=1).tolist()
        True
    """
    return np.random.default_rng([seed, epoch]).permutation(n)


def run_stage(
    stage_name: str,
    bundle: ModelBundle,
    dataset: ExampleDataset,
    stage: StageConfig,
    *,
    cfg: TrainConfig,
    accelerator,
    checkpoint: Path,
    key: str,
    seed: int,
    train_log: TrainLog,
    on_step: StepCallback | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Optimise the model's trainable parameters on ``dataset`` with ``stage``'s settings.

    Each optimizer step takes the next ``stage.batch_size`` examples of the epoch's seeded
    order, splits them between processes and into micro-batches, and normalises the loss by
    the step's total number of answer tokens, so the result does not depend on how the batch
    was split. A checkpoint is written at every epoch end and every ``cfg.save_every`` steps;
    an existing one is resumed from.
    """
    from tqdm.auto import tqdm
    from transformers import get_scheduler

    model = bundle.model
    model.train()
    if cfg.gradient_checkpointing:
        set_activation_checkpointing(model, True)
    world, rank = accelerator.num_processes, accelerator.process_index
    n = len(dataset)
    bs = min(stage.batch_size, n)
    mbs = min(stage.micro_batch_size, bs)
    # A final partial batch smaller than the number of processes would leave one idle: drop it.
    steps_per_epoch = n // bs + (1 if n % bs >= world else 0)
    total = max(1, math.ceil(stage.epochs * steps_per_epoch))

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=stage.lr, weight_decay=stage.weight_decay)
    scheduler = get_scheduler(stage.scheduler, optimizer, num_warmup_steps=round(stage.warmup_ratio * total),
                              num_training_steps=total)
    loss_module, optimizer = accelerator.prepare(TokenLoss(model), optimizer)

    start = 0
    state = load_checkpoint(checkpoint, key=key)
    if state is not None:
        load_state(model, state["trainable"], what=str(checkpoint))
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        start = int(state["step"])
        train_log.rewind(stage_name, start)
        log.info("%s: resuming at step %d of %d from %s", stage_name, start, total, checkpoint)
    train_log.write({"event": "start", "stage": stage_name, "step": start, "total_steps": total, "examples": n,
                     "epochs": stage.epochs, "batch_size": bs, "micro_batch_size": mbs,
                     "trainable_parameters": sum(p.numel() for p in params)})

    bar = tqdm(total=total, initial=start, desc=stage_name, unit="step",
               disable=not (progress and accelerator.is_main_process))
    t0, tokens_seen, loss = time.perf_counter(), 0, float("nan")
    order, order_epoch = None, -1
    for step in range(start, total):
        epoch, index = divmod(step, steps_per_epoch)
        if epoch != order_epoch:
            order, order_epoch = epoch_order(n, seed, epoch), epoch
            dataset.set_epoch(epoch)
        batch_ids = order[index * bs:(index + 1) * bs]
        answer_tokens = sum(n_targets(dataset.example(int(j))) for j in batch_ids)
        mine = batch_ids[rank::world]
        chunks = [mine[i:i + mbs] for i in range(0, len(mine), mbs)]
        loss_sum = torch.zeros((), device=accelerator.device)
        for i, chunk in enumerate(chunks):
            batch = collate([dataset[int(j)] for j in chunk], pad_id=bundle.tokenizer.pad_token_id)
            batch = {k: (v.to(accelerator.device) if v is not None else None) for k, v in batch.items()}
            tokens_seen += int(batch["attention_mask"].sum()) * world
            sync = contextlib.nullcontext() if i == len(chunks) - 1 else accelerator.no_sync(loss_module)
            with sync, accelerator.autocast():
                summed = loss_module(**batch)
                # DDP averages gradients over processes; scaling by world makes it a sum.
                accelerator.backward(summed * world / max(answer_tokens, 1))
            loss_sum += summed.detach()
        accelerator.clip_grad_norm_(params, stage.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)

        done = step + 1
        loss = float(accelerator.reduce(loss_sum, "sum")) / max(answer_tokens, 1)
        elapsed = time.perf_counter() - t0
        train_log.write({"stage": stage_name, "step": done, "epoch": round(done / steps_per_epoch, 4),
                         "loss": round(loss, 5), "lr": scheduler.get_last_lr()[0], "tokens": tokens_seen,
                         "seconds": round(elapsed, 3), "tokens_per_s": round(tokens_seen / elapsed, 1)})
        bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{tokens_seen / elapsed:.0f}")
        bar.update()
        if done < total and (done % steps_per_epoch == 0 or (cfg.save_every and done % cfg.save_every == 0)):
            if accelerator.is_main_process:
                save_checkpoint(checkpoint, trainable=trainable_state(model), optimizer=optimizer,
                                scheduler=scheduler, step=done, key=key)
            accelerator.wait_for_everyone()
        if on_step is not None:
            on_step(stage_name, done, total)
    bar.close()
    if cfg.gradient_checkpointing:
        set_activation_checkpointing(model, False)
    # Drop the accelerator's references to this stage's wrappers (a DDP wrapper keeps hooks on
    # the parameters) and the optimizer states before the next stage builds its own.
    del loss_module, optimizer
    accelerator.free_memory()
    model.eval()
    seconds = time.perf_counter() - t0
    return {"steps": total, "resumed_at": start, "final_loss": round(loss, 5), "seconds": round(seconds, 2),
            "tokens_per_s": round(tokens_seen / max(seconds, 1e-9), 1)}
