"""The embedding cache: each (pool, embedder, rows) is embedded once and read back after.

Entries live in ``vlprune.io.cache_dir("embeddings")`` (``$VLPRUNE_CACHE_DIR/embeddings``
or the user cache directory) or a folder you name, as ``<embedder>-<key>.npy`` plus a
sidecar (format: :mod:`vlprune.embed.store`). The key hashes the pool's content fingerprint,
which of its images were found, the embedder's fingerprint (name, version, the parameters
that change the vectors, model weights signature and precision) and the row range, so a
changed pool or parameter misses. Runtime options (batch size, device, progress) do not.

A joint embedder caches each part separately: changing a weight, or adding a part, reuses
the parts already computed. An entry that is truncated, corrupt or half-written is reported
with a warning and recomputed. Entries are never evicted; delete the folder to reclaim space.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vlprune.embed.base import Embedder, check_rows
from vlprune.embed.spec import get_embedder
from vlprune.embed.store import images_key, load_embeddings, save_embeddings, sidecar_path
from vlprune.errors import DataError

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

log = logging.getLogger("vlprune")


def cache_entry(embedder: Embedder, pool: Pool, cache_dir: str | Path | None = None,
                rows: tuple[int, int] | None = None) -> Path:
    """Where the cache keeps ``embedder``'s vectors of ``pool`` (rows ``rows``).

    Example:
        >>> from vlprune import load_pool, get_embedder
        >>> cache_entry(get_embedder("tfidf"), load_pool("synthetic", size="tiny")).name[:6]
        'tfidf-'
    """
    from vlprune.io import cache_dir as default_cache_dir

    start, stop = check_rows(rows, len(pool))
    key = "\n".join([pool.fingerprint, images_key(pool), embedder.fingerprint, f"{start}:{stop}"])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir("embeddings")
    return root / f"{embedder.name}-{digest}.npy"


def cached_embed(
    embedder: str | Embedder,
    pool: Pool,
    cache_dir: str | Path | None = None,
    *,
    rows: tuple[int, int] | None = None,
) -> np.ndarray:
    """``get_embedder(embedder).embed(pool, rows)``, computed once per cache key and then read
    back memory-mapped.

    Args:
        embedder: a spec (``minilm``, ``clip:PATH``, ``minilm+pixels*0.5``) or an instance.
        pool: the records.
        cache_dir: the cache folder; None for ``vlprune.io.cache_dir("embeddings")``.
        rows: ``(start, stop)`` to embed only those positions (a shard).

    Example:
        >>> import tempfile
        >>> from vlprune import load_pool
        >>> pool, cache = load_pool("synthetic", size="tiny"), tempfile.mkdtemp()
        >>> first = cached_embed("tfidf", pool, cache)         # computed and stored
        >>> again = cached_embed("tfidf", pool, cache)         # read back
        >>> bool(np.array_equal(first, again)), type(again).__name__
        (True, 'memmap')
    """
    from vlprune.embed.joint import JointEmbedder

    emb = get_embedder(embedder)
    if isinstance(emb, JointEmbedder):
        return emb.combine([cached_embed(part, pool, cache_dir, rows=rows) for part, _ in emb.resolved_parts()])
    if not emb.cacheable:
        return emb.embed(pool, rows)
    path = cache_entry(emb, pool, cache_dir, rows)
    if path.exists() or sidecar_path(path).exists():
        try:
            X, meta = load_embeddings(path)
            if meta is None:
                raise DataError("its sidecar is missing (an interrupted write)", file=str(path))
            log.debug("embeddings: %s from cache %s", emb.name, path)
            return X
        except DataError as exc:
            log.warning("embedding cache entry %s is unusable (%s); recomputing it", path, exc.reason)
    start, stop = check_rows(rows, len(pool))
    log.debug("embeddings: computing %s for %d records (cache %s)", emb.name, stop - start, path)
    X = emb.embed(pool, rows)
    try:
        save_embeddings(path, X, pool=pool, embedder=emb, rows=(start, stop))
    except OSError as exc:  # a read-only or full cache must not fail the run
        log.warning("could not write embedding cache entry %s: %s", path, exc)
    return X
