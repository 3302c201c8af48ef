"""Scorers: how a comparison turns a training subset into test accuracy.

* ``llava``: the built-in LLaVA trainer (stage 1 shared, stage 2 on the subset, evaluation
  on the test split): the real measurement, minutes to hours per cell.
* ``probe``: a fast PROXY for sweeps. Frozen text embeddings of each problem's context
  (question, hint and image caption -- captions stand in for pixels, as in ScienceQA's
  text-only baselines) and of each choice; a bilinear classifier ``score(q, c) = c.W q + b.c``
  trained on the subset with softmax cross-entropy over the choices (the model core,
  :class:`vlprune.select.proxy.BilinearProbe`, is shared with the proxy difficulty scores
  ``el2n`` / ``loss`` / ``margin``). Seconds per cell on a
  CPU. It measures how well a subset teaches the *task*, not how a vision-language model
  trains; every output labels it a proxy.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vlprune.data.pool import Pool
from vlprune.errors import ConfigError
from vlprune.numeric import l2_normalise
from vlprune.registry import Registry
from vlprune.select.proxy import BilinearProbe, choice_arrays, text_pool, torch_threads

scorers: Registry[type[Scorer]] = Registry("scorer", builtin_modules=[], entry_point_group="vlprune.scorers")


@dataclass
class ScoreResult:
    """What one cell produces: a predicted choice per test question, in test-pool order."""

    predictions: np.ndarray
    correct: np.ndarray
    n_train: int
    epochs: float
    wall_s: float
    extra: dict[str, Any] = field(default_factory=dict)


class Scorer(ABC):
    """Trains on ``train_pool.subset(positions)`` and predicts the test split's answers."""

    name: ClassVar[str] = "scorer"
    is_proxy: ClassVar[bool] = False

    def prepare(self, train_pool: Pool, test_pool: Pool) -> None:  # noqa: B027 - optional hook
        """One-time work shared by every cell (embeddings, stage 1 of the trainer)."""

    @abstractmethod
    def score(self, train_pool: Pool, positions: np.ndarray, test_pool: Pool, *, seed: int,
              workdir: Path) -> ScoreResult:
        """Train on the selected positions and evaluate on ``test_pool``."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "proxy": self.is_proxy, "params": dict(vars(self))}


@scorers.register("probe")
class ProbeScorer(Scorer):
    """The fast proxy scorer (see the module docstring).

    Args:
        embedder: the text embedder for contexts and choices (``minilm`` by default).
        context_fields: record fields joined into the context text.
        epochs: full-batch Adam steps; ``lr`` and ``weight_decay`` its settings.

    Example:
        >>> from vlprune import load_pool
        >>> train, test = load_pool("synthetic", size="tiny"), load_pool("synthetic", size="tiny", split="test")
        >>> scorer = ProbeScorer(embedder="tfidf", epochs=50)
        >>> scorer.prepare(train, test)
        >>> result = scorer.score(train, np.arange(100), test, seed=0, workdir=Path("."))
        >>> result.correct.shape
        (50,)
    """

    is_proxy = True

    def __init__(self, embedder: str = "minilm", context_fields: Sequence[str] = ("question", "hint", "caption"),
                 epochs: int = 300, lr: float = 0.01, weight_decay: float = 1e-4) -> None:
        self.embedder = embedder
        self.context_fields = tuple(context_fields)
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self._cache: dict[str, Any] = {}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "proxy": True,
                "params": {"embedder": self.embedder, "context_fields": list(self.context_fields),
                           "epochs": self.epochs, "lr": self.lr, "weight_decay": self.weight_decay}}

    def prepare(self, train_pool: Pool, test_pool: Pool) -> None:
        from vlprune.embed.cache import cached_embed

        key = f"{train_pool.fingerprint}|{test_pool.fingerprint}"
        if self._cache.get("key") == key:
            return
        contexts = [*train_pool.texts(self.context_fields), *test_pool.texts(self.context_fields)]
        choice_texts = sorted({c for pool in (train_pool, test_pool) for cs in pool.table["choices"] for c in cs})
        vectors = cached_embed(self.embedder, text_pool(contexts + choice_texts))
        vectors = l2_normalise(vectors)
        n_train = len(train_pool)
        choice_index = {c: i for i, c in enumerate(choice_texts)}
        self._cache = {
            "key": key,
            "train_q": vectors[:n_train],
            "test_q": vectors[n_train:len(contexts)],
            "choices": vectors[len(contexts):],
            "choice_index": choice_index,
        }

    def _arrays(self, pool: Pool, q: np.ndarray, positions: np.ndarray):
        ids, mask, answer = choice_arrays(pool, positions, self._cache["choice_index"])
        return q[positions], ids, mask, answer

    def score(self, train_pool, positions, test_pool, *, seed, workdir):
        with torch_threads(1):
            return self._score(train_pool, positions, test_pool)

    def _score(self, train_pool, positions, test_pool):
        started = time.perf_counter()
        self.prepare(train_pool, test_pool)
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) == 0:
            raise ConfigError("the probe scorer needs at least one training example")
        probe = BilinearProbe(epochs=self.epochs, lr=self.lr, weight_decay=self.weight_decay)
        probe.fit(*self._arrays(train_pool, self._cache["train_q"], positions), self._cache["choices"])
        tq, tids, tmask, tanswer = self._arrays(test_pool, self._cache["test_q"], np.arange(len(test_pool)))
        pred = probe.predict(tq, tids, tmask)
        correct = pred == tanswer
        return ScoreResult(pred, correct, len(positions), float(self.epochs), time.perf_counter() - started,
                           {"final_train_loss": probe.final_loss_})


@scorers.register("llava")
class LlavaScorer(Scorer):
    """The real measurement: the built-in LLaVA trainer (see ``docs/training.md``).

    Each cell trains a model with :func:`vlprune.train.train` on the selected records (stage
    1 is cached and shared by every cell from the same base) and evaluates it on the test
    split; the cell's run folder keeps the checkpoints, so an interrupted cell resumes.

    Args:
        preset: the model preset (``tiny`` for CPU, ``mid`` for a GPU smoke run), or None
            to use the model named in ``config``.
        config: a training YAML file (the same as ``vlprune train --config``).
        overrides: dotted config keys, e.g. ``{"stage2.epochs": 5, "lora.r": 16}``.

    Example:
        >>> scorer = LlavaScorer(preset="tiny", overrides={"stage2.epochs": 3})
        >>> scorer.describe()["params"]["preset"]
        'tiny'
    """

    def __init__(self, preset: str | None = "tiny", config: str | None = None,
                 overrides: dict[str, Any] | None = None) -> None:
        self.preset = preset
        self.config = config
        self.overrides = overrides

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "proxy": False,
                "params": {"preset": self.preset, "config": self.config, "overrides": self.overrides or {}}}

    def _config(self, seed: int, split: str):
        from vlprune.train import load_config

        overrides: dict[str, Any] = {"seed": seed, "eval.split": split}
        if self.preset:
            overrides["model.preset"] = self.preset
        overrides.update(self.overrides or {})
        return load_config(self.config, overrides=overrides)

    def score(self, train_pool, positions, test_pool, *, seed, workdir):
        import json

        from vlprune.data.subset import SubsetManifest
        from vlprune.train import train

        started = time.perf_counter()
        positions = np.asarray(positions, dtype=np.int64)
        if test_pool.reference.loader != train_pool.reference.loader:
            raise ConfigError("the llava scorer evaluates on a split of the training dataset")
        cfg = self._config(seed, test_pool.reference.split or "test")
        manifest = SubsetManifest(
            dataset=train_pool.reference, dataset_fingerprint=train_pool.fingerprint,
            dataset_size=len(train_pool), selector="compare-cell", selector_params={}, seed=seed,
            ids=[str(i) for i in train_pool.ids[positions]])
        result = train(manifest, cfg, workdir, progress=False)
        answers = json.loads((result.run_dir / "predictions.json").read_text())["results"]
        missing = [pid for pid in test_pool.ids[:5] if str(pid) not in answers]
        if missing:
            raise ConfigError(f"{result.run_dir}/predictions.json lacks test ids such as {missing}")
        pred = np.array([int(answers[str(pid)]) for pid in test_pool.ids])
        correct = pred == test_pool.table["answer"].to_numpy()
        return ScoreResult(pred, correct, len(positions), float(cfg.stage2.epochs), time.perf_counter() - started,
                           {"run_dir": str(result.run_dir)})
