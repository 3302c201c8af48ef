"""The dataset-loader registry and :func:`load_pool`, the one entry point to every loader.

A loader is a function ``load(source, *, split, **options) -> Pool``. Built-in loaders:
``synthetic`` (the default), ``scienceqa`` (the original problems.json layout), ``hf``
(Hugging Face datasets by hub id or local path) and ``llava-json`` (LLaVA conversations).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vlprune.data.pool import DatasetRef, Pool
from vlprune.errors import DataError
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
        split: ``train``, ``val``, ``test`` (or a ScienceQA mini split); None for all records.
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
    return loader(None if source is None else str(source), split=split, **options)


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
