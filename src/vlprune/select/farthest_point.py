"""Max-min L2 diversity selection: farthest-point (greedy k-center) over embeddings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.errors import ConfigError
from vlprune.select.base import register_selector
from vlprune.select.embedding import EmbeddingSelector
from vlprune.select.kcenter import METRICS, farthest_point_order


@register_selector("farthest-point")
class FarthestPointSelector(EmbeddingSelector):
    """Choose records that are far apart: each new record maximises its distance to the
    nearest record already chosen (Gonzalez's greedy k-center).

    ``select`` takes a Pool (embedded with ``embedder``) or an (n, d) array. The selection's
    ``scores`` are the covering radius after each step (non-increasing); every prefix of the
    order is itself the farthest-point selection of that size, so one run serves every
    smaller k. Cost: k passes over the n x d matrix, O(n*d) memory.

    Args:
        embedder: spec or :class:`~vlprune.embed.Embedder` used when given a Pool, through
            the embedding cache (``default``: MiniLM sentence embeddings of the text joined
            with a pixel descriptor, ``minilm+pixels``; see docs/embedders.md).
        metric: ``l2`` or ``cosine``.
        start: ``random`` (seeded), ``mean`` (the record nearest the mean) or a position.
        warm_start: positions (or, with a Pool, ids) already selected: new records are chosen
            far from them and never repeat them.
        backend: ``auto`` (torch on a CUDA GPU, else ``bounds``), ``numpy`` (stream the
            matrix every step), ``bounds`` (skip rows the triangle inequality rules out:
            same order, much faster on clustered embeddings) or ``torch``. See docs/scale.md.
        dtype: storage precision, ``float32`` or ``float16`` (half the memory; the order is
            exact for the float16-rounded vectors). Default: float32 on CPU, float16 on GPU.
        device: torch device for the torch backend (default: CUDA when present).

    Example:
        >>> import numpy as np
        >>> from vlprune import FarthestPointSelector
        >>> X = np.random.default_rng(0).normal(size=(500, 8))
        >>> sel = FarthestPointSelector(start="mean").select(X, k=20)
        >>> bool(np.all(np.diff(sel.scores) <= 1e-6))
        True
    """

    def __init__(
        self,
        embedder: str | Embedder = "default",
        metric: str = "l2",
        start: str | int = "random",
        warm_start: Sequence[int] | Sequence[str] | None = None,
        backend: str = "auto",
        dtype: str | None = None,
        device: str | None = None,
    ) -> None:
        self.embedder = embedder
        self.metric = metric
        self.start = start
        self.warm_start = warm_start
        self.backend = backend
        self.dtype = dtype
        self.device = device

    def _warm_positions(self, data) -> np.ndarray | None:
        if self.warm_start is None or len(self.warm_start) == 0:
            return None
        values = list(self.warm_start)
        if all(isinstance(v, int | np.integer) for v in values):
            return np.asarray(values, dtype=np.int64)
        if isinstance(data, np.ndarray):
            raise ConfigError("warm_start ids need a Pool; with an array pass positions")
        return data.positions_of([str(v) for v in values], what="warm-start ids")

    def _select(self, data, k, rng):
        if self.metric not in METRICS:
            raise ConfigError(f"metric must be one of {', '.join(METRICS)}, not {self.metric!r}")
        warm = self._warm_positions(data)
        X = self.embeddings(data, k)
        start = self.start
        if isinstance(start, str) and start.lstrip("-").isdigit():
            start = int(start)
        result = farthest_point_order(X, k, start=start, metric=self.metric, warm_start=warm, rng=rng,
                                      progress=k * len(X) * X.shape[1] > 5e9, backend=self.backend,
                                      dtype=self.dtype, device=self.device)
        return result.order, result.radii
