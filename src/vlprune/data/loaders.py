"""The dataset-loader registry and :func:`load_pool`, the one entry point to every loader.

A loader is a function ``load(source, *, split, **options) -> Pool``. Built-in loaders:
``synthetic`` (the default), ``scienceqa`` (the original problems.json layout), ``hf``
(Hugging Face datasets by hub id or local path) and ``llava-json`` (LLaVA conversations).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from vlprune.data.pool import DatasetRef, Pool
from vlprune.errors import ConfigError, DataError
from vlprune.registry import Registry

log = logging.getLogger("vlprune")

Loader = Callable[..., Pool]

loaders: Registry[Loader] = Registry(
    "dataset",
    builtin_modules=[
        "vlprune.data.scienceqa",
        "vlprune.data.hf",
        "vlprune.data.llava_json",
        "vlprune.data.synthetic_loader",
    ],
    entry_point_group="vlprune.datasets",
)


#: The tuning splits carved from ``train``: ``dev`` is a fixed tenth of it (by a hash of
#: each record's id, so the same records on every machine and for every loader), ``tune`` the
#: other nine tenths. Tune on them (select from ``tune``, score on ``dev``); report on
#: ``train`` -> ``test`` only. See docs/data.md, "Tuning without touching test".
DEV, TUNE = "dev", "tune"
DEV_FRACTION = 0.1


def in_dev(ids: Iterable[str]) -> np.ndarray:
    """True for the ids that belong to the dev split (a stable hash of the id below 10%).

    Example:
        >>> round(float(in_dev([str(i) for i in range(10_000)]).mean()), 2)
        0.1
    """
    def unit(rid: str) -> float:
        digest = hashlib.sha256(f"vlprune-dev|{rid}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    return np.array([unit(str(i)) < DEV_FRACTION for i in ids], dtype=bool)


def check_evaluation_split(train_split: str | None, eval_split: str | None) -> None:
    """Refuse to score on records the model may have trained on: the dev split lies inside
    ``train`` (and ``None``, every record), so scoring on it needs a ``tune`` pool.

    Example:
        >>> check_evaluation_split("tune", "dev")
        >>> check_evaluation_split("train", "dev")
        Traceback (most recent call last):
        ...
        vlprune.errors.ConfigError: the dev split is part of the train split, so a model trained on train cannot be scored on dev; select from --split tune (train without dev) to tune on dev
    """
    if eval_split == DEV and train_split != TUNE:
        raise ConfigError(f"the dev split is part of the {train_split or 'whole'} split, so a model trained on "
                          f"{train_split or 'every record'} cannot be scored on dev; select from --split tune "
                          "(train without dev) to tune on dev")
    if eval_split == train_split and eval_split is not None:
        raise ConfigError(f"cannot score on the split trained on ({eval_split})")


def load_pool(
    dataset: str | DatasetRef | dict = "synthetic",
    source: str | Path | None = None,
    *,
    split: str | None = "train",
    **options: Any,
) -> Pool:
    """Load one split of a dataset as a :class:`Pool`.

    Args:
        dataset: loader name (``synthetic``, ``scienceqa``, ``hf``, ``llava-json``), or a
            :class:`DatasetRef` / its dict form as stored in a subset manifest.
        source: a path or hub id; the synthetic dataset needs none.
        split: ``train``, ``val``, ``test`` (or a ScienceQA mini split); ``dev`` and ``tune``,
            the tuning splits carved from ``train`` (:data:`DEV`); None for all records.
        options: loader options, e.g. ``size="small"`` for synthetic, ``require_images=True``.

    Example:
        >>> pool = load_pool("synthetic", split="test", size="tiny")
        >>> pool.reference.split, len(pool)
        ('test', 50)
    """
    if isinstance(dataset, dict):
        dataset = DatasetRef.from_dict(dataset)
    if isinstance(dataset, DatasetRef):
        return load_pool(dataset.loader, dataset.source, split=dataset.split, **dataset.options)
    loader = loaders.get(dataset)
    source = None if source is None else str(source)
    if split not in (DEV, TUNE):
        return _not_empty(loader(source, split=split, **options), dataset, source, split)
    train = _not_empty(loader(source, split="train", **options), dataset, source, "train")
    dev = in_dev(train.ids)
    keep = np.flatnonzero(dev if split == DEV else ~dev)
    if not len(keep):
        raise DataError(f"the {split} pool is empty: the {len(train)} train records of this {dataset} "
                        f"dataset put none in {split} ({DEV} takes the {DEV_FRACTION:.0%} of train "
                        "whose id hash falls below it)", file=source)
    return Pool(train.table.iloc[keep], DatasetRef(dataset, source, split, dict(options)),
                missing_images=int((train.table["image"].iloc[keep] != "").sum() -
                                   (train.table["image_path"].iloc[keep] != "").sum()))


def _not_empty(pool: Pool, dataset: str, source: str | None, split: str | None) -> Pool:
    """The built-in loaders say why a pool is empty; this catches any other loader."""
    if not len(pool):
        raise DataError(f"the {split or 'whole'} pool is empty: the {dataset} loader found no records"
                        + (f" in split {split!r}" if split else ""), file=source)
    return pool


def read_json(path: str | Path, *, unique_keys: bool = False) -> Any:
    """Parse a JSON file; a :class:`DataError` naming the file (and line) when it is not JSON.

    With ``unique_keys`` a repeated key in an object is an error rather than silently
    overwriting the earlier value (``json`` keeps the last one).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found" if not path.exists() else "not a file", file=str(path))

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise DataError("duplicate id", file=str(path), record=key, field="id")
            out[key] = value
        return out

    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f, object_pairs_hook=no_duplicates if unique_keys else None)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                        file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc.reason}", file=str(path)) from None


def report_missing_images(pool_records: list[dict], *, file: str, folder: str | None,
                          require_images: bool) -> int:
    """Count records whose image is set but whose file was not found; log it once.

    With ``require_images`` a missing file is an error naming the first one; otherwise the
    record's caption stands in for the pixels.
    """
    missing = [r for r in pool_records if r["image"] and not r["image_path"]]
    if not missing:
        return 0
    with_image = sum(1 for r in pool_records if r["image"])
    first = missing[0]
    if require_images:
        raise DataError(
            f"{len(missing)} of {with_image} image files are missing under {folder} "
            f"(first: record {first['id']!r}, image {first['image']!r}); "
            "drop --require-images to use the captions instead",
            file=file,
        )
    log.warning(
        "%d of %d images were not found under %s; their captions stand in for the pixels "
        "(use --require-images to make this an error)",
        len(missing), with_image, folder,
    )
    return len(missing)
