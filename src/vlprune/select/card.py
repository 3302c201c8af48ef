"""The subset card: a markdown page to publish beside a subset manifest.

It says what the subset is made of beside its pool, how it was chosen (selector, parameters,
embedder, seed), the hashes that identify the data and the subset, the package versions at
selection time, and the ``vlprune select`` command that makes it again. It lives in the select
layer because the command is written against the selectors' own parameter defaults.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vlprune.data.pool import UNKNOWN_LABEL, Pool
from vlprune.data.subset import SubsetManifest, library_versions
from vlprune.data.summary import EMPTY_LABEL, field_labels, known_note
from vlprune.params import to_jsonable

#: Dataset options and the ``vlprune select`` flag that sets each (the rest have no flag).
_DATASET_FLAGS = {"image_folder": "--image-folder", "on_duplicate_id": "--on-duplicate-id"}
#: Longest list written into the command itself; longer ones are left to the manifest.
_MAX_LIST = 50


def subset_card(manifest: SubsetManifest, pool: Pool, *, path: str | os.PathLike | None = None,
                positions: np.ndarray | None = None, top: int = 15) -> str:
    """The markdown card of ``manifest`` (selected from ``pool``; ``positions`` are its
    records' positions there, looked up when not given). ``path`` is the manifest's file:
    the card names it, hashes it and writes the command's ``--out`` with its name.

    Example:
        >>> from vlprune import RandomSelector, load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> m = SubsetManifest.from_selection(RandomSelector().select(pool, 5, seed=1), pool)
        >>> card = subset_card(m, pool)
        >>> "vlprune select --size tiny --selector random --k 5 --seed 1" in card
        True
    """
    if positions is None:
        positions = manifest.positions_in(pool, allow_mismatch=True)
    name = Path(path).name if path is not None else "subset.json"
    ref = manifest.dataset
    where = f"`{ref.source}`, " if ref.source else ""
    split = f"split `{ref.split}`" if ref.split else "all splits"
    lines = [
        f"# Subset card: {name}",
        "",
        f"**{manifest.k} records** chosen by **{manifest.selector}** from the **{ref.loader}** dataset "
        f"({where}{split}, {manifest.dataset_size or len(pool)} records), seed {manifest.seed}.",
        f"Made with vlprune {manifest.vlprune_version or '(unknown)'}"
        + (f" on {manifest.created}." if manifest.created else "."),
        "",
        "## How it was chosen",
        "",
        _table(["", ""], [
            ["selector", f"`{manifest.selector}`"],
            ["parameters", _params_text(manifest.selector_params)],
            ["embedder", _embedder_text(manifest.embedder)],
            ["seed", str(manifest.seed)],
            ["k", f"{manifest.k} of {len(pool)} ({manifest.k / max(len(pool), 1):.1%})"],
        ]),
        "",
        "## Make-up against the pool",
        "",
        *_makeup(pool, positions, top),
        "## Hashes",
        "",
        _table(["what", "hash"], [
            ["dataset fingerprint (the pool's content)", f"`{manifest.dataset_fingerprint or '(not recorded)'}`"],
            ["ids hash (sha256 of the ids in selection order, one per line)", f"`{manifest.ids_hash()}`"],
            *([[f"manifest file {name}", f"`{file_sha256(path)}`"]] if path is not None else []),
            *([["embedder fingerprint", f"`{manifest.embedder['fingerprint']}`"]]
              if manifest.embedder and manifest.embedder.get("fingerprint") else []),
            *[[f"weights of {label}", f"`{sig}`"] for label, sig in _weights(manifest.embedder)],
        ]),
        "",
        "## Versions",
        "",
        *_versions(manifest),
        "## Reproduce",
        "",
        "```sh",
        reproduce_command(manifest, out=name),
        "```",
        "",
        "The new manifest's ids hash (`vlprune inspect --card`) equals the one above when the data, "
        "the versions and (for embedding selectors) the embedder's weights are the same.",
        *_notes(manifest),
        "",
    ]
    return "\n".join(lines)


def reproduce_command(manifest: SubsetManifest, *, out: str = "subset.json") -> str:
    """The ``vlprune select`` command line that makes ``manifest``'s selection again
    (parameters left at their defaults are left out)."""
    ref = manifest.dataset
    argv = ["vlprune", "select"]
    if ref.loader != "synthetic":
        argv += ["--dataset", ref.loader]
    if ref.source:
        argv += ["--data", ref.source]
    if ref.split != "train" and ref.split is not None:
        argv += ["--split", ref.split]
    options = dict(ref.options)
    if ref.loader == "synthetic":
        size = options.pop("size", "full")
        if isinstance(size, dict):
            size = ",".join(f"{k}={v}" for k, v in size.items())
        if size != "full":
            argv += ["--size", str(size)]
        seed = options.pop("seed", 0)
        if seed != 0:
            argv += ["--data-seed", str(seed)]
        options.pop("progress", None)
    if options.pop("require_images", False):
        argv.append("--require-images")
    for key, flag in _DATASET_FLAGS.items():
        if options.get(key) is not None:
            argv += [flag, str(options.pop(key))]
    argv += ["--selector", manifest.selector, "--k", str(manifest.k)]
    defaults = _defaults(manifest.selector)
    for key, value in manifest.selector_params.items():
        if key in defaults and _same(value, defaults[key]):
            continue
        if key == "embedder":
            argv += _embedder_flags(value)
        elif key == "warm_start" and isinstance(value, list) and len(value) > _MAX_LIST:
            argv += ["--warm-start", "WARM_START.json"]
        elif defaults or key in _known_params():
            argv += [f"--{key.replace('_', '-')}", _text(value)]
        else:
            argv += ["--param", f"{key}={_text(value)}"]
    if manifest.seed is not None:
        argv += ["--seed", str(manifest.seed)]
    argv += ["--out", out]
    return " ".join(shlex.quote(a) for a in argv)


# -- pieces ---------------------------------------------------------------------------------------
def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _share_rows(pool_col: pd.Series, sub_col: pd.Series, top: int | None) -> list[list[Any]]:
    """Rows of a make-up table from display labels (``field_labels``: unknown and empty
    values are labelled, never dropped or shown as "None")."""
    pool_counts = pool_col.value_counts()
    sub_counts = sub_col.value_counts().reindex(pool_counts.index, fill_value=0)
    rows = [[name, int(sub_counts[name]), f"{100 * sub_counts[name] / max(len(sub_col), 1):.1f}",
             int(pool_counts[name]), f"{100 * pool_counts[name] / max(len(pool_col), 1):.1f}"]
            for name in pool_counts.index]
    return rows if top is None else rows[:top]


def _makeup(pool: Pool, positions: np.ndarray, top: int) -> list[str]:
    positions = np.asarray(positions, dtype=np.int64)
    sub = pool.table.iloc[positions]
    out: list[str] = []

    def known(field: str) -> str:  # "" when every record knows the field
        note = known_note(pool, field, positions)
        return f" ({note}; the rest {UNKNOWN_LABEL})" if note else ""

    for field in ("subject", "topic", "source"):
        labels = field_labels(pool, field)
        if pool.has_field(field) and labels.nunique() > 1:
            rows = _share_rows(labels, field_labels(pool, field, positions), top)
            more = labels.nunique() - len(rows)
            out += [f"Per {field}" + (f" (top {top} of the pool; {more} more)" if more > 0 else "")
                    + known(field) + ":", "", _table([field, "subset", "subset %", "pool", "pool %"], rows), ""]
    if pool.has_field("grade"):
        rows = sorted(_share_rows(field_labels(pool, "grade"), field_labels(pool, "grade", positions), None),
                      key=lambda r: int(r[0]) if str(r[0]).isdigit() else 99)
        out += ["Per grade" + known("grade") + ":", "",
                _table(["grade", "subset", "subset %", "pool", "pool %"], rows), ""]
    image_sub = float((sub["image"] != "").mean()) if len(sub) else 0.0
    out.append(f"- images: {image_sub:.1%} of the subset, {float(pool.has_image.mean()) if len(pool) else 0:.1%} "
               "of the pool")
    for field in ("skill", "topic"):
        if pool.has_field(field):
            values = set(field_labels(pool, field)) - {UNKNOWN_LABEL, EMPTY_LABEL}
            covered = set(field_labels(pool, field, positions)) & values
            out.append(f"- {field}s covered: {len(covered)} of {len(values)}" + known(field))
    out.append("")
    return out


def _versions(manifest: SubsetManifest) -> list[str]:
    then = dict(manifest.versions)
    if not then:
        then = {"vlprune": manifest.vlprune_version or None}
    now = library_versions()
    rows = []
    for name in dict.fromkeys([*then, *now]):
        old, new = then.get(name), now.get(name)
        mark = "" if name not in then or old == new else " (differs)"
        rows.append([name, old or ("not installed" if name in then else "not recorded"),
                     (new or "not installed") + mark])
    out = [_table(["package", "at selection", "here"], rows), ""]
    if not manifest.versions:
        out += ["This manifest predates version records: only vlprune's version is known.", ""]
    return out


def _weights(embedder: dict[str, Any] | None, label: str = "") -> list[tuple[str, str]]:
    """(embedder label, weights signature) for the embedder and each part of a joint one."""
    if not isinstance(embedder, dict):
        return []
    name = label or str(embedder.get("name", "embedder"))
    out = []
    extras = embedder.get("extras") or {}
    if isinstance(extras, dict) and extras.get("weights"):
        out.append((name, str(extras["weights"])))
    for part in (embedder.get("params") or {}).get("parts") or []:
        if isinstance(part, list | tuple) and part and isinstance(part[0], dict):
            out += _weights(part[0], f"{name}: {part[0].get('name', 'part')}")
    return out


def _embedder_text(embedder: dict[str, Any] | None) -> str:
    if not embedder:
        return "none (this selector reads no embeddings)"
    params = {k: v for k, v in (embedder.get("params") or {}).items() if k != "parts"}
    spec = _joint_spec(embedder)
    return f"`{spec or embedder.get('name')}`" + (f" ({_params_text(params)})" if params else "")


def _joint_spec(embedder: dict[str, Any]) -> str | None:
    parts = (embedder.get("params") or {}).get("parts")
    if not parts:
        return None
    return "+".join(str(p[0].get("name")) + ("" if p[1] == 1 else f"*{p[1]:g}") for p in parts)


def _params_text(params: dict[str, Any]) -> str:
    if not params:
        return "none"
    return ", ".join(f"`{k}={_short(v)}`" for k, v in params.items())


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name", "{...}"))
    if isinstance(value, list) and len(value) > 8:
        return f"[{len(value)} values]"
    return _text(value)


def _text(value: Any) -> str:
    """A parameter value as the command line takes it (see vlprune.params.parse_value)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


def _same(value: Any, default: Any) -> bool:
    return to_jsonable(default) == value


def _defaults(selector: str) -> dict[str, Any]:
    """The selector's parameter defaults ({} when it is not registered here, e.g. a plugin
    that is not installed)."""
    from vlprune.errors import ConfigError
    from vlprune.select.base import selectors

    try:
        cls = selectors.get(selector)
    except ConfigError:
        return {}
    return {name: spec.default for name, spec in cls.param_specs().items()}


def _known_params() -> set[str]:
    from vlprune.select.base import selectors

    return {name for _, cls in selectors.items() for name in cls.param_specs()}


def _embedder_flags(value: Any) -> list[str]:
    if isinstance(value, str):
        return ["--embedder", value]
    if not isinstance(value, dict):
        return ["--embedder", _text(value)]
    params = value.get("params") or {}
    if value.get("name") == "precomputed":
        return ["--embeddings", str(params.get("label", "EMBEDDINGS.npy"))]
    flags = ["--embedder", _joint_spec(value) or str(value.get("name"))]
    if params.get("model"):
        flags += ["--model", str(params["model"])]
    return flags


def _notes(manifest: SubsetManifest) -> list[str]:
    notes = []
    ref = manifest.dataset
    left = {k: v for k, v in ref.options.items()
            if k not in (*_DATASET_FLAGS, "require_images", "progress")
            and not (ref.loader == "synthetic" and k in ("size", "seed"))}
    if left:
        notes.append("loader options without a flag (pass them with vlprune.load_pool in Python): "
                     + ", ".join(f"`{k}={v!r}`" for k, v in left.items()))
    warm = manifest.selector_params.get("warm_start")
    if isinstance(warm, list) and len(warm) > _MAX_LIST:
        notes.append(f"WARM_START.json: a manifest holding the {len(warm)} warm-start ids "
                     "(selector.params.warm_start of this manifest)")
    if ref.split is None:
        notes.append("the pool is every split of the dataset (split null): load it in Python, "
                     "vlprune.load_pool(..., split=None)")
    return ["", *(f"Note: {n}." for n in notes)] if notes else []


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes (the manifest file itself, for the card)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()
