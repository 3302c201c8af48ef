"""The base of selectors that work on embedding vectors (farthest-point, typicality, ...).

Given a Pool, such a selector embeds it with its ``embedder`` (through the on-disk cache,
:func:`vlprune.embed.cache.cached_embed`); given an (n, d) array, it uses the rows as they
are. Either way the matrix is checked once, before any selection work, for what cannot be
selected from: non-finite or complex values, no dimensions, every row the same. Fewer
distinct rows than k is a warning (the selection then has to pick duplicates).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.errors import ConfigError
from vlprune.select.base import Selector

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

log = logging.getLogger("vlprune")


class EmbeddingSelector(Selector):
    """A selector that reads embeddings. Subclasses take an ``embedder`` parameter (a spec
    such as ``minilm``, or an :class:`~vlprune.embed.Embedder` instance) and call
    :meth:`embeddings` in ``_select``."""

    embedder: str | Embedder

    def embeddings(self, data: Pool | np.ndarray, k: int | None = None) -> np.ndarray:
        """The (n, d) matrix this selector works on: ``data`` itself, or the pool embedded;
        checked by :func:`check_embeddings` (against ``k`` when given)."""
        if isinstance(data, np.ndarray):
            X = data
        else:
            from vlprune.embed.cache import cached_embed
            from vlprune.embed.precomputed import PrecomputedEmbedder

            if isinstance(self.embedder, PrecomputedEmbedder):
                # The vectors as they are (a memory map stays one: selected out of core).
                X = self.embedder.vectors_for(data)
            else:
                X = cached_embed(self.embedder, data)
        check_embeddings(X, n=len(data), k=k)
        return X

    def validate(self) -> None:
        super().validate()
        # A torch device (farthest-point's k-center engine) that names CUDA on a machine
        # without one is refused here, with the parameters, before any embedding work.
        device = getattr(self, "device", None)
        if device is not None:
            from vlprune.embed.runtime import resolve_device

            resolve_device(device)

    def embedder_info(self, data: Pool | np.ndarray) -> dict[str, Any] | None:
        if isinstance(data, np.ndarray):
            return None
        from vlprune.embed.spec import get_embedder

        return get_embedder(self.embedder).describe()


def check_embeddings(X: Any, *, n: int | None = None, k: int | None = None) -> None:
    """Refuse a matrix that cannot be selected from, with one line saying why; warn when it
    has fewer distinct rows than ``k``.

    Example:
        >>> check_embeddings(np.ones((4, 2)))
        Traceback (most recent call last):
        ...
        vlprune.errors.ConfigError: all 4 embedding rows are identical: there is nothing to select between
    """
    if not isinstance(X, np.ndarray):
        raise ConfigError(f"embeddings must be a numpy array (n, d), got {type(X).__name__}")
    if X.ndim != 2:
        raise ConfigError(f"embeddings must be a 2-D array (n, d), got shape {X.shape}")
    if np.iscomplexobj(X) or not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise ConfigError(f"embeddings must be real numbers, got dtype {X.dtype}")
    if n is not None and len(X) != n:
        raise ConfigError(f"embeddings have {len(X)} rows for {n} records")
    if X.shape[1] == 0:
        raise ConfigError("embeddings have no dimensions (d = 0)")
    if len(X) < 2:
        return
    # One pass, block by block (X may be a memory map): finite, and a random projection, whose
    # distinct values count the distinct rows (distinct rows tie with probability zero).
    direction = np.random.default_rng(0).normal(size=X.shape[1])
    projection = np.empty(len(X))
    first = np.asarray(X[0], dtype=np.float64)
    identical = True
    # 32 MB of float64 per block (65,536 rows of 384 were 200 MB: a fifth of the peak
    # memory of a selection from a 665k x 384 memory map, and again in every per-group call).
    rows = max(1, (32 << 20) // (8 * X.shape[1]))
    for start in range(0, len(X), rows):
        block = np.asarray(X[start:start + rows], dtype=np.float64)
        if not np.isfinite(block).all():
            raise ConfigError("embeddings contain NaN or infinite values")
        projection[start:start + len(block)] = block @ direction
        identical = identical and bool((block == first).all())
    if identical:
        raise ConfigError(f"all {len(X)} embedding rows are identical: there is nothing to select between")
    if k is not None:
        distinct = len(np.unique(projection))
        if distinct < k:
            log.warning("only %d of the %d embedding rows are distinct, fewer than k=%d: the selection "
                        "must include duplicate rows", distinct, len(X), k)
