"""Embedding cache (placeholder until the on-disk cache lands): computes directly."""

from __future__ import annotations

import numpy as np

from vlprune.embed.base import Embedder, get_embedder


def cached_embed(embedder: str | Embedder, pool, cache_dir=None) -> np.ndarray:
    """Embed ``pool`` with ``embedder``."""
    return get_embedder(embedder).embed(pool)
