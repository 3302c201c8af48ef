"""Export a selection as LLaVA training JSON, so a subset also feeds LLaVA's own scripts."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from vlprune.data.pool import Pool
from vlprune.data.prompts import format_prompt, format_target
from vlprune.data.schema import check_image_reference
from vlprune.io import atomic_open


def to_llava_records(pool: Pool, positions: Sequence[int] | np.ndarray | None = None) -> list[dict[str, Any]]:
    """LLaVA conversation records (QCM-LEA) for the given positions (default: all), in order.

    Problems with an image get ``"image"``: the absolute path of its pixels when they are on
    this machine (``os.path.join(image_folder, abs_path)`` is ``abs_path``, so LLaVA's
    ``--image_folder`` does not matter), else ``<split>/<id>/<file>`` as in ScienceQA's
    ``images/`` folder. Image-free problems carry no ``image`` key. Records loaded from
    LLaVA JSON keep their original conversations. An image reference that climbs out of the
    image folder (``../../etc/passwd``) is refused (:class:`DataError`), never exported.

    Example:
        >>> pool = load_pool("synthetic", size="tiny")
        >>> rec = to_llava_records(pool, [0])[0]
        >>> rec["conversations"][1]["value"].endswith(".")
        True
    """
    table = pool.table if positions is None else pool.table.iloc[np.asarray(positions, dtype=np.int64)]
    out = []
    for row in table.to_dict("records"):
        item: dict[str, Any] = {"id": row["id"]}
        if row["image"]:
            # LLaVA records may name absolute paths (the loader accepts them); a ScienceQA-style
            # record names a file inside <split>/<id>/. Neither may climb out with "..".
            llava = bool(row["conversations"])
            check_image_reference(row["image"], file=None, record=str(row["id"]), allow_absolute=llava)
            reference = row["image"] if llava else f"{row['split']}/{row['id']}/{row['image']}"
            check_image_reference(reference, file=None, record=str(row["id"]), allow_absolute=llava)
            item["image"] = row["image_path"] or f"{row['split']}/{row['id']}/{row['image']}"
        if row["conversations"]:
            item["conversations"] = row["conversations"]
        else:
            item["conversations"] = [
                {"from": "human", "value": format_prompt(row)},
                {"from": "gpt", "value": format_target(row)},
            ]
        out.append(item)
    return out


def export_llava_json(pool: Pool, positions: Sequence[int] | np.ndarray | None,
                      path: str | os.PathLike) -> int:
    """Write :func:`to_llava_records` to ``path`` atomically; returns the number of records."""
    records = to_llava_records(pool, positions)
    with atomic_open(path, "w", encoding="utf-8") as f:
        json.dump(records, f, ensure_ascii=False, indent=1)
    return len(records)
