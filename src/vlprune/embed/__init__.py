"""Embedders: records -> vectors, for diversity-based selection."""

from vlprune.embed.base import (
    Embedder,
    PrecomputedEmbedder,
    embedders,
    get_embedder,
    register_embedder,
)

__all__ = ["Embedder", "PrecomputedEmbedder", "embedders", "get_embedder", "register_embedder"]
