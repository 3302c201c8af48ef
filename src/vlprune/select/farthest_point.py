"""Max-min L2 diversity selection: farthest-point (greedy k-center) over embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.base import Selector, register_selector
from vlprune.select.kcenter import METRICS, coreset_farthest_point, farthest_point_order, local_map

OPTIMIZERS = ("exact", "coreset")
EXECUTORS = ("local", "ray")
#: Partitions of the coreset optimizer when ``partitions`` is not given.
DEFAULT_PARTITIONS = 8


@register_selector("farthest-point")
class FarthestPointSelector(Selector):
    """Choose records that are far apart: each new record maximises its distance to the
    nearest record already chosen (Gonzalez's greedy k-center).

    ``select`` takes a Pool (embedded with ``embedder``) or an (n, d) array. The selection's
    ``scores`` are the covering radius after each step (non-increasing); every prefix of the
    order is itself the farthest-point selection of that size, so one run serves every
    smaller k. Cost: k passes over the n x d matrix, O(n*d) memory. ``Selection.info`` holds
    the run report: the k-center engine used, its dtype, rows computed and skipped, dense
    and sparse steps, fallbacks (and, for the coreset optimizer, the partitions, union size,
    certified factor and measured covering radius).

    Args:
        embedder: spec or :class:`~vlprune.embed.Embedder` used when given a Pool, through
            the embedding cache (``default``: MiniLM sentence embeddings of the text joined
            with a pixel descriptor, ``minilm+pixels``; see docs/embedders.md).
        metric: ``l2`` or ``cosine``.
        start: ``random`` (seeded), ``mean`` (the record nearest the mean) or a position.
        warm_start: positions (or, with a Pool, ids) already selected: new records are chosen
            far from them and never repeat them (exact optimizer only).
        backend: ``auto`` (torch on a CUDA GPU, else ``bounds``), ``numpy`` (stream the
            matrix every step), ``bounds`` (skip rows the triangle inequality rules out:
            same order, much faster on clustered embeddings) or ``torch``. See docs/scale.md.
        dtype: storage precision, ``float32`` or ``float16`` (half the memory; the order is
            exact for the float16-rounded vectors). Default: float32 on CPU, float16 on GPU.
        device: torch device for the torch backend (default: CUDA when present).
        optimizer: ``exact`` (the greedy order over all rows) or ``coreset`` (composable
            coresets: greedy in each of ``partitions`` row ranges, then on the union of the
            local selections; covering radius certified within 4x optimal, in practice
            within ~1% of the exact one; the partitions can run on a Ray cluster). The
            same seed gives the same first record either way.
        partitions: coreset optimizer: row ranges selected independently (default 8).
        local_k: coreset optimizer: records each partition keeps (default ``k``; more
            tightens the certified factor towards 2).
        executor: coreset optimizer: where the partitions run, ``local`` (this process) or
            ``ray`` (one Ray task per partition; ``pip install 'vlprune[ray]'``, connects to
            a running cluster or starts a local one).

    Example:
        >>> import numpy as np
        >>> from vlprune import FarthestPointSelector
        >>> X = np.random.default_rng(0).normal(size=(500, 8))
        >>> sel = FarthestPointSelector(start="mean").select(X, k=20)
        >>> bool(np.all(np.diff(sel.scores) <= 1e-6)), sel.info["engine"] in ("bounds", "torch")
        (True, True)
        >>> core = FarthestPointSelector(optimizer="coreset", partitions=4).select(X, k=20)
        >>> int(core.positions[0]) == int(FarthestPointSelector().select(X, k=20).positions[0])
        True
    """

    def __init__(
        self,
        embedder: str = "default",
        metric: str = "l2",
        start: str | int = "random",
        warm_start: Sequence[int] | Sequence[str] | None = None,
        backend: str = "auto",
        dtype: str | None = None,
        device: str | None = None,
        optimizer: str = "exact",
        partitions: int | None = None,
        local_k: int | None = None,
        executor: str = "local",
    ) -> None:
        self.embedder = embedder
        self.metric = metric
        self.start = start
        self.warm_start = warm_start
        self.backend = backend
        self.dtype = dtype
        self.device = device
        self.optimizer = optimizer
        self.partitions = partitions
        self.local_k = local_k
        self.executor = executor

    def embeddings(self, data) -> np.ndarray:
        """The matrix this selector works on: ``data`` itself, or the pool embedded."""
        if isinstance(data, np.ndarray):
            return data
        from vlprune.embed.base import PrecomputedEmbedder
        from vlprune.embed.cache import cached_embed

        if isinstance(self.embedder, PrecomputedEmbedder) and isinstance(self.embedder.vectors, np.ndarray):
            # Use the vectors as they are (a memory map stays one: selected out of core).
            return self.embedder.vectors_for(data)

        return cached_embed(self.embedder, data)

    def _warm_positions(self, data) -> np.ndarray | None:
        if self.warm_start is None or len(self.warm_start) == 0:
            return None
        values = list(self.warm_start)
        if all(isinstance(v, int | np.integer) for v in values):
            return np.asarray(values, dtype=np.int64)
        if isinstance(data, np.ndarray):
            raise ConfigError("warm_start ids need a Pool; with an array pass positions")
        return data.positions_of([str(v) for v in values], what="warm-start ids")

    def _validate(self) -> dict[str, Any]:
        """Check the hyperparameters once, before any work; returns the ones whose text form
        (from the command line) needed converting: ``start``, ``partitions``, ``local_k``."""
        if self.metric not in METRICS:
            raise ConfigError(f"metric must be one of {', '.join(METRICS)}, not {self.metric!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        if self.executor not in EXECUTORS:
            raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)}, not {self.executor!r}")
        start = _int_text(self.start, allow_negative=True)
        partitions = _int_text(self.partitions)
        local_k = _int_text(self.local_k)
        if self.optimizer == "exact":
            given = [name for name, value in (("partitions", partitions), ("local_k", local_k))
                     if value is not None] + (["executor"] if self.executor != "local" else [])
            if given:
                raise ConfigError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to "
                                  "optimizer='coreset' only")
        else:
            if self.warm_start is not None and len(self.warm_start):
                raise ConfigError("warm_start works with optimizer='exact' only")
            for name, value in (("partitions", partitions), ("local_k", local_k)):
                if value is not None and (not isinstance(value, int) or value < 1):
                    raise ConfigError(f"{name} must be a positive integer, not {value!r}")
        return {"start": start, "partitions": partitions, "local_k": local_k}

    def _select(self, data, k, rng):
        params = self._validate()
        warm = self._warm_positions(data)
        X = self.embeddings(data)
        if len(X) != len(data):
            raise ConfigError(f"embeddings have {len(X)} rows for {len(data)} records")
        if self.optimizer == "coreset":
            result = coreset_farthest_point(
                X, k, partitions=params["partitions"] or min(DEFAULT_PARTITIONS, len(X)),
                local_k=params["local_k"], metric=self.metric, start=params["start"], rng=rng,
                backend=self.backend, dtype=self.dtype, device=self.device, map_fn=self._partition_map())
            return result.order, result.radii, {**result.report(), "executor": self.executor}
        result = farthest_point_order(X, k, start=params["start"], metric=self.metric, warm_start=warm, rng=rng,
                                      progress=k * len(X) * X.shape[1] > 5e9, backend=self.backend,
                                      dtype=self.dtype, device=self.device)
        return result.order, result.radii, {"optimizer": "exact", **result.info}

    def _partition_map(self):
        if self.executor == "ray":
            from vlprune.distributed.ray_kcenter import RayPartitionMap

            return RayPartitionMap()
        return local_map


def _int_text(value, *, allow_negative: bool = False):
    """An integer given as text (command-line values arrive as strings) as an int; any other
    value unchanged."""
    if isinstance(value, str):
        digits = value[1:] if allow_negative and value.startswith("-") else value
        if digits.isdigit():
            return int(value)
    return value
