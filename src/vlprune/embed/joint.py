"""Join several embedders into one vector with weights."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vlprune.embed.base import Embedder, get_embedder, register_embedder
from vlprune.errors import ConfigError


@register_embedder("joint")
class JointEmbedder(Embedder):
    """Concatenate embedders, each part L2-normalised per row and multiplied by its weight,
    so squared L2 distances add up as ``sum(w_i^2 * d_i^2)`` over unit-scale parts.

    Args:
        parts: ``[(embedder or name, weight), ...]``.

    Example:
        >>> from vlprune import load_pool
        >>> j = JointEmbedder([("tfidf", 1.0), ("pixels", 0.5)])
        >>> j.embed(load_pool("synthetic", size="tiny")).shape[1]
        321
    """

    def __init__(self, parts: Sequence[tuple[Embedder | str, float]] = (("tfidf", 1.0), ("pixels", 1.0))) -> None:
        self.parts = parts

    def _resolved(self) -> list[tuple[Embedder, float]]:
        if not self.parts:
            raise ConfigError("a joint embedder needs at least one part")
        out = []
        for part in self.parts:
            try:
                emb, weight = part
            except (TypeError, ValueError):
                raise ConfigError(f"joint embedder parts are (embedder, weight) pairs, got {part!r}") from None
            if not (isinstance(weight, int | float) and weight >= 0):
                raise ConfigError(f"joint embedder weights must be non-negative numbers, got {weight!r}")
            out.append((get_embedder(emb), float(weight)))
        return out

    def get_params(self):
        return {"parts": [[emb.describe(), w] for emb, w in self._resolved()]}

    def _embed(self, pool):
        blocks = []
        for emb, weight in self._resolved():
            X = emb.embed(pool)
            norms = np.linalg.norm(X, axis=1, keepdims=True)
            blocks.append(weight * X / np.maximum(norms, 1e-12))
        return np.concatenate(blocks, axis=1)


@register_embedder("default")
class DefaultEmbedder(JointEmbedder):
    """The embedding a pool gets when none is named: TF-IDF of the text joined with the
    pixel descriptor (both need no model weights).

    Example:
        >>> DefaultEmbedder().get_params()["parts"][0][0]["name"]
        'tfidf'
    """

    def __init__(self) -> None:
        super().__init__(parts=(("tfidf", 1.0), ("pixels", 1.0)))
