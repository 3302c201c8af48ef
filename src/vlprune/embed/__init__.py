"""Embedders: records -> vectors, for diversity-based selection.

Built in: ``tfidf`` and ``pixels`` (no weights), ``minilm`` (packaged sentence model),
``clip`` and ``llava`` (transformers checkpoints), ``joint`` and ``default``. Model
embedders import torch only when they run. See ``docs/embedders.md``.

Example:
    >>> from vlprune.embed import embedders
    >>> embedders.names()
    ['clip', 'default', 'joint', 'llava', 'minilm', 'pixels', 'tfidf']
"""

from vlprune.embed.base import Embedder, embedders, make_embedder, register_embedder
from vlprune.embed.cache import cached_embed
from vlprune.embed.precomputed import PrecomputedEmbedder
from vlprune.embed.shards import embed_to_file, merge_shards, parse_shard, shard_rows
from vlprune.embed.spec import get_embedder
from vlprune.embed.store import load_embeddings, save_embeddings

__all__ = [
    "Embedder",
    "PrecomputedEmbedder",
    "cached_embed",
    "embed_to_file",
    "embedders",
    "get_embedder",
    "load_embeddings",
    "make_embedder",
    "merge_shards",
    "parse_shard",
    "register_embedder",
    "save_embeddings",
    "shard_rows",
]
