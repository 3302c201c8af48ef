"""Loader for the original ScienceQA layout (github.com/lupantech/ScienceQA).

::

    <root>/problems.json      {pid: problem}
    <root>/pid_splits.json    {"train": [pid, ...], "val": [...], "test": [...], "minitrain": ...}
    <root>/captions.json      {pid: caption} or {"captions": {pid: caption}}   (optional)
    <root>/images/<split>/<pid>/image.png                                     (optional)

``captions.json`` and ``images/`` are also looked for one level up, where the ScienceQA
repository keeps them (``data/captions.json`` beside ``data/scienceqa/``).
"""

from __future__ import annotations

from pathlib import Path

from vlprune.data.loaders import loaders, read_json, report_missing_images
from vlprune.data.pool import DatasetRef, Pool, records_to_table
from vlprune.data.schema import SPLITS, normalise_split, validate_problem
from vlprune.errors import ConfigError, DataError


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

    records = [validate_problem(raw, record_id=str(pid), file=str(problems_file))
               for pid, raw in problems.items()]

    if split is not None:
        split_name = split if split.startswith("mini") else normalise_split(split, file=None, record=None)
        if split_name in ("train", "val", "test"):
            records = [r for r in records if r["split"] == split_name]
        else:
            splits_file = root / "pid_splits.json"
            if not splits_file.exists():
                raise ConfigError(f"split {split!r} needs {splits_file}, which does not exist; "
                                  f"splits available from problems.json: train, val, test")
            listed = read_json(splits_file)
            if split_name not in listed:
                raise ConfigError(f"split {split!r} is not in {splits_file}; "
                                  f"it has {', '.join(listed)} (known: {', '.join(SPLITS)})")
            wanted = {str(p) for p in listed[split_name]}
            records = [r for r in records if r["id"] in wanted]

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
