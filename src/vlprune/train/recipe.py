"""The two-stage LLaVA recipe, top to bottom: :func:`train` (data, run folder, model, base
pretraining for presets, stage 1 cached, stage 2 on the subset, evaluation), and
:func:`evaluate`, which rebuilds a finished run's model and scores it again.

Every stage runs the one optimisation loop of :mod:`vlprune.train.loop`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vlprune.data.loaders import check_evaluation_split
from vlprune.data.pool import Pool
from vlprune.data.subset import SubsetManifest
from vlprune.errors import ConfigError
from vlprune.train.base import pretrain_base
from vlprune.train.checkpoint import TrainLog, atomic_dir
from vlprune.train.config import TrainConfig, load_config
from vlprune.train.data import (
    ExampleDataset,
    ShuffledChoices,
    caption_examples,
    check_images,
    make_encoder,
    problem_examples,
)
from vlprune.train.loop import StepCallback, make_accelerator, out_of_memory_hint, run_stage
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
    trainable_state,
)
from vlprune.train.predict import EvalResult, evaluate_bundle, write_results
from vlprune.train.rundir import RunDir, open_run_dir

log = logging.getLogger("vlprune")

#: Bump when stage 1's data or loss changes, so that cached projectors are not reused.
STAGE1_VERSION = 1


@dataclass
class TrainResult:
    """What :func:`train` returns: the run folder, and the evaluation (its metrics and the
    predicted choice per problem) unless evaluation was turned off."""

    run_dir: Path
    evaluation: EvalResult | None

    @property
    def metrics(self) -> dict[str, Any] | None:
        return None if self.evaluation is None else self.evaluation.metrics


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
    pool: Pool | None = None,
    eval_pool: Pool | None = None,
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
        pool, eval_pool: the subset's pool and the evaluation split, when the caller has
            them loaded already (a comparison grid trains many subsets of one pool); they
            are checked against the manifest like a pool loaded here.

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
    pool = manifest.load_pool() if pool is None else pool
    positions = manifest.positions_in(pool, allow_mismatch=allow_mismatch)
    if len(positions) == 0:
        raise ConfigError("the subset is empty: nothing to train on")
    check_images(pool, positions, use_captions=cfg.data.caption_for_missing_images, what="subset")
    test_pool = None
    if evaluate_after:
        check_evaluation_split(manifest.dataset.split, cfg.eval.split)
        test_pool = manifest.load_pool(split=cfg.eval.split) if eval_pool is None else eval_pool
        if test_pool.reference.split != cfg.eval.split:
            raise ConfigError(f"the evaluation pool is split {test_pool.reference.split!r}, the config "
                              f"says eval.split={cfg.eval.split!r}")
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
        return TrainResult(run.path, EvalResult.read(run))
    with out_of_memory_hint(cfg, "building the model"):
        bundle = build_model(cfg, pool)
    open_run_dir(out, cfg.to_dict(), manifest.to_dict(), overwrite=overwrite, write=main)
    accelerator.wait_for_everyone()
    train_log = TrainLog(run.log, enabled=main)
    train_log.write({"event": "start", "stage": "run", "subset": len(positions), "model": cfg.model.source(),
                     "processes": accelerator.num_processes, "device": str(accelerator.device)})

    # 3. The model: base weights, then the stage-1 projector (cached), then stage 2.
    own_text = pretraining_pool(cfg, pool, positions)
    if cfg.model.preset and cfg.base.epochs > 0:
        with out_of_memory_hint(cfg, "base pretraining"):
            pretrain_base(bundle, cfg, own_text, accelerator=accelerator, train_log=train_log,
                          on_step=on_step, progress=progress)
    with out_of_memory_hint(cfg, "stage 1"):
        stage1_projector(bundle, cfg, own_text, accelerator=accelerator, train_log=train_log,
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
                                             answer=cfg.data.answer, on_overlong=cfg.data.on_overlong,
                                             what="subset")
        if not examples:
            raise ConfigError(f"all {skipped} subset examples are longer than data.max_length="
                              f"{cfg.data.max_length}; raise --max-length")
        if cfg.data.shuffle_choices:
            dataset = ShuffledChoices(examples, pool, bundle.image_processor, encoder=encoder,
                                      target=cfg.data.target, answer=cfg.data.answer, seed=cfg.seed)
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
    evaluation = None
    if evaluate_after and main:
        assert test_pool is not None
        evaluation = evaluate_bundle(bundle, test_pool, cfg, progress=progress)
        evaluation.files = write_results(run, evaluation)
        train_log.write({"event": "done", "stage": "eval", "accuracy": evaluation.metrics["accuracy"],
                         "count": evaluation.metrics["count"],
                         "seconds_total": round(time.perf_counter() - started, 1)})
    accelerator.wait_for_everyone()
    return TrainResult(run.path, evaluation)


def pretraining_pool(cfg: TrainConfig, pool: Pool, positions: np.ndarray) -> Pool:
    """The records whose text the base pretraining and stage 1 read: the whole pool (the
    default: the same for every subset of it, so cached and shared), or with
    ``data.base_records: subset`` the subset's own records."""
    return pool if cfg.data.base_records == "pool" else pool.subset(positions)


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
        assert pool is not None
        own_text = pretraining_pool(cfg, pool, manifest.positions_in(pool, allow_mismatch=True))
        pretrain_base(bundle, cfg, own_text, accelerator=make_accelerator(cfg),
                      train_log=TrainLog(run.log, enabled=False), progress=progress)
    if cfg.lora.r > 0:
        seed_everything(cfg.seed)
        add_lora(bundle.model, cfg.lora)
    configure_stage(bundle.model, "stage2", cfg.lora)
    load_trained_weights(bundle.model, run)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    bundle.model.to(device)
    return bundle, cfg, manifest


def evaluate(run_dir: str | os.PathLike, *, mode: str | None = None, split: str | None = None,
             limit: int | None = None, write: bool = True, progress: bool | None = None) -> EvalResult:
    """Score a finished run on ScienceQA (default: its configured mode and split, ``test``).

    With the run's own settings the results go to ``metrics.json`` / ``predictions.json``;
    with another mode, split or limit to ``metrics-<mode>-<split>[-first<N>].json`` (and
    the same for predictions), so the training run's numbers are never overwritten.

    Example:
        >>> result = evaluate("runs/tiny")            # doctest: +SKIP
        >>> round(result.metrics["accuracy"], 3)       # doctest: +SKIP
        0.612
    """
    import sys

    progress = sys.stderr.isatty() if progress is None else progress
    bundle, cfg, manifest = restore_model(run_dir, progress=progress)
    configured = (cfg.eval.mode, cfg.eval.split, cfg.eval.limit)
    cfg.eval.mode = mode or cfg.eval.mode
    cfg.eval.split = split or cfg.eval.split
    cfg.eval.limit = limit if limit is not None else cfg.eval.limit
    cfg.validate()
    # The run's own setting writes metrics.json; any other one a file named after it.
    suffix = "" if (cfg.eval.mode, cfg.eval.split, cfg.eval.limit) == configured else (
        f"-{cfg.eval.mode}-{cfg.eval.split}" + (f"-first{cfg.eval.limit}" if cfg.eval.limit else ""))
    pool = manifest.load_pool(split=cfg.eval.split)
    check_images(pool, range(len(pool)), use_captions=cfg.data.caption_for_missing_images,
                 what=f"{cfg.eval.split} split")
    result = evaluate_bundle(bundle, pool, cfg, progress=progress)
    if write:
        result.files = write_results(RunDir(Path(run_dir)), result, suffix=suffix)
    return result
