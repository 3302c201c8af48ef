"""Loader for ScienceQA as a Hugging Face dataset (``derek-thomas/ScienceQA`` and copies).

The source is a hub id (needs network the first time; the ``datasets`` cache serves it
afterwards), a folder written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``, a
folder of parquet files named after their split (``train-00000-of-00001.parquet``), or one
parquet file (read as the requested split).

Stable ids: the hub dataset has no id column, so each record's id is
``"<split>-" + sha1(question, choices, answer, hint, sha1(image bytes))[:12]`` -- it depends on
the content only, so it survives reordering or re-sharding of the files. Exact duplicates
(same text and same image bytes) get ``~2``, ``~3`` ... appended in file order.

Images are written once, as the PNG/JPEG bytes the dataset holds, to the vlprune cache
(``hf-images/``), so that every pool reads pixels from files the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from vlprune.data.loaders import loaders, report_missing_images
from vlprune.data.pool import DatasetRef, Pool, check_unique_ids, records_to_table
from vlprune.data.schema import normalise_split, validate_problem
from vlprune.errors import ConfigError, DataError
from vlprune.io import cache_dir

DEFAULT_HUB_ID = "derek-thomas/ScienceQA"
_HF_SPLIT = {"train": "train", "val": "validation", "test": "test"}


def _check_parquet(path: Path) -> None:
    """A parquet file starts and ends with ``PAR1``: check that before pyarrow reads it, so that
    a truncated or foreign file is one named line, not a traceback from deep inside."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(4)
            f.seek(max(size - 4, 0))
            tail = f.read(4)
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    if size < 12 or head != b"PAR1" or tail != b"PAR1":
        raise DataError("not a parquet file (corrupt, truncated, or another format)", file=str(path))


def _load_local(what: str, load: Any) -> Any:
    """Run a local ``datasets`` load; whatever it raises on a bad file becomes one line."""
    try:
        return load()
    except (ConfigError, DataError):
        raise
    except Exception as exc:  # pyarrow / datasets errors on a damaged file have no common base
        message = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise DataError(f"cannot read the dataset: {type(exc).__name__}: {message}", file=what) from None


def _open_split(source: str, split: str, revision: str | None) -> Any:
    import datasets

    path = Path(source).expanduser()
    hf_split = _HF_SPLIT.get(split, split)
    if path.is_file():
        if path.suffix != ".parquet":
            raise DataError("expected a .parquet file or a dataset folder", file=str(path))
        _check_parquet(path)
        return _load_local(str(path), lambda: datasets.load_dataset(
            "parquet", data_files={split: str(path)}, split=split))
    if path.is_dir():
        if (path / "dataset_dict.json").exists() or (path / "state.json").exists():
            loaded = _load_local(str(path), lambda: datasets.load_from_disk(str(path)))
            if isinstance(loaded, datasets.DatasetDict):
                for name in (hf_split, split):
                    if name in loaded:
                        return loaded[name]
                raise ConfigError(f"{path} has splits {', '.join(loaded)}; no {split!r}")
            return loaded
        files = sorted(p for p in path.rglob("*.parquet")
                       if p.name.split("-")[0].split(".")[0] in (hf_split, split))
        if not files:
            raise DataError(f"no parquet files for split {split!r} (expected names like "
                            f"{hf_split}-00000-of-00001.parquet) and no save_to_disk dataset",
                            file=str(path))
        for file in files:
            _check_parquet(file)
        return _load_local(str(path), lambda: datasets.load_dataset(
            "parquet", data_files={split: [str(f) for f in files]}, split=split))
    if path.exists() or source.startswith((".", "/", "~")):
        raise DataError("no such dataset folder or file", file=str(path))
    from vlprune.hub import hub_endpoint, hub_reachable, offline_mode

    # Without a network, datasets retries for half a minute: look once, then use its cache.
    unreachable = not hub_reachable()
    try:
        with offline_mode() if unreachable else contextlib.nullcontext():
            return datasets.load_dataset(source, split=hf_split, revision=revision)
    except Exception as exc:  # network errors, unknown repo, offline mode: one clear line
        if unreachable:
            raise DataError(f"the Hugging Face hub ({hub_endpoint()[0]}) cannot be reached and the dataset "
                            "is not in the local cache; pass a local folder or parquet file (--data PATH)",
                            file=source) from None
        raise DataError(f"could not load hub dataset split {hf_split!r}: {exc}".splitlines()[0],
                        file=source) from None


def _image_bytes(value: Any) -> tuple[bytes | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, dict):
        return value.get("bytes"), value.get("path")
    raise DataError(f"unexpected image value of type {type(value).__name__}", field="image")


def stable_id(split: str, raw: dict[str, Any], image_digest: str) -> str:
    """The content-derived id of one hub record (see the module docstring)."""
    key = json.dumps([raw.get("question"), raw.get("choices"), raw.get("answer"), raw.get("hint"),
                      image_digest], ensure_ascii=False)
    return f"{split}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:12]}"


@loaders.register("hf")
def load_hf(
    source: str | None = None,
    *,
    split: str | None = "train",
    revision: str | None = None,
    require_images: bool = False,
) -> Pool:
    """Load one split of ScienceQA from the Hugging Face hub or a local copy.

    Example:
        >>> pool = load_pool("hf", "derek-thomas/ScienceQA", split="val")  # doctest: +SKIP
    """
    import datasets

    source = source or DEFAULT_HUB_ID
    if split is None:
        raise ConfigError("the hf loader reads one split at a time; pass --split train|val|test")
    split = normalise_split(split, file=source, record=None)
    ds = _open_split(source, split, revision)
    if "image" in ds.column_names:
        ds = ds.cast_column("image", datasets.Image(decode=False))
    if len(ds) == 0:
        raise DataError(f"the {split} pool is empty: the dataset's {split} split has no rows", file=source)
    missing_cols = [c for c in ("question", "choices", "answer") if c not in ds.column_names]
    if missing_cols:
        raise DataError(f"dataset has no column(s) {', '.join(missing_cols)}; "
                        f"columns: {', '.join(ds.column_names)}", file=source)

    images_dir = cache_dir("hf-images", hashlib.sha1(f"{source}|{revision}".encode()).hexdigest()[:16])
    records, seen = [], {}
    for row, raw in enumerate(ds):
        data, stored_path = _image_bytes(raw.get("image"))
        digest = hashlib.sha1(data).hexdigest() if data else (stored_path or "")
        rid = stable_id(split, raw, digest)
        seen[rid] = seen.get(rid, 0) + 1
        if seen[rid] > 1:
            rid = f"{rid}~{seen[rid]}"
        fields = {k: v for k, v in raw.items() if k != "image"}
        fields["split"] = split
        fields["image"] = "image.png" if (data or stored_path) else None
        record = validate_problem(fields, record_id=rid, file=f"{source} (row {row})")
        image_path = ""
        if data:
            target = images_dir / f"{rid}.png"
            if not target.exists():
                tmp = target.with_suffix(".tmp")
                tmp.write_bytes(data)
                tmp.replace(target)
            image_path = str(target)
        elif stored_path and Path(stored_path).is_file():
            image_path = str(Path(stored_path).resolve())
        record["image_path"] = image_path
        record["source"] = "scienceqa"
        records.append(record)
    check_unique_ids([r["id"] for r in records], file=source)
    missing = report_missing_images(records, file=source, folder=str(images_dir),
                                    require_images=require_images)
    src = str(Path(source).expanduser().resolve()) if Path(source).expanduser().exists() else source
    options = {k: v for k, v in {"revision": revision, "require_images": require_images}.items() if v}
    return Pool(records_to_table(records), DatasetRef("hf", src, split, options), missing_images=missing)
