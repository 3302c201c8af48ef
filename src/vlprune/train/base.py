"""The base pretraining of a preset: a cached stand-in for the pretrained checkpoints a
real user starts from.

A real run starts from a Mistral LLM that already knows language and a CLIP tower that
already sees; a preset starts from random weights. Before the recipe's two stages, the
preset's LLM and vision tower are therefore trained on the pool's own text as language-model
text (``data.base_text``): its *lectures* (general science texts), its *captions* with its
*image-caption pairs* (the vision tower, a throwaway projector and the LLM together learn to
caption), and optionally its *problems* (question, context and options as plain text).
Never on answers or solutions (which state the answer): which option is right reaches the
model only through the selected subset. The projector is then re-initialised: stage 1
trains the real one, as it would for a pretrained pair of checkpoints.

The result is cached (keyed by the preset, its tokenizer, these settings and the
fingerprint of the records it read) and shared by every run on that pool. With
``data.base_records: subset`` it reads the subset's records only (then it is trained for
each subset).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from vlprune.io import cache_dir
from vlprune.train.config import BASE_SOURCES
from vlprune.train.data import (
    Encoder,
    Example,
    ExampleDataset,
    caption_examples,
    make_encoder,
    problem_prompt,
)
from vlprune.train.loop import StepCallback, run_stage
from vlprune.train.model import (
    SHARED_SEED,
    ModelBundle,
    configure_stage,
    projector_kind,
    seed_everything,
    set_projector,
)

if TYPE_CHECKING:
    from vlprune.data.pool import Pool
    from vlprune.train.checkpoint import TrainLog
    from vlprune.train.config import TrainConfig

log = logging.getLogger("vlprune")

#: Bump when the base pretraining's data or objective changes (old caches are then unused).
BASE_VERSION = 3
DEFAULT_BASE_SOURCES = ("lectures", "captions")


def problem_text(record: dict) -> str:
    """A problem as plain text without its answer: the question, the context (hint, and the
    caption in place of the picture) and the options in their original order.

    Example:
        >>> print(problem_text({"question": "Which is a mammal?", "hint": "", "image": "",
        ...                     "choices": ["wolf", "trout"], "answer": 0}))
        Which is a mammal?
        Context: N/A
        Options: (A) wolf (B) trout
    """
    return problem_prompt(record, use_image=False)


def base_texts(pool: Pool, sources: Sequence[str] = DEFAULT_BASE_SOURCES) -> list[str]:
    """The distinct texts of the pool that the base pretraining reads, sorted: lectures,
    captions and/or problems (:func:`problem_text`), as ``sources`` names them.

    Example:
        >>> base_texts(pool)[:1]   # doctest: +SKIP
        ['A mammal has fur or hair ...']
    """
    unknown = sorted(set(sources) - set(BASE_SOURCES))
    if unknown:
        raise ValueError(f"unknown base text source(s) {unknown}; choose from {', '.join(BASE_SOURCES)}")
    texts: set = set()
    if "lectures" in sources:
        texts |= set(pool.table["lecture"])
    if "captions" in sources:
        texts |= set(pool.table["caption"])
    if "problems" in sources:
        texts |= {problem_text(r) for r in pool.table.to_dict("records") if r["choices"]}
    return sorted(t.strip() for t in texts if isinstance(t, str) and t.strip())


def text_examples(texts: list[str], encoder: Encoder) -> list[Example]:
    """Plain language-model sequences (loss on every token), long texts cut into windows of
    ``encoder.max_length`` tokens (plain text has no image tokens to cut)."""
    tok = encoder.tokenizer
    examples = []
    for i, text in enumerate(texts):
        ids = [tok.bos_token_id, *encoder.tokens(text), tok.eos_token_id]
        for start in range(0, len(ids) - 1, encoder.max_length - 1):
            window = ids[start:start + encoder.max_length]
            if len(window) > 1:
                examples.append(Example(f"text-{i}-{start}", window, list(window)))
    return examples


def pretrain_base(bundle: ModelBundle, cfg: TrainConfig, pool: Pool, *, accelerator, train_log: TrainLog,
                  on_step: StepCallback | None = None, progress: bool = False) -> str:
    """Load the preset's base weights from the cache, or train and cache them; then give the
    model a fresh projector. Updates ``bundle.identity`` so later cache keys depend on it.
    Returns the cache folder."""
    from safetensors.torch import load_model, save_model

    from vlprune.io import atomic_path

    kind = projector_kind(bundle.model)
    sources = tuple(cfg.data.base_text)
    parts = [BASE_VERSION, bundle.identity, cfg.base.__dict__, cfg.data.max_length, pool.fingerprint]
    if sorted(sources) != sorted(DEFAULT_BASE_SOURCES):  # the default keeps the keys of earlier caches
        parts.append(sorted(sources))
    key_src = json.dumps(parts, sort_keys=True, default=str)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:20]
    folder = cache_dir("train", "base") / key
    weights = folder / "model.safetensors"
    if weights.exists():
        load_model(bundle.model, str(weights))
        train_log.write({"event": "cached", "stage": "base", "source": str(folder)})
    else:
        encoder = make_encoder(bundle, cfg)
        examples = text_examples(base_texts(pool, sources), encoder)
        if "captions" in sources:
            # Image-caption pairs train the vision tower (and teach the LLM to read its tokens).
            examples += caption_examples(pool, encoder)
        if cfg.base.max_examples is not None and len(examples) > cfg.base.max_examples:
            keep = np.random.default_rng(SHARED_SEED).choice(len(examples), cfg.base.max_examples, replace=False)
            examples = [examples[i] for i in np.sort(keep)]
        log.info("base pretraining of preset %s on %d sequences of %s (once; cached in %s)",
                 cfg.model.preset, len(examples), "/".join(sources), folder)
        configure_stage(bundle.model, "base")
        dataset = ExampleDataset(examples, pool, bundle.image_processor)
        folder.mkdir(parents=True, exist_ok=True)
        summary = run_stage("base", bundle, dataset, cfg.base, cfg=cfg, accelerator=accelerator,
                            checkpoint=folder / "base.pt", key=key, seed=SHARED_SEED, train_log=train_log,
                            on_step=on_step, progress=progress)
        if accelerator.is_main_process:
            with atomic_path(weights) as tmp:
                save_model(bundle.model, str(tmp))
            (folder / "base.pt").unlink(missing_ok=True)
        accelerator.wait_for_everyone()
        train_log.write({"event": "done", "stage": "base", "cached": str(folder), "sequences": len(examples),
                         **summary})
    seed_everything(SHARED_SEED)
    set_projector(bundle.model, kind)
    bundle.identity += f"|base={key}"
    return str(folder)
