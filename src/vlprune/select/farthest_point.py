"""Max-min L2 diversity selection: farthest-point (greedy k-center) over embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.errors import ConfigError
from vlprune.params import Range
from vlprune.select.base import register_selector
from vlprune.select.embedding import EmbeddingSelector
from vlprune.select.kcenter import METRICS, coreset_farthest_point, farthest_point_order, local_map
from vlprune.select.neighbors import kmeans, nearest_neighbors

OPTIMIZERS = ("exact", "coreset")
EXECUTORS = ("local", "ray")
#: Partitions of the coreset optimizer when ``partitions`` is not given.
DEFAULT_PARTITIONS = 8


@register_selector("farthest-point")
class FarthestPointSelector(EmbeddingSelector):
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
        trim: robust k-center: the share of records dropped as outliers before selecting
            (those farthest from their ``trim_neighbors``-th nearest neighbour, found with
            faiss); max-min distance otherwise spends its first picks on them. 0 (default)
            drops none. ``info`` counts the trimmed records.
        trim_neighbors: the neighbour rank whose distance measures isolation (default 10).
        seeding: ``farthest`` (default: the greedy from ``start``) or ``kmeans``: the first
            ``round(seeding_share * k)`` picks are the records nearest the centroids of as
            many k-means clusters, largest (densest) cluster first; the rest are filled by
            the greedy, far from them (a warm start). Exact optimizer only.
        seeding_share: ``seeding="kmeans"``: the share of k taken from k-means (default 0.5).

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
        embedder: str | Embedder = "default",
        metric: Literal["l2", "cosine"] = "l2",
        start: str | int = "random",
        warm_start: Sequence[int] | Sequence[str] | None = None,
        backend: str = "auto",
        dtype: str | None = None,
        device: str | None = None,
        optimizer: Literal["exact", "coreset"] = "exact",
        partitions: Annotated[int, Range(1)] | None = None,
        local_k: Annotated[int, Range(1)] | None = None,
        executor: Literal["local", "ray"] = "local",
        trim: Annotated[float, Range(0, 1, hi_open=True)] = 0.0,
        trim_neighbors: Annotated[int, Range(1)] = 10,
        seeding: Literal["farthest", "kmeans"] = "farthest",
        seeding_share: Annotated[float, Range(0, 1, lo_open=True)] = 0.5,
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
        self.trim = trim
        self.trim_neighbors = trim_neighbors
        self.seeding = seeding
        self.seeding_share = seeding_share

    def _warm_positions(self, data) -> np.ndarray | None:
        if self.warm_start is None or len(self.warm_start) == 0:
            return None
        values = list(self.warm_start)
        if all(isinstance(v, int | np.integer) for v in values):
            return np.asarray(values, dtype=np.int64)
        if isinstance(data, np.ndarray):
            raise ConfigError("warm_start ids need a Pool; with an array pass positions")
        return data.positions_of([str(v) for v in values], what="warm-start ids")

    def _validate(self) -> None:
        """The rules the annotations cannot state: the metric, and which parameters apply to
        which optimizer."""
        if self.metric not in METRICS:
            raise ConfigError(f"metric must be one of {', '.join(METRICS)}, not {self.metric!r}")
        if self.optimizer == "exact":
            given = [name for name in ("partitions", "local_k") if getattr(self, name) is not None]
            given += ["executor"] if self.executor != "local" else []
            if given:
                raise ConfigError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to "
                                  "optimizer='coreset' only")
        elif self.warm_start is not None and len(self.warm_start):
            raise ConfigError("warm_start works with optimizer='exact' only")
        if self.seeding == "kmeans" and (self.optimizer != "exact" or (
                self.warm_start is not None and len(self.warm_start))):
            raise ConfigError("seeding='kmeans' works with optimizer='exact' and no warm_start only")

    def _select(self, data, k, rng):
        warm = self._warm_positions(data)
        X = self.embeddings(data, k)
        start = self.start
        if isinstance(start, str) and start.lstrip("-").isdigit():
            start = int(start)
        kept, report = None, {}
        if self.trim > 0:
            kept = self._untrimmed(X, k, rng)
            report = {"trimmed": int(len(X) - len(kept)), "trim_neighbors": self.trim_neighbors}
            if warm is not None:  # warm positions index the whole pool: keep them, renumbered
                kept = np.union1d(kept, warm)
                warm = np.searchsorted(kept, warm)
            X = X[kept]
        if self.optimizer == "coreset":
            result = coreset_farthest_point(
                X, k, partitions=self.partitions or min(DEFAULT_PARTITIONS, len(X)),
                local_k=self.local_k, metric=self.metric, start=start, rng=rng,
                backend=self.backend, dtype=self.dtype, device=self.device, map_fn=self._partition_map())
            order, radii, info = result.order, result.radii, {**result.report(), "executor": self.executor}
        else:
            seeds = None
            if self.seeding == "kmeans":
                seeds = kmeans_seeds(X, max(1, round(self.seeding_share * k)), metric=self.metric,
                                     seed=int(rng.integers(2**31)))
                report["kmeans_seeds"] = len(seeds)
                warm = seeds
            remaining = k - (0 if seeds is None else len(seeds))
            if remaining:
                result = farthest_point_order(X, remaining, start=start, metric=self.metric, warm_start=warm,
                                              rng=rng, progress=k * len(X) * X.shape[1] > 5e9,
                                              backend=self.backend, dtype=self.dtype, device=self.device)
                order, radii, info = result.order, result.radii, {"optimizer": "exact", **result.info}
            else:
                order, radii, info = np.zeros(0, np.int64), np.zeros(0), {"optimizer": "exact"}
            if seeds is not None:  # k-means picks first; they have no covering radius of their own
                order = np.concatenate([seeds, order])
                radii = np.concatenate([np.full(len(seeds), np.nan), radii])
        if kept is not None:
            order = kept[order]
        return order, radii, {**info, **report}

    def _untrimmed(self, X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        """Positions of the records kept after dropping the ``trim`` share most isolated."""
        n_drop = int(self.trim * len(X))
        if len(X) - n_drop < k:
            raise ConfigError(f"trim={self.trim} leaves {len(X) - n_drop} records, fewer than k={k}")
        m = min(self.trim_neighbors, len(X) - 1)
        values, _ = nearest_neighbors(X, m, metric=self.metric, seed=int(rng.integers(2**31)))
        isolation = values[:, -1] if self.metric == "l2" else 1.0 - values[:, -1]
        # stable: equal isolation keeps the earlier record
        return np.sort(np.argsort(isolation, kind="stable")[:len(X) - n_drop])

    def _partition_map(self):
        if self.executor == "ray":
            from vlprune.distributed.ray_kcenter import RayPartitionMap

            return RayPartitionMap()
        return local_map


def kmeans_seeds(X: np.ndarray, n_clusters: int, *, metric: str, seed: int) -> np.ndarray:
    """The record nearest each of ``n_clusters`` k-means centroids, largest cluster first."""
    clusters = kmeans(X, n_clusters, seed=seed, metric=metric)
    picks = []
    for members in clusters.members():
        if len(members):
            picks.append((-len(members), int(members[np.argmin(clusters.distances[members])])))
    return np.asarray([position for _, position in sorted(picks)], dtype=np.int64)
