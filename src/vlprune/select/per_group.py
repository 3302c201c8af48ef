"""Any selector applied inside each group of a field (or of k-means clusters), with a budget
per group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd

from vlprune.embed.base import Embedder
from vlprune.errors import ConfigError
from vlprune.params import Range
from vlprune.select.base import Selector, register_selector
from vlprune.select.compose import (
    build_selector,
    interleave,
    parse_selector_spec,
    reads_embeddings,
    select_rows,
)
from vlprune.select.embedding import EmbeddingSelector
from vlprune.select.neighbors import kmeans
from vlprune.select.stratified import Allocation, allocate

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

#: The group of records whose field value is unknown (None, NA, NaN or empty).
UNKNOWN = "unknown"


@register_selector("per-group")
class PerGroupSelector(EmbeddingSelector):
    """Run a selector inside each group and give each group a share of the budget.

    The groups are the values of a record field (``by=skill``, ``topic``, ``subject``,
    ``source`` for LLaVA mixtures, ``grade``, ...; records whose value is unknown, i.e.
    None, NA or empty, form one group ``unknown``), or ``by=cluster``: ``n_clusters``
    k-means clusters of the embeddings. :func:`~vlprune.select.stratified.allocate` splits k
    over the groups (``proportional``, ``equal`` or ``sqrt`` of the group sizes), and
    ``within`` (any registered selector, as a spec such as ``farthest-point`` or
    ``typicality:n_neighbors=10``, or a Selector) picks each group's share from the
    group's records alone. Stratified farthest-point is
    ``per-group(by="topic", within="farthest-point")``; stratified typicality is
    ``within="typicality"``.

    An embedding-based ``within`` reads the rows of this selector's ``embedder`` (the pool
    is embedded once, for all groups); give the embedder here, not inside the spec. A group
    whose embeddings are all identical gets a random draw (nothing to select between).

    Order: each group's picks in ``within``'s order, the groups interleaved so that every
    prefix keeps their shares (pick r of a group with q picks sits at (r + 0.5) / q).
    ``scores``: None. ``info``: the grouping, and per group its size and how many it kept.

    Args:
        by: a record field, or ``cluster``.
        within: the selector applied inside each group (default ``random``: stratified
            random sampling).
        allocation: ``proportional``, ``equal`` or ``sqrt`` (see :func:`allocate`).
        embedder: spec or :class:`~vlprune.embed.Embedder`, read when ``within`` reads
            embeddings or ``by=cluster``.
        n_clusters: the k-means clusters of ``by=cluster``.

    Cost: ``within``'s on each group (for k-center, O(k n d / groups) in all), plus one
    k-means for ``by=cluster``.

    Example:
        >>> from vlprune import load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> sel = PerGroupSelector(by="subject", allocation="equal").select(pool, k=30, seed=0)
        >>> sorted(g["kept"] for g in sel.info["groups"].values())
        [10, 10, 10]
    """

    def __init__(
        self,
        by: str = "subject",
        within: str | Selector = "random",
        allocation: Allocation = "proportional",
        embedder: str | Embedder = "default",
        n_clusters: Annotated[int, Range(1)] = 20,
    ) -> None:
        self.by = by
        self.within = within
        self.allocation = allocation
        self.embedder = embedder
        self.n_clusters = n_clusters

    def _validate(self) -> None:
        if not isinstance(self.by, str) or not self.by.strip():
            raise ConfigError(f"{self.label()}: by must name a field or 'cluster', not {self.by!r}")
        if isinstance(self.within, str) and "embedder" in parse_selector_spec(self.within, what="within")[1]:
            raise ConfigError(f"{self.label()}: give the embedder to per-group (embedder=...), "
                              f"not inside within={self.within!r}")
        build_selector(self.within, what="per-group within")

    def _reads_embeddings(self, inner: Selector) -> bool:
        return self.by == "cluster" or reads_embeddings(inner)

    def embedder_info(self, data: Pool | np.ndarray) -> dict[str, Any] | None:
        if not self._reads_embeddings(build_selector(self.within, what="per-group within")):
            return None
        return super().embedder_info(data)

    def _select(self, data, k, rng):
        inner = build_selector(self.within, what="per-group within")
        X = self.embeddings(data, k) if self._reads_embeddings(inner) else None
        if self.by == "cluster":
            c = min(self.n_clusters, len(data))
            clusters = kmeans(X, c, seed=int(rng.integers(2**31)))
            codes, names = clusters.labels, [f"cluster {i}" for i in range(c)]
        else:
            if isinstance(data, np.ndarray):
                raise ConfigError(f"per-group by={self.by!r} reads a record field; pass a Pool, not an array "
                                  "(or group by=cluster)")
            codes, names = group_codes(data.column(self.by, needed_by=f"selector 'per-group' (by={self.by})"))
        sizes = np.bincount(codes, minlength=len(names))
        quota = allocate(sizes, k, self.allocation)
        order_in = np.argsort(codes, kind="stable")
        members = np.split(order_in, np.cumsum(sizes)[:-1])
        chosen, groups = [], {}
        for g, (name, rows) in enumerate(zip(names, members, strict=True)):
            groups[name] = {"size": int(sizes[g]), "kept": int(quota[g])}
            if quota[g]:
                seed = int(rng.integers(2**31))
                chosen.append(select_rows(inner, data, X, rows, int(quota[g]), seed)[0])
        info = {"by": self.by, "allocation": self.allocation, "within": inner.name, "groups": groups}
        return interleave(chosen), None, info


def group_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each record's group number and the groups' names, sorted; unknown values (None, NA,
    NaN, empty text) form the group :data:`UNKNOWN`.

    Example:
        >>> codes, names = group_codes(pd.Series(["b", None, "a", "", "b"]))
        >>> codes.tolist(), names
        ([1, 2, 0, 2, 1], ['a', 'b', 'unknown'])
    """
    unknown = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
    text = values.astype(str).where(~unknown, UNKNOWN)
    codes, uniques = pd.factorize(text, sort=True)
    return np.asarray(codes, dtype=np.int64), [str(u) for u in uniques]
