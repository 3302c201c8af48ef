"""Loader for LLaVA conversation JSON (the ``llava_v1_5_mix665k.json`` format).

::

    [{"id": "000000033471", "image": "coco/train2017/000000033471.jpg",
      "conversations": [{"from": "human", "value": "<image>\\nWhat are the colors of the bus?"},
                        {"from": "gpt", "value": "The bus is white and red."}, ...]},
     {"id": "i6IyJda_0", "conversations": [...]}]                      # text-only: no image

Mapping onto the record schema: ``question`` is the first human turn (without the
``<image>`` token), ``solution`` the first assistant turn, ``conversations`` the whole
dialogue; ``source`` is the image path's first folder (coco, gqa, ocr_vqa, textvqa, vg) or
``none`` for text-only items, so that ``--by source`` stratifies by origin. A conversation
is not multiple choice: choices are ``[]`` and the answer ``-1``. Hint, subject, topic,
category, skill, grade and lecture are unknown (None; the grade ``pd.NA``); selectors that
need them say so.

A conversation must open with a human turn and hold at least one assistant turn, and its
question must not be empty. An image path must stay inside the image folder (no ``..``
that climbs out); absolute paths are accepted, as vlprune's own LLaVA export writes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlprune.data.loaders import loaders, read_json, report_missing_images
from vlprune.data.pool import DatasetRef, Pool, records_to_table
from vlprune.data.schema import check_image_reference
from vlprune.errors import ConfigError, DataError

IMAGE_TOKEN = "<image>"
_ROLES = {"human": "human", "user": "human", "gpt": "gpt", "assistant": "gpt"}


def _strip_image_token(text: str) -> str:
    return text.replace(IMAGE_TOKEN, "").strip()


def _parse_item(item: Any, index: int, *, file: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise DataError(f"expected an object, got {type(item).__name__}", file=file, record=f"#{index}")
    rid = item.get("id")
    if rid is None:
        raise DataError("missing required field", file=file, record=f"#{index}", field="id")
    if not isinstance(rid, str | int) or isinstance(rid, bool):
        raise DataError(f"expected a string id, got {rid!r}", file=file, record=f"#{index}", field="id")
    rid = str(rid)
    where = {"file": file, "record": rid}
    turns = item.get("conversations")
    if turns is None:
        raise DataError("missing required field", field="conversations", **where)
    if not isinstance(turns, list) or not turns:
        raise DataError("expected a non-empty list of turns", field="conversations", **where)
    for t, turn in enumerate(turns):
        if not (isinstance(turn, dict) and isinstance(turn.get("value"), str)
                and turn.get("from") in _ROLES):
            raise DataError(f"turn {t} must be {{'from': 'human'|'gpt', 'value': str}}, got {turn!r:.80}",
                            field="conversations", **where)
    if _ROLES[turns[0]["from"]] != "human":
        raise DataError("the conversation opens with an assistant turn; it must open with a human turn",
                        field="conversations", **where)
    if not any(_ROLES[t["from"]] == "gpt" for t in turns):
        raise DataError("the conversation has no assistant (gpt) turn", field="conversations", **where)
    image = item.get("image")
    if image is not None and not isinstance(image, str):
        raise DataError(f"expected an image path, got {type(image).__name__}", field="image", **where)
    if image:
        check_image_reference(image, allow_absolute=True, **where)
    first = {role: next(t["value"] for t in turns if _ROLES[t["from"]] == role) for role in ("human", "gpt")}
    question = _strip_image_token(first["human"])
    if not question:
        raise DataError("the question (the first human turn, without <image>) is empty",
                        field="conversations", **where)
    return {
        "id": rid,
        "split": "train",
        "question": question,
        "choices": [],
        "answer": -1,
        "hint": None,
        "image": image or "",
        "caption": "",
        "subject": None,
        "topic": None,
        "category": None,
        "skill": None,
        "grade": None,
        "lecture": None,
        "solution": first["gpt"].strip(),
        "source": image.split("/")[0] if image and "/" in image else ("none" if not image else ""),
        "conversations": [{"from": _ROLES[t["from"]], "value": t["value"]} for t in turns],
    }


@loaders.register("llava-json")
def load_llava_json(
    source: str | None,
    *,
    split: str | None = "train",
    image_folder: str | None = None,
    require_images: bool = False,
    on_duplicate_id: str = "error",
) -> Pool:
    """Load LLaVA conversation JSON as a pool (all records are in the ``train`` split).

    Args:
        source: the JSON file.
        image_folder: the folder image paths are relative to (default: the JSON's folder).
        on_duplicate_id: ``error`` (default) or ``suffix``, which renames the 2nd, 3rd ...
            record sharing an id to ``<id>~2``, ``<id>~3`` (some public mixes reuse ids).

    Example:
        >>> pool = load_pool("llava-json", "mix665k.json", image_folder="data/")  # doctest: +SKIP
        >>> pool.table["source"].value_counts()                                   # doctest: +SKIP
    """
    if source is None:
        raise ConfigError("the llava-json dataset needs --data: the conversation JSON file")
    if split not in (None, "train"):
        raise ConfigError(f"LLaVA conversation JSON has only a train split, not {split!r}")
    if on_duplicate_id not in ("error", "suffix"):
        raise ConfigError(f"on_duplicate_id must be 'error' or 'suffix', not {on_duplicate_id!r}")
    path = Path(source).expanduser()
    items = read_json(path)
    if not isinstance(items, list):
        raise DataError(f"expected a list of conversations, got {type(items).__name__}", file=str(path))
    if not items:
        raise DataError("the pool is empty: the file holds no conversations", file=str(path))
    folder = Path(image_folder).expanduser() if image_folder else path.parent
    records, seen = [], {}
    for index, item in enumerate(items):
        record = _parse_item(item, index, file=str(path))
        count = seen[record["id"]] = seen.get(record["id"], 0) + 1
        if count > 1:
            if on_duplicate_id == "error":
                raise DataError("duplicate id (pass on_duplicate_id='suffix' / --on-duplicate-id suffix "
                                "to rename repeats)", file=str(path), record=record["id"], field="id")
            record["id"] = f"{record['id']}~{count}"
        image_file = folder / record["image"] if record["image"] else None
        record["image_path"] = str(image_file.resolve()) if image_file and image_file.is_file() else ""
        records.append(record)
    missing = report_missing_images(records, file=str(path), folder=str(folder),
                                    require_images=require_images)
    options = {k: v for k, v in {"image_folder": str(folder.resolve()) if image_folder else None,
                                 "require_images": require_images,
                                 "on_duplicate_id": on_duplicate_id if on_duplicate_id != "error" else None,
                                 }.items() if v}
    return Pool(records_to_table(records), DatasetRef("llava-json", str(path.resolve()), "train", options),
                missing_images=missing)
