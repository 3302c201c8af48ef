"""A small image descriptor that needs no model: a colour thumbnail of the pixels."""

from __future__ import annotations

from typing import Annotated

import numpy as np

from vlprune.embed.base import Embedder, register_embedder
from vlprune.numeric import l2_normalise
from vlprune.params import Range


@register_embedder("pixels")
class PixelEmbedder(Embedder):
    """A ``size`` x ``size`` RGB thumbnail, standardised per dimension over the pool's images
    and L2-normalised, followed by one flag dimension.

    Records without pixels (text-only problems, or images missing on disk) get a zero
    thumbnail and flag 0; records with pixels get flag 1. So every text-only record sits at
    the same point, at distance ~1 from every image record. (In a joint embedder the part
    is L2-normalised as a whole, so a text-only record's part is exactly zero.) The
    standardisation is fitted on the whole pool, so shards compute the whole pool.

    Example:
        >>> from vlprune import load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> X = PixelEmbedder(size=4).embed(pool)
        >>> X.shape[1], bool((X[:, -1] == pool.image_available).all())
        (49, True)
    """

    runtime_params = ("progress",)

    def __init__(self, size: Annotated[int, Range(1)] = 8, progress: bool | None = None) -> None:
        self.size = size
        self.progress = progress

    def _embed(self, pool):
        from PIL import Image
        from tqdm.auto import tqdm

        from vlprune.embed.runtime import show_progress

        self.check()
        d = 3 * self.size * self.size
        X = np.zeros((len(pool), d + 1), dtype=np.float32)
        have = np.flatnonzero(pool.image_available)
        bar = tqdm(have, desc="pixels", unit="img", disable=not show_progress(self.progress) or len(have) < 500)
        for pos in bar:
            img = pool.image(int(pos)).resize((self.size, self.size), Image.Resampling.BILINEAR)
            X[pos, :d] = np.asarray(img, dtype=np.float32).reshape(-1) / 255.0
        if len(have):
            part = X[have, :d]
            part -= part.mean(axis=0)
            part /= np.maximum(part.std(axis=0), 1e-3)
            part = l2_normalise(part, out=part)
            X[have, :d] = part
            X[have, d] = 1.0
        return X
