"""The built-in LLaVA-Mistral trainer: what scores a subset.

``train(subset, config, out)`` trains a LLaVA-style model (CLIP vision tower, projector,
Mistral LLM; transformers' ``LlavaForConditionalGeneration``) on the subset with the
two-stage recipe and scores it on ScienceQA test; ``evaluate(run_dir)`` scores a finished
run again. Modules, in the order data flows through them:

- :mod:`~vlprune.train.config`: dataclass settings, overridden by a preset, YAML and flags;
- :mod:`~vlprune.train.presets`: the offline random-weight presets ``tiny`` and ``mid``;
- :mod:`~vlprune.train.tokenizer`: the presets' BPE tokenizer, trained on the pool (cached);
- :mod:`~vlprune.train.model`: building the model, projectors, what each stage trains, LoRA;
- :mod:`~vlprune.train.data`: prompts, label masks, image tokens, batches;
- :mod:`~vlprune.train.loop`: the one optimisation loop every stage runs (loss, epoch order,
  micro-batches, checkpoints);
- :mod:`~vlprune.train.base`: the presets' cached base pretraining (stands in for checkpoints);
- :mod:`~vlprune.train.predict`: likelihood / generation predictions and the metrics;
- :mod:`~vlprune.train.recipe`: the two-stage recipe top to bottom (:func:`train`) and
  :func:`evaluate` of a finished run;
- :mod:`~vlprune.train.checkpoint`, :mod:`~vlprune.train.rundir`: resuming and the run folder.

Example:
    >>> from vlprune.train import load_config, train
    >>> cfg = load_config(overrides={"model.preset": "tiny"})
    >>> train("subset.json", cfg, "runs/tiny").metrics["accuracy"]   # doctest: +SKIP
    0.61
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vlprune._lazy import lazy_getattr

_EXPORTS = {
    "TrainConfig": "vlprune.train.config",
    "load_config": "vlprune.train.config",
    "train": "vlprune.train.recipe",
    "TrainResult": "vlprune.train.recipe",
    "evaluate": "vlprune.train.recipe",
    "EvalResult": "vlprune.train.predict",
    "build_model": "vlprune.train.model",
    "PRESETS": "vlprune.train.presets",
}

__all__ = ["PRESETS", "EvalResult", "TrainConfig", "TrainResult", "build_model", "evaluate", "load_config", "train"]


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


if TYPE_CHECKING:
    from vlprune.train.config import TrainConfig, load_config
    from vlprune.train.model import build_model
    from vlprune.train.predict import EvalResult
    from vlprune.train.presets import PRESETS
    from vlprune.train.recipe import TrainResult, evaluate, train
