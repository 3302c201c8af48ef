"""The comparison grid: selectors x budgets x seeds -> selected, trained, scored, recorded.

Each cell's result is written to ``<out>/cells/<selector>__k<k>__seed<s>.json`` as soon as
it finishes (atomically), so a crashed or interrupted grid restarts where it stopped: a cell
whose file exists is not run again. A full-data reference row (``selector = full``) trains
on the whole training split once per seed.

The whole grid is checked before its first cell (selectors and their parameters, budgets
against the training split, seeds, the scorer and its parameters), and a refused grid
leaves nothing in ``<out>``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vlprune.compare.scorers import Scorer, ScoreResult, scorers
from vlprune.compare.stats import TESTS
from vlprune.data.loaders import check_evaluation_split, load_pool
from vlprune.data.metrics import category_accuracy
from vlprune.data.pool import DatasetRef, Pool
from vlprune.errors import ConfigError, DataError
from vlprune.io import write_json
from vlprune.params import check_seed
from vlprune.select.base import check_k, get_selector

log = logging.getLogger("vlprune")
FULL = "full"


@dataclass
class SelectorSpec:
    """A selector in the grid: its registry name, parameters, and the label used in tables."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.name if not self.params else self.name + "(" + ",".join(
                f"{k}={v}" for k, v in sorted(self.params.items())) + ")"


@dataclass
class GridConfig:
    """Everything a comparison needs; a YAML file (``--config grid.yaml``) or flags fill it.

    Example:
        >>> cfg = GridConfig.from_dict({"selectors": ["random", {"name": "hand-rules", "params": {"by": "topic"}}],
        ...                             "k": [250, 500], "seeds": 2, "scorer": "probe"})
        >>> [s.label for s in cfg.selectors], cfg.k, cfg.seeds
        (['random', 'hand-rules(by=topic)'], [250, 500], [0, 1])
    """

    selectors: list[SelectorSpec] = field(default_factory=lambda: [SelectorSpec("random")])
    k: list[int] = field(default_factory=list)  # required: no budget is a safe default
    #: Five seeds: what a claim against random needs at the least (docs/compare.md).
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    scorer: str = "probe"
    scorer_params: dict[str, Any] = field(default_factory=dict)
    dataset: DatasetRef = field(default_factory=lambda: DatasetRef("synthetic", None, "train", {}))
    test_split: str = "test"
    full_data: bool = True
    bootstrap: int = 2000
    test: str = "welch"

    @classmethod
    def load(cls, path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> GridConfig:
        """The settings of a YAML grid file (``path``), then ``overrides`` on top (what
        command-line flags gave; ``scorer_params`` are merged key by key); validated.

        Example:
            >>> GridConfig.load(None, {"k": [100], "seeds": 2}).seeds
            [0, 1]
        """
        settings: dict[str, Any] = {}
        if path is not None:
            import yaml

            try:
                settings = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise DataError(f"cannot read grid config: {str(exc).splitlines()[0]}", file=str(path)) from None
            if not isinstance(settings, dict):
                raise DataError("expected a mapping of grid settings", file=str(path))
        for key, value in (overrides or {}).items():
            if key == "scorer_params":
                settings["scorer_params"] = {**(settings.get("scorer_params") or {}), **value}
            else:
                settings[key] = value
        return cls.from_dict(settings)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GridConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown grid setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        d = dict(d)
        specs = []
        for s in d.get("selectors", ["random"]):
            if isinstance(s, str):
                specs.append(SelectorSpec(s))
            elif isinstance(s, dict) and "name" in s:
                specs.append(SelectorSpec(s["name"], dict(s.get("params") or {}), s.get("label", "")))
            else:
                raise ConfigError(f"a selector is a name or {{name, params, label}}, got {s!r}")
        d["selectors"] = specs
        seeds = d.get("seeds", 5)
        if isinstance(seeds, int) and not isinstance(seeds, bool):
            if seeds < 1:
                raise ConfigError(f"seeds: give a number of seeds (1 or more) or a list, got {seeds}")
            seeds = list(range(seeds))
        if not isinstance(seeds, list | tuple):
            raise ConfigError(f"seeds: give a number of seeds or a list of seeds, got {seeds!r}")
        d["seeds"] = list(seeds)
        k = d.get("k")
        if k is None:
            raise ConfigError("the grid needs budgets: --k 250,500,1000 on the command line, "
                              "k: [250, 500, 1000] in a grid file")
        d["k"] = list(k) if isinstance(k, list | tuple) else [k]
        if isinstance(d.get("dataset"), dict):
            ds = d["dataset"]
            d["dataset"] = DatasetRef(ds.get("loader", "synthetic"), ds.get("source"), ds.get("split", "train"),
                                      dict(ds.get("options") or {}))
        cfg = cls(**d)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Check everything that can be checked without the data: each selector and its
        parameters (built through the selector registry), budgets, seeds, the scorer and its
        parameters, the test. Budgets against the training split are checked by
        :func:`grid_cells` once the data is loaded (still before the first cell)."""
        if not self.selectors:
            raise ConfigError("the grid needs at least one selector")
        if not self.k:
            raise ConfigError("the grid needs budgets: --k 250,500,1000 on the command line, "
                              "k: [250, 500, 1000] in a grid file")
        try:
            self.k = [check_k(k) for k in self.k]
        except ConfigError as exc:
            raise ConfigError(f"budgets {self.k}: {exc}") from None
        if len(set(self.k)) != len(self.k):
            raise ConfigError(f"budgets must be distinct, got {self.k}")
        if not self.seeds:
            raise ConfigError("the grid needs at least one seed")
        self.seeds = [check_seed(s, what="a seed") for s in self.seeds]
        if len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"seeds must be distinct, got {self.seeds}")
        labels = [s.label for s in self.selectors]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"selector labels must be unique, got {labels}")
        if FULL in labels:
            raise ConfigError(f"{FULL!r} is reserved for the full-data reference row")
        for spec in self.selectors:
            get_selector(spec.name, **spec.params)  # unknown name or bad parameter: refused here
        make_scorer(self.scorer, self.scorer_params)
        check_evaluation_split(self.dataset.split, self.test_split)
        if self.test not in TESTS:
            raise ConfigError(f"test must be one of {', '.join(TESTS)}, not {self.test!r}")
        if isinstance(self.bootstrap, bool) or not isinstance(self.bootstrap, int) or self.bootstrap < 0:
            raise ConfigError(f"bootstrap must be a number of resamples (0 to skip), not {self.bootstrap!r}")
        if not isinstance(self.full_data, bool):
            raise ConfigError(f"full_data must be true or false, not {self.full_data!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["dataset"] = self.dataset.to_dict()
        return d


@dataclass(frozen=True)
class Cell:
    selector: SelectorSpec | None  # None: the full-data reference
    k: int
    seed: int

    @property
    def label(self) -> str:
        return FULL if self.selector is None else self.selector.label

    @property
    def filename(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", self.label)
        return f"{safe}__k{self.k}__seed{self.seed}.json"


def make_scorer(name: str, params: dict[str, Any]) -> Scorer:
    """The scorer registered as ``name``, built from ``params`` and validated."""
    try:
        return scorers.create(name, **params)
    except TypeError as exc:  # a plug-in scorer that is not Configurable
        raise ConfigError(f"scorer {name!r}: {exc}") from None


def grid_cells(config: GridConfig, n_train: int) -> list[Cell]:
    """All cells, budgets ascending, the full-data reference last (it is the most expensive)."""
    too_big = [k for k in config.k if k > n_train]
    if too_big:
        raise ConfigError(f"budgets {too_big} exceed the training split ({n_train} records)")
    cells = [Cell(spec, k, seed) for k in sorted(config.k) for seed in config.seeds for spec in config.selectors]
    if config.full_data:
        cells += [Cell(None, n_train, seed) for seed in config.seeds]
    return cells


def run_cell(cell: Cell, train: Pool, test: Pool, scorer: Scorer, workdir: Path) -> dict[str, Any]:
    """Select (unless full data), score, and return the cell's record, with its cost split
    into embedding, selection and training seconds."""
    started = time.perf_counter()
    embed_s = select_s = 0.0
    if cell.selector is None:
        positions = np.arange(len(train))
    else:
        selector = get_selector(cell.selector.name, **cell.selector.params)
        if callable(getattr(selector, "embeddings", None)):
            # A selector that embeds (farthest-point): embed first, timed on its own; the
            # selection then reads the vectors back from the embedding cache. A cache hit
            # (every cell after a selector's first) costs only the read.
            selector.embeddings(train)
            embed_s = time.perf_counter() - started
        select_started = time.perf_counter()
        selection = selector.select(train, cell.k, seed=cell.seed)
        positions = selection.positions
        select_s = time.perf_counter() - select_started
    score_started = time.perf_counter()
    result: ScoreResult = scorer.score(train, positions, test, seed=cell.seed, workdir=workdir)
    score_s = time.perf_counter() - score_started
    metrics = category_accuracy(result.correct, test.categories())
    return {
        "selector": cell.label,
        "selector_name": FULL if cell.selector is None else cell.selector.name,
        "selector_params": {} if cell.selector is None else cell.selector.params,
        "k": cell.k,
        "seed": cell.seed,
        "scorer": scorer.name,
        "proxy": scorer.is_proxy,
        "accuracy": metrics["overall"]["accuracy"],
        "categories": metrics,
        "n_train": result.n_train,
        "epochs": result.epochs,
        "cost_example_epochs": result.n_train * result.epochs,
        "embed_s": embed_s,
        "select_s": select_s,
        "score_s": score_s,
        "wall_s": time.perf_counter() - started,
        "train_ids": [str(i) for i in train.ids[positions]] if cell.selector is not None else None,
        "correct": result.correct.astype(int).tolist(),
        "predictions": result.predictions.astype(int).tolist(),
        "extra": result.extra,
    }


def load_pools(config: GridConfig) -> tuple[Pool, Pool]:
    """The grid's training pool and evaluation split, each loaded once."""
    ref = config.dataset
    return (load_pool(ref.loader, ref.source, split=ref.split, **ref.options),
            load_pool(ref.loader, ref.source, split=config.test_split, **ref.options))


def run_grid(config: GridConfig, out: str | Path, *, progress: bool = True,
             pools: tuple[Pool, Pool] | None = None) -> list[dict[str, Any]]:
    """Run (or resume) every cell of the grid; returns the cell records in grid order.

    Everything is checked (:meth:`GridConfig.validate`, the data, the budgets against it,
    the folder's earlier grid) and the scorer prepared before anything is written, so a
    refused grid leaves ``out`` as it was. ``pools`` (train, evaluation split) avoids
    loading them again when the caller has them.
    """
    out = Path(out)
    config.validate()
    scorer = make_scorer(config.scorer, config.scorer_params)
    resolved = {**config.to_dict(), "scorer_resolved": scorer.describe()}
    cells_dir = out / "cells"
    config_path = out / "grid.json"
    if config_path.exists():
        previous = json.loads(config_path.read_text())
        keep = ("scorer", "scorer_params", "dataset", "test_split")
        # scorer_resolved holds every scorer parameter, defaults included, so a default that
        # changed between versions is caught too (grid.json files from before lack it)
        if any(previous.get(key) != resolved[key] for key in keep) or previous.get(
                "scorer_resolved", resolved["scorer_resolved"]) != resolved["scorer_resolved"]:
            raise ConfigError(f"{out} holds a grid with another scorer, scorer settings or dataset; use a "
                              f"new --out (completed cells there would not be comparable)")

    train, test = pools if pools is not None else load_pools(config)
    cells = grid_cells(config, len(train))

    records: list[dict[str, Any]] = []
    todo = [c for c in cells if not (cells_dir / c.filename).exists()]
    if len(todo) < len(cells):
        log.info("resuming: %d of %d cells already done", len(cells) - len(todo), len(cells))
    if todo:
        scorer.prepare(train, test)
    cells_dir.mkdir(parents=True, exist_ok=True)
    write_json(config_path, resolved)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(cells), initial=len(cells) - len(todo), desc="cells", unit="cell")
    for cell in cells:
        path = cells_dir / cell.filename
        if path.exists():
            records.append(json.loads(path.read_text()))
            continue
        if bar is not None:
            bar.set_postfix_str(f"{cell.label} k={cell.k} seed={cell.seed}")
        workdir = out / "runs" / path.stem
        record = run_cell(cell, train, test, scorer, workdir)
        write_json(path, record, indent=None)
        records.append(record)
        if bar is not None:
            bar.update(1)
        else:  # a log file: one line per cell instead of a bar
            log.info("cell %d/%d: %s k=%d seed %d: %.1f%% (%.0f s)", len(records), len(cells), cell.label,
                     cell.k, cell.seed, 100 * record["accuracy"], record["wall_s"])
    if bar is not None:
        bar.close()
    return records
