"""Loader for the original ScienceQA layout (github.com/lupantech/ScienceQA).

::

    <root>/problems.json      {pid: problem}
    <root>/pid_splits.json    {"train": [pid, ...], "val": [...], "test": [...], "minitrain": ...}
    <root>/captions.json      {pid: caption} or {"captions": {pid: caption}}   (optional)
    <root>/images/<split>/<pid>/image.png                                     (optional)

``captions.json`` and ``images/`` are also looked for one level up, where the ScienceQA
repository keeps them (``data/captions.json`` beside ``data/scienceqa/``).

``pid_splits.json`` is checked whenever it is there: a pid listed in two of train / val /
test (or two of the mini splits) is an error; pids it lists that ``problems.json`` lacks are
counted in one warning (public copies often lack some problems). A split without records is
an error that says why, never an empty pool.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from vlprune.data.loaders import loaders, read_json, report_missing_images
from vlprune.data.pool import DatasetRef, Pool, records_to_table
from vlprune.data.schema import SPLITS, escapes_folder, normalise_split, validate_problem
from vlprune.errors import ConfigError, DataError

log = logging.getLogger("vlprune")


def read_pid_splits(path: Path) -> dict[str, list[str]]:
    """``pid_splits.json`` as {split: [pid, ...]}, checked: a mapping of lists, and no pid in
    two of train / val / test, nor in two of minitrain / minival / minitest (a mini split
    lies inside its own split, so those pairs may share pids)."""
    listed = read_json(path)
    if not isinstance(listed, dict) or not all(isinstance(v, list) for v in listed.values()):
        raise DataError("expected an object mapping split names to lists of problem ids", file=str(path))
    splits = {name: [str(pid) for pid in pids] for name, pids in listed.items()}
    for family in (("train", "val", "test"), ("minitrain", "minival", "minitest")):
        seen: dict[str, str] = {}
        for name in family:
            for pid in splits.get(name, ()):
                if seen.setdefault(pid, name) != name:
                    raise DataError(f"listed in two splits, {seen[pid]} and {name}", file=str(path),
                                    record=pid, field="split")
    return splits


def _count_by_split(records: list[dict[str, Any]]) -> str:
    counts = Counter(r["split"] for r in records)
    return ", ".join(f"{name} {n:,}" for name, n in sorted(counts.items())) or "none"


def _find(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root.parent / name):
        if candidate.exists():
            return candidate
    return None


@loaders.register("scienceqa")
def load_scienceqa(
    source: str | None,
    *,
    split: str | None = "train",
    image_folder: str | None = None,
    captions: str | None = None,
    require_images: bool = False,
) -> Pool:
    """Load one split of ScienceQA from its original ``problems.json`` layout.

    Args:
        source: the folder holding ``problems.json`` (or the path of that file).
        split: ``train``/``val``/``test``, a mini split listed in ``pid_splits.json``,
            or None for every problem.
        image_folder: where ``<split>/<pid>/image.png`` live; default ``images/`` beside
            ``problems.json`` or one level up.
        captions: a captions JSON file; default ``captions.json`` beside or one level up.
        require_images: make a missing image file an error instead of using its caption.

    Example:
        >>> pool = load_pool("scienceqa", "../shared/data/scienceqa-sample")  # doctest: +SKIP
        >>> len(pool)                                                        # doctest: +SKIP
        1041
    """
    if source is None:
        raise ConfigError("the scienceqa dataset needs --data: the folder holding problems.json")
    root = Path(source).expanduser()
    problems_file = root if root.suffix == ".json" else root / "problems.json"
    root = problems_file.parent
    problems = read_json(problems_file, unique_keys=True)
    if not isinstance(problems, dict):
        raise DataError(f"expected an object mapping problem ids to problems, got "
                        f"{type(problems).__name__}", file=str(problems_file))

    if not problems:
        raise DataError("the pool is empty: the file holds no problems", file=str(problems_file))
    records = [validate_problem(raw, record_id=str(pid), file=str(problems_file))
               for pid, raw in problems.items()]

    splits_file = root / "pid_splits.json"
    listed = read_pid_splits(splits_file) if splits_file.exists() else None
    if split is not None:
        split_name = split if split.startswith("mini") else normalise_split(split, file=None, record=None)
        everything = records
        if split_name in ("train", "val", "test"):
            records = [r for r in records if r["split"] == split_name]
        else:
            if listed is None:
                raise ConfigError(f"split {split!r} needs {splits_file}, which does not exist; "
                                  f"splits available from problems.json: train, val, test")
            if split_name not in listed:
                raise ConfigError(f"split {split!r} is not in {splits_file}; "
                                  f"it has {', '.join(listed)} (known: {', '.join(SPLITS)})")
            wanted = set(listed[split_name])
            records = [r for r in records if r["id"] in wanted]
        named = listed.get(split_name, []) if listed is not None else []
        absent = sum(1 for pid in named if pid not in problems)
        if not records:
            why = (f"{splits_file.name} lists {len(named):,} {split_name} pids and none of them is in "
                   f"{problems_file.name}" if named and absent == len(named) else
                   f"no problem of {problems_file.name} is in split {split_name!r} "
                   f"(its problems by split: {_count_by_split(everything)})")
            raise DataError(f"the {split_name} pool is empty: {why}", file=str(problems_file))
    else:
        named = sorted({pid for pids in (listed or {}).values() for pid in pids})
        absent = sum(1 for pid in named if pid not in problems)
    if absent:
        what = f"{split} pids" if split is not None else "pids (all splits)"
        log.warning("%s lists %s %s; %s of them are not in %s and are left out", splits_file.name,
                    f"{len(named):,}", what, f"{absent:,}", problems_file.name)

    captions_file = Path(captions) if captions else _find(root, "captions.json")
    if captions_file is not None:
        caption_map = read_json(captions_file)
        if isinstance(caption_map, dict) and isinstance(caption_map.get("captions"), dict):
            caption_map = caption_map["captions"]
        if not isinstance(caption_map, dict):
            raise DataError("expected an object mapping problem ids to captions", file=str(captions_file))
        for r in records:
            if not r["caption"]:
                r["caption"] = str(caption_map.get(r["id"], "") or "")

    folder = Path(image_folder) if image_folder else _find(root, "images")
    for r in records:
        if r["image"] and escapes_folder(f"{r['split']}/{r['id']}/{r['image']}"):
            raise DataError(f"image path {r['split']}/{r['id']}/{r['image']} climbs out of the image "
                            "folder; problem ids and image names must stay inside it",
                            file=str(problems_file), record=r["id"], field="image")
        path = folder / r["split"] / r["id"] / r["image"] if (folder and r["image"]) else None
        r["image_path"] = str(path.resolve()) if path is not None and path.is_file() else ""
        r["source"] = r["source"] or "scienceqa"

    missing = report_missing_images(records, file=str(problems_file),
                                    folder=str(folder or root / "images"),
                                    require_images=require_images)
    options = {k: v for k, v in {"image_folder": image_folder, "captions": captions,
                                 "require_images": require_images}.items() if v}
    ref = DatasetRef("scienceqa", str(root.resolve()), split, options)
    return Pool(records_to_table(records), ref, missing_images=missing)
