"""Embedding a pool to a file, whole or as one of N shards, and merging shards back.

Shard ``I/N`` (0-based, ``0 <= I < N``) holds the contiguous positions
``[n*I//N, n*(I+1)//N)`` of an ``n``-record pool, so N processes or machines can each embed
one shard (``vlprune embed --shard I/N``) and ``vlprune embed --merge`` joins them. A shard
is an ordinary embeddings file (:mod:`vlprune.embed.store`) whose sidecar names its index,
count and row range besides the pool and embedder fingerprints; merging checks that every
shard of one run is there exactly once and that all come from the same pool (and found
images) and the same embedder. The merged file equals the unsharded one: model embedders
embed each record on its own, and pool-level ones (tfidf, pixels) fit on the whole pool in
every shard and keep their rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.embed.cache import cached_embed
from vlprune.embed.spec import get_embedder
from vlprune.embed.store import load_embeddings, save_embeddings
from vlprune.errors import ConfigError, DataError

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

_SHARD = re.compile(r"^\s*(-?\d+)\s*/\s*(-?\d+)\s*$")  # signs too: -1/4 gets the range message


def parse_shard(text: str) -> tuple[int, int]:
    """``"1/4"`` -> ``(1, 4)``: shard index (0-based) and count.

    Example:
        >>> parse_shard("0/2")
        (0, 2)
    """
    m = _SHARD.match(str(text))
    if not m:
        raise ConfigError(f"a shard is written I/N (like 0/4: the first of 4), not {text!r}")
    index, count = int(m.group(1)), int(m.group(2))
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"shard {text!r}: the index counts from 0, so it must lie in 0..{count - 1}"
                          if count >= 1 else f"shard {text!r}: the count must be at least 1")
    return index, count


def shard_rows(n: int, index: int, count: int) -> tuple[int, int]:
    """The ``(start, stop)`` positions of shard ``index`` of ``count`` over ``n`` records.

    Example:
        >>> [shard_rows(10, i, 3) for i in range(3)]
        [(0, 3), (3, 6), (6, 10)]
    """
    return n * index // count, n * (index + 1) // count


def embed_to_file(
    embedder: str | Embedder,
    pool: Pool,
    out: str | Path,
    *,
    shard: tuple[int, int] | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> dict[str, Any]:
    """Embed ``pool`` (or shard ``(index, count)`` of it) and write ``out`` with its sidecar
    atomically, going through the cache unless ``use_cache`` is False. Returns the sidecar.

    Example:
        >>> import tempfile, pathlib
        >>> from vlprune import load_pool
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "part0.npy"
        >>> meta = embed_to_file("tfidf", load_pool("synthetic", size="tiny"), out, shard=(0, 2), use_cache=False)
        >>> meta["rows"], meta["shard"]
        ([0, 100], {'index': 0, 'count': 2})
    """
    emb = get_embedder(embedder)
    rows = shard_rows(len(pool), *shard) if shard is not None else (0, len(pool))
    X = cached_embed(emb, pool, cache_dir, rows=rows) if use_cache else emb.embed(pool, rows)
    shard_info = {"index": shard[0], "count": shard[1]} if shard is not None else None
    return save_embeddings(out, X, pool=pool, embedder=emb, rows=rows, shard=shard_info)


def merge_shards(paths: Sequence[str | Path], out: str | Path) -> dict[str, Any]:
    """Join the shard files of one sharded run into ``out`` (written atomically with its
    sidecar); returns the sidecar. The result equals embedding the pool unsharded.

    Errors name the files: a file that is not a shard (no sidecar, or written without
    ``--shard``), a missing or repeated shard, shards of different pools, found images,
    embedders or shard counts, and a truncated or corrupt shard.

    Example:
        >>> import tempfile, pathlib
        >>> from vlprune import load_pool
        >>> pool, d = load_pool("synthetic", size="tiny"), pathlib.Path(tempfile.mkdtemp())
        >>> parts = [d / f"s{i}.npy" for i in range(2)]
        >>> for i, p in enumerate(parts):
        ...     _ = embed_to_file("tfidf", pool, p, shard=(i, 2), use_cache=False)
        >>> merge_shards(parts, d / "emb.npy")["shape"]
        [200, 256]
    """
    if not paths:
        raise ConfigError("give the shard files to merge")
    shards: dict[int, tuple[Path, np.ndarray, dict[str, Any]]] = {}
    first: tuple[Path, dict[str, Any]] | None = None
    for raw in paths:
        path = Path(raw)
        X, meta = load_embeddings(path)
        if meta is None:
            raise DataError(f"has no sidecar ({path.name}.json), so it is not a shard written by "
                            "vlprune embed --shard", file=str(path))
        shard = meta.get("shard")
        if not shard:
            raise DataError("is a whole embedding, not a shard (it was written without --shard)", file=str(path))
        if first is None:
            first = (path, meta)
        else:
            _check_same_run(first, (path, meta))
        index, count = int(shard["index"]), int(shard["count"])
        if index in shards:
            raise ConfigError(f"shard {index}/{count} is given twice: {shards[index][0]} and {path}")
        expected = list(shard_rows(meta["pool"]["size"], index, count))
        if meta["rows"] != expected:
            raise DataError(f"shard {index}/{count} holds rows {meta['rows']}, not {expected}", file=str(path),
                            field="rows")
        shards[index] = (path, X, meta)
    assert first is not None
    ref_path, ref = first
    count = int(ref["shard"]["count"])
    missing = sorted(set(range(count)) - set(shards))
    if missing:
        raise ConfigError(f"shard(s) {', '.join(f'{i}/{count}' for i in missing)} missing: got {len(shards)} of "
                          f"{count} shards of the run that wrote {ref_path}")
    X = np.concatenate([shards[i][1] for i in range(count)], axis=0)
    return save_embeddings(out, X, pool=ref["pool"], embedder=ref["embedder"])


def _check_same_run(a: tuple[Path, dict[str, Any]], b: tuple[Path, dict[str, Any]]) -> None:
    (pa, ma), (pb, mb) = a, b
    checks = [
        (ma["pool"]["fingerprint"], mb["pool"]["fingerprint"], "different pools"),
        (ma["pool"].get("images"), mb["pool"].get("images"), "the same pool with different images found"),
        (ma["embedder"]["fingerprint"], mb["embedder"]["fingerprint"],
         f"different embedders ({_name(ma)} and {_name(mb)})" if _name(ma) != _name(mb)
         else f"the {_name(ma)} embedder with different parameters, weights or precision"),
        (ma["shard"]["count"], mb["shard"]["count"],
         f"runs with different shard counts ({ma['shard']['count']} and {mb['shard']['count']})"),
        (ma["shape"][1], mb["shape"][1], f"different dimensions ({ma['shape'][1]} and {mb['shape'][1]})"),
    ]
    for left, right, what in checks:
        if left != right:
            raise ConfigError(f"{pa} and {pb} cannot be merged: they come from {what}")


def _name(meta: dict[str, Any]) -> str:
    emb = meta["embedder"]
    params = emb.get("params") or {}
    return f"{emb.get('name')}" + (f" {params['model']}" if params.get("model") else "")
