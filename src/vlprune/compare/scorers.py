"""Scorers: how a comparison turns a training subset into test accuracy.

* ``llava``: the built-in LLaVA trainer (stage 1 shared, stage 2 on the subset, evaluation
  on the test split): the real measurement, minutes to hours per cell.
* ``probe``: a fast PROXY for sweeps. Frozen text embeddings of each problem's context
  (question, hint and image caption -- captions stand in for pixels, as in ScienceQA's
  text-only baselines) and of each choice; a bilinear classifier ``score(q, c) = c.W q + b.c``
  trained on the subset with softmax cross-entropy over the choices, by minibatch Adam whose
  minibatch order is drawn from the cell's seed (the seed-to-seed training noise a real
  trainer has); the model core, :class:`vlprune.select.proxy.BilinearProbe`, is shared with
  the model-based difficulty scores ``el2n`` / ``loss`` / ``margin``. Seconds per cell on a CPU. It measures how well a subset teaches the
  *task*, not how a vision-language model trains; every output labels it a proxy.

Scorers are :class:`~vlprune.params.Configurable`: typed constructor parameters, checked by
``validate()`` (``scorers.create(name, **params)`` builds and validates one).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np

from vlprune.data.pool import Pool
from vlprune.errors import ConfigError
from vlprune.numeric import l2_normalise
from vlprune.params import Configurable, Range, make_rng
from vlprune.registry import Registry
from vlprune.select.proxy import (
    BilinearProbe,
    check_context_fields,
    choice_arrays,
    text_pool,
    torch_threads,
)

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


class Scorer(Configurable, ABC):
    """Trains on ``train_pool.subset(positions)`` and predicts the test split's answers.

    A subclass's constructor stores its typed hyperparameters (see :mod:`vlprune.params`);
    :meth:`score` must make the training depend on ``seed`` wherever the real training
    would (initialisation, data order), or the seeds of a grid measure nothing.
    """

    name: ClassVar[str] = "scorer"
    kind: ClassVar[str] = "scorer"
    is_proxy: ClassVar[bool] = False

    def prepare(self, train_pool: Pool, test_pool: Pool) -> None:
        """One-time work shared by every cell (embeddings, stage 1 of the trainer)."""

    @abstractmethod
    def score(self, train_pool: Pool, positions: np.ndarray, test_pool: Pool, *, seed: int,
              workdir: Path) -> ScoreResult:
        """Train on the selected positions and evaluate on ``test_pool``."""

    def report_notes(self) -> list[str]:
        """Lines the comparison's summary prints about what this scorer's numbers mean."""
        return []

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "proxy": self.is_proxy, "params": self.json_params()}


@scorers.register("probe")
class ProbeScorer(Scorer):
    """The fast proxy scorer (see the module docstring).

    Args:
        embedder: the text embedder spec for contexts and choices (``minilm`` by default).
        context_fields: record fields joined into the context text.
        epochs: passes over the subset. Each pass shuffles the subset with a generator made
            from the cell's seed and takes one Adam step per minibatch, ``batches`` of them
            (nearly equal sizes; a subset smaller than ``batches`` takes one step per
            record). The defaults, 75 passes of 4 minibatches, take 300 Adam steps, as many
            as the earlier full-batch default (300 passes of 1), with the same accuracy on a
            dev split and a third of the time (``benchmarks/bench_probe_seed.py``).
            ``batches=1`` is full-batch training, which ignores the seed (the fit is convex
            and starts from zero), so every seed gives the same model.
        lr, weight_decay: Adam's settings.

    Example:
        >>> from vlprune import load_pool
        >>> train, test = load_pool("synthetic", size="tiny"), load_pool("synthetic", size="tiny", split="test")
        >>> scorer = ProbeScorer(embedder="tfidf", epochs=10)
        >>> scorer.prepare(train, test)
        >>> result = scorer.score(train, np.arange(100), test, seed=0, workdir=Path("."))
        >>> result.correct.shape
        (50,)
    """

    is_proxy = True

    def __init__(self, embedder: str = "minilm",
                 context_fields: tuple[str, ...] = ("question", "hint", "caption"),
                 epochs: Annotated[int, Range(1)] = 75, batches: Annotated[int, Range(1)] = 4,
                 lr: Annotated[float, Range(0, lo_open=True)] = 0.01,
                 weight_decay: Annotated[float, Range(0)] = 1e-4) -> None:
        self.embedder = embedder
        self.context_fields = context_fields
        self.epochs = epochs
        self.batches = batches
        self.lr = lr
        self.weight_decay = weight_decay

    def _validate(self) -> None:
        from vlprune.embed.spec import get_embedder

        get_embedder(self.embedder)  # an unknown embedder fails here, before any cell
        check_context_fields(self.context_fields, what=self.label())

    def report_notes(self) -> list[str]:
        if "caption" in self.context_fields:
            return ["IMG is caption-based: the probe reads each image problem's caption, never its pixels "
                    "(captions can name the answer; `--scorer-param context_fields=question,hint` leaves them "
                    "out)."]
        return ["The probe reads no captions here: image problems are scored on their text alone."]

    def prepare(self, train_pool: Pool, test_pool: Pool) -> None:
        from vlprune.embed.cache import cached_embed

        key = f"{train_pool.fingerprint}|{test_pool.fingerprint}|{self.embedder}|{list(self.context_fields)}"
        prepared = getattr(self, "_prepared", None)
        if prepared is not None and prepared["key"] == key:
            return
        fields = list(self.context_fields)
        contexts = [*train_pool.texts(fields), *test_pool.texts(fields)]
        choice_texts = sorted({c for pool in (train_pool, test_pool) for cs in pool.table["choices"] for c in cs})
        vectors = cached_embed(self.embedder, text_pool(contexts + choice_texts))
        vectors = l2_normalise(vectors)
        n_train = len(train_pool)
        choice_index = {c: i for i, c in enumerate(choice_texts)}
        # Derived state, not a hyperparameter (clone() does not carry it).
        self._prepared = {
            "key": key,
            "train_q": vectors[:n_train],
            "test_q": vectors[n_train:len(contexts)],
            "choices": vectors[len(contexts):],
            "choice_index": choice_index,
        }
        # One-off start-up costs (importing torch, its first backward pass: seconds on a busy
        # machine) belong to this shared preparation, not to the first cell's cost.
        self._score(train_pool, np.arange(min(2, n_train)), test_pool, 0, epochs=1)

    def _arrays(self, pool: Pool, q: np.ndarray, positions: np.ndarray):
        ids, mask, answer = choice_arrays(pool, positions, self._prepared["choice_index"])
        return q[positions], ids, mask, answer

    def score(self, train_pool, positions, test_pool, *, seed, workdir):
        self.validate()
        with torch_threads(1):
            return self._score(train_pool, positions, test_pool, seed)

    def _score(self, train_pool, positions, test_pool, seed, *, epochs: int | None = None):
        started = time.perf_counter()
        epochs = self.epochs if epochs is None else epochs
        self.prepare(train_pool, test_pool)
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) == 0:
            raise ConfigError("the probe scorer needs at least one training example")
        # Zero initialisation: the seed enters through the minibatch order only (a generator
        # of its own, never torch's global one), so a cell is reproducible from its seed.
        probe = BilinearProbe(epochs=epochs, lr=self.lr, weight_decay=self.weight_decay, batches=self.batches)
        probe.fit(*self._arrays(train_pool, self._prepared["train_q"], positions), self._prepared["choices"],
                  rng=make_rng(seed))
        tq, tids, tmask, tanswer = self._arrays(test_pool, self._prepared["test_q"], np.arange(len(test_pool)))
        pred = probe.predict(tq, tids, tmask)
        correct = pred == tanswer
        return ScoreResult(pred, correct, len(positions), float(epochs), time.perf_counter() - started,
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

    def _validate(self) -> None:
        if self.config is not None and not Path(self.config).is_file():
            raise ConfigError(f"{self.label()}: config {self.config!r} is not a file")

    def _config(self, seed: int, split: str):
        from vlprune.train import load_config

        overrides: dict[str, Any] = {"seed": seed, "eval.split": split}
        if self.preset:
            overrides["model.preset"] = self.preset
        overrides.update(self.overrides or {})
        return load_config(self.config, overrides=overrides)

    def score(self, train_pool, positions, test_pool, *, seed, workdir):
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
        # In memory: the grid's pools are handed over, and the predictions come back as an
        # array (a resumed, finished run reads them from its folder).
        result = train(manifest, cfg, workdir, progress=False, pool=train_pool, eval_pool=test_pool)
        by_id = dict(zip(result.evaluation.ids, result.evaluation.predictions.tolist(), strict=True))
        missing = [pid for pid in test_pool.ids[:5] if str(pid) not in by_id]
        if missing:
            raise ConfigError(f"{result.run_dir}: the evaluation lacks test ids such as {missing}")
        pred = np.array([by_id[str(pid)] for pid in test_pool.ids])
        correct = pred == test_pool.table["answer"].to_numpy()
        return ScoreResult(pred, correct, len(positions), float(cfg.stage2.epochs), time.perf_counter() - started,
                           {"run_dir": str(result.run_dir)})
