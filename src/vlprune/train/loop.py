"""The optimisation loop every training stage runs: :func:`run_stage` (epoch order, micro-batches,
gradient accumulation, checkpoints, resuming) and the answer-token loss it minimises.

Which weights a stage trains, on which data, is the recipe's business
(:mod:`vlprune.train.recipe`, :mod:`vlprune.train.base`); this module knows nothing of stages
beyond their :class:`~vlprune.train.config.StageConfig`.

Distributed training goes through accelerate: ``accelerate launch -m vlprune train ...``
runs the same code on every process; each optimizer step's global batch is split between
the processes and, on each, into micro-batches whose gradients accumulate. Only the main
process writes files.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vlprune.errors import VlpruneError
from vlprune.train.checkpoint import TrainLog, load_checkpoint, save_checkpoint, set_rng_state
from vlprune.train.config import StageConfig, TrainConfig
from vlprune.train.data import IGNORE_INDEX, Example, ExampleDataset, collate
from vlprune.train.model import (
    ModelBundle,
    load_state,
    set_activation_checkpointing,
    trainable_state,
)

log = logging.getLogger("vlprune")

#: Called after every optimizer step with (stage, steps done, total steps); tests raise
#: from it to simulate a run killed mid-training.
StepCallback = Callable[[str, int, int], None]

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


class ProgressLog:
    """Log lines "stage: step i/n (epoch e), loss l, time left", at most every ``every``
    seconds and at the last step: what a user following a log file sees when stderr is not
    a terminal and there is no progress bar."""

    def __init__(self, stage: str, total: int, steps_per_epoch: int, start: int, *, every: float = 30.0) -> None:
        self.stage, self.total, self.steps_per_epoch, self.start, self.every = stage, total, steps_per_epoch, start, every
        self.last = time.monotonic()

    def step(self, done: int, loss: float, elapsed: float) -> None:
        now = time.monotonic()
        if done < self.total and now - self.last < self.every:
            return
        self.last = now
        left = elapsed / max(done - self.start, 1) * (self.total - done)
        log.info("%s: step %d/%d (epoch %.1f), loss %.4f, %s left", self.stage, done, self.total,
                 done / self.steps_per_epoch, loss, time.strftime("%H:%M:%S", time.gmtime(left)))


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
    lines = ProgressLog(stage_name, total, steps_per_epoch, start) if bar.disable and accelerator.is_main_process \
        else None
    t0, cpu0, tokens_seen, loss = time.perf_counter(), time.process_time(), 0, float("nan")
    order, order_epoch = None, -1
    for step in range(start, total):
        epoch, index = divmod(step, steps_per_epoch)
        if epoch != order_epoch:
            order, order_epoch = epoch_order(n, seed, epoch), epoch
            dataset.set_epoch(epoch)
        batch_ids = order[index * bs:(index + 1) * bs]
        answer_tokens = sum(n_targets(dataset.example(int(j))) for j in batch_ids)
        # Micro-batches of similar lengths: the loss is a sum over the step's examples, so
        # grouping them by length changes nothing but the padding (on CPU, most of the cost).
        mine = sorted(batch_ids[rank::world].tolist(), key=lambda j: len(dataset.example(int(j))))
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
        if lines is not None:
            lines.step(done, loss, elapsed)
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
    # CPU seconds of this process as well as wall seconds: on a shared machine they say what
    # the stage would take alone (with one thread).
    return {"steps": total, "resumed_at": start, "final_loss": round(loss, 5), "seconds": round(seconds, 2),
            "cpu_seconds": round(time.process_time() - cpu0, 2), "tokens_per_s": round(tokens_seen / max(seconds, 1e-9), 1)}
