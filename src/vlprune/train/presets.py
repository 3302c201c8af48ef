"""Model presets built fully offline from random weights: ``tiny`` (tests, CPU runs) and
``mid`` (GPU smoke runs).

A preset is a Mistral text config (grouped-query attention, sliding-window attention), a
CLIP vision config, the size of the BPE vocabulary trained on the pool's text, and the
training defaults that suit a model trained from scratch: the reference recipe's values
(learning rate 2e-5 for stage 2) are for pretrained 7B checkpoints and do not move a random
tiny model, so ``tiny`` uses 6e-4 for 20 epochs (tuned on the real dev split) and a cached base
pretraining (see
:mod:`vlprune.train.base`). Flags and YAML keys still override every value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    """One preset: architecture keyword arguments and default config values.

    Example:
        >>> p = PRESETS["tiny"]
        >>> p.vision["image_size"] // p.vision["patch_size"]
        4
    """

    name: str
    description: str
    #: ``transformers.MistralConfig`` keyword arguments (``vocab_size`` comes from the tokenizer).
    text: dict[str, Any]
    #: ``transformers.CLIPVisionConfig`` keyword arguments.
    vision: dict[str, Any]
    #: Nested config values applied over the dataclass defaults (see :func:`load_config`).
    defaults: dict[str, Any] = field(default_factory=dict)


TINY = Preset(
    name="tiny",
    description="a few layers, ~1M parameters: tests and CPU runs (trains in minutes on 2 cores)",
    text=dict(hidden_size=128, intermediate_size=384, num_hidden_layers=3, num_attention_heads=4,
              num_key_value_heads=2, head_dim=32, max_position_embeddings=1024, sliding_window=512,
              rope_theta=10000.0, tie_word_embeddings=True),
    vision=dict(hidden_size=96, intermediate_size=192, num_hidden_layers=2, num_attention_heads=4,
                image_size=32, patch_size=8, projection_dim=96),
    defaults={
        "model": {"vocab_size": 2048, "vision_feature_layer": -1},
        # The base pretraining stands in for pretrained checkpoints (lectures + captions).
        # 8 epochs: on 1,000 synthetic problems 3 epochs left stage 2 at chance in one run of two
        # (docs/training.md); 8 epochs take ~11 minutes once, then the cache serves every run.
        "base": {"epochs": 8.0, "lr": 2e-3, "batch_size": 32, "micro_batch_size": 32,
                 "warmup_ratio": 0.05},
        "stage1": {"epochs": 1.0, "lr": 1e-3, "batch_size": 32, "micro_batch_size": 32},
        # Tuned on real ScienceQA text (1,000 random problems of the tune split, scored on the
        # dev split; docs/training.md, benchmarks/bench_train_real.py): answering with the
        # option's text, 20 epochs at 6e-4 gave +12.0 points over chance on dev (letters: +5.1
        # at 30 epochs); 30 epochs at 3e-4 gave +12.9 but took 1.7x the time. Until 2026-11-30
        # the preset was tuned on synthetic problems (90 epochs at 2e-4, letters):
        # configs/train/tiny-synthetic.yaml restores it for the synthetic tables.
        "stage2": {"epochs": 20.0, "lr": 6e-4, "batch_size": 16, "micro_batch_size": 8,
                   "warmup_ratio": 0.05},
        "lora": {"alpha": 16},
        # Shuffled options: without them a random model memorises each question's letter
        # (train 91%, test at chance); with them it must find the right option's letter.
        "data": {"max_length": 512, "shuffle_choices": True, "answer": "text"},
        "eval": {"batch_size": 64},
    },
)

MID = Preset(
    name="mid",
    description="~0.3B parameters, random weights: GPU smoke runs and throughput checks",
    text=dict(hidden_size=1024, intermediate_size=3584, num_hidden_layers=12, num_attention_heads=16,
              num_key_value_heads=4, head_dim=64, max_position_embeddings=4096, sliding_window=2048,
              rope_theta=10000.0, tie_word_embeddings=False),
    vision=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                image_size=224, patch_size=16, projection_dim=512),
    defaults={
        "model": {"vocab_size": 8192},
        "stage1": {"epochs": 1.0, "lr": 1e-3, "batch_size": 64, "micro_batch_size": 16},
        "stage2": {"epochs": 3.0, "lr": 2e-4, "batch_size": 32, "micro_batch_size": 8},
        "data": {"max_length": 1024},
    },
)

PRESETS: dict[str, Preset] = {p.name: p for p in (TINY, MID)}
