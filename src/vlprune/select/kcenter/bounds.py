"""The bounds engine: exact farthest-point that skips rows the new centre provably cannot
move closer to.

A step only changes ``m(x)``, a row's distance to its nearest centre, for rows that are nearer
to the new centre ``c`` than to every earlier centre. The triangle inequality rules most rows
out without reading them, once the rows are partitioned into groups with a known centre ``g``
and each row's distance ``dist(x, g)`` to it:

    d(x, c) >= d(c, g) - d(x, g),   so   d(c, g) >= m(x) + d(x, g)   implies   d(x, c) >= m(x).

* **Groups** are the Voronoi cells of the centres chosen so far: every row remembers its
  nearest centre (``assign``, kept exact for free since a row's minimum only drops when a
  nearer centre arrives), so grouping is one sort of ``assign``. The reference point ``g``
  of a group is its centroid, not its centre row: in high dimension rows concentrate on a
  shell around the centroid, about sqrt(2) times nearer to it than to each other, which
  makes the bound rule out ~3x more rows. Centroids (a sparse one-hot product per block) and
  ``d(x, g)`` cost two streamed passes per regrouping (about 7 steps' time); groups are
  rebuilt each time the number of centres doubles (64, 128, ...) up to ``max_groups``, so
  they shrink as the cover does.
* **Per step**, the new centre's distance to every group centroid is one (G x d) product. A
  group is skipped outright when ``d(c, g) >= U_g = max over its rows of m(x) + d(x, g)``.
  Rows are kept sorted by group and, within a group, by ``d(x, g)`` descending, so in a
  remaining group only a prefix can move (``d(x, g) > d(c, g) - max m``); one vectorised
  ``searchsorted`` finds every prefix. Those rows are tested one by one with the bound, using
  only per-row numbers (no row of the matrix is read), and only the survivors are gathered
  (in small chunks, over the streaming threads) and multiplied. Group maxima (``U_g``, and
  ``max m`` with its lowest position, for the argmax) are recomputed with ``reduceat`` only
  for groups where a minimum dropped: no Python loop over groups anywhere.
* **Exactness**: skipped rows are exactly those whose float32 minimum cannot drop, so ``m``
  and the order are the ones the streaming engine computes (ties included: both take the
  lowest position). Every test is widened by a slack that covers the float32 error of each
  quantity it compares (``StreamedMatrix.d2_error`` for the distances computed by products,
  plus the rounding of coordinates and of ``d(x, g)``), and rows whose minimum is zero or
  below are tested like any other.
* **When bounds do not help** (isotropic data in high dimension: every distance is about
  the same), a step whose surviving rows exceed ``dense_fraction`` of the matrix streams the
  whole matrix instead (a *fallback*), and the engine stays in that streaming mode, trying
  the bounds again at regroups and at probes spaced 16, 32, then 64 steps apart. Before each
  regrouping the engine estimates, on a systematic sample of rows (a few hundredths of a
  pass), how many rows fresh groups would leave; when that is more than ``dense_fraction``
  it has noticed that bounds do not pay on these data and keeps streaming without building
  them (``regroups_skipped``); when fresh groups nonetheless rule out almost nothing, it
  skips the next regrouping and probes only every 256 steps. So such data cost the
  streaming loop plus a few percent.

Cost: the streaming loop's memory (the matrix, read in place) plus about 40 bytes a row and
``max_groups`` centroids.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vlprune.select.kcenter.matrix import EPS32, StreamedMatrix, nearest_centres
from vlprune.select.kcenter.streaming import product_mode, stream_step

#: Steps between probes of the bounds while streaming (after a near miss).
_PROBE_CAP = 64


class _Groups:
    """Rows sorted by group (``perm[off[g]:off[g+1]]`` are the rows of group ``g``), each
    group's centroid ``C[g]`` and each row's distance to it (``dist``, in group order)."""

    def __init__(self, M: StreamedMatrix, gid: np.ndarray, n_groups: int):
        self.gid = gid
        self.size = np.bincount(gid, minlength=n_groups)
        # Every group is the cell of a centre, which lies in it, so none is empty (reduceat needs that).
        self.off = np.zeros(n_groups + 1, np.int64)
        np.cumsum(self.size, out=self.off[1:])
        # The centroid, not the cell's centre point, is the reference: in high dimension a row
        # is ~sqrt(2) times nearer its cell's centroid than to another row of the cell. Any
        # point would keep the bounds valid, so the float32 sums need not be exact.
        import scipy.sparse  # here: runs that never group do not pay for the import

        sums = np.zeros((n_groups, M.d), np.float64)
        for r0, r1, Y in _centred_blocks(M):
            present, inv = np.unique(gid[r0:r1], return_inverse=True)
            onehot = scipy.sparse.csr_matrix((np.ones(r1 - r0, np.float32), (inv, np.arange(r1 - r0))),
                                             shape=(len(present), r1 - r0))
            sums[present] += onehot @ Y
        self.C = (sums / self.size[:, None]).astype(np.float32)
        self.cq = np.einsum("ij,ij->i", self.C, self.C)
        dist = np.empty(len(gid), np.float32)
        for r0, r1, Y in _centred_blocks(M):
            Y -= self.C[gid[r0:r1]]
            dist[r0:r1] = np.sqrt(np.einsum("ij,ij->i", Y, Y))
        # Rows by group, and within a group farthest from the centroid first: the rows a new
        # centre cannot be ruled out for are then a prefix of each group (see _bounded_step).
        self.perm = np.lexsort((-dist, gid))
        if len(gid) < 2**31:
            self.perm = self.perm.astype(np.int32)
        self.dist = dist[self.perm]
        # Ascending across the whole array (groups in order, dist descending inside each), so
        # one vectorised searchsorted finds every group's prefix.
        self.stride = float(self.dist.max(initial=0.0)) + 1.0
        self.key = np.repeat(np.arange(n_groups) * self.stride, self.size) - self.dist
        self.U = np.empty(n_groups, np.float32)
        self.gmax = np.empty(n_groups, np.float32)
        self.garg = np.empty(n_groups, np.int64)

    def refresh(self, m2: np.ndarray) -> None:
        """Recompute every group's bound and maximum from ``m2`` (an O(n) pass, no rows read)."""
        m2g = m2[self.perm]
        self.set_stats(np.arange(len(self.size)), self.off[:-1], self.size, self.perm, m2g,
                       np.sqrt(np.maximum(m2g, 0)) + self.dist)

    def set_stats(self, groups, seg, sizes, pos, m2p, bound) -> None:
        """Per-group maxima over contiguous segments ``seg`` of the given per-row arrays; the
        position kept for a group's maximum is the lowest among equal values."""
        self.U[groups] = np.maximum.reduceat(bound, seg)
        gm = np.maximum.reduceat(m2p, seg)
        self.gmax[groups] = gm
        # int64 throughout: positions may be int32, and a weak Python-int fill would wrap.
        at_max = np.where(m2p == np.repeat(gm, sizes), pos.astype(np.int64), np.int64(np.iinfo(np.int64).max))
        self.garg[groups] = np.minimum.reduceat(at_max, seg)

    def farthest(self) -> tuple[int, float]:
        """The row with the largest minimum (the lowest position among equal ones)."""
        best = self.gmax.max()
        pos = int(self.garg[self.gmax == best].min())
        return pos, float(best)


def _centred_blocks(M: StreamedMatrix):
    """``(start, stop, centred rows)`` block by block (a fresh float32 array each time)."""
    for r0, r1, B in M.blocks(rows=M.temp_rows):
        yield r0, r1, M._centred(B, r0, r1)


class BoundsEngine:
    """Farthest-point state that skips provably unaffected rows (see the module docstring).
    Implements the :class:`~vlprune.select.kcenter.driver.Engine` protocol.

    Args:
        M: the prepared matrix.
        first_regroup: centres chosen before the first grouping (steps before it stream).
        max_groups: most groups; each step costs a (groups x d) product, so the default
            ``max(256, n // 32)`` keeps that near 3% of a streaming step at most.
        dense_fraction: stream the whole matrix when more than this fraction of rows survive
            the bounds (gathering scattered rows costs more per row than streaming them).

    Example:
        >>> X = np.random.default_rng(0).normal(size=(5000, 4)).astype(np.float32)
        >>> engine = BoundsEngine(StreamedMatrix(X), first_regroup=8)
        >>> nxt = 0
        >>> for _ in range(200):
        ...     nxt, r2 = engine.add(nxt)
        >>> engine.report()["rows_computed"] < 0.6 * 200 * 5000
        True
    """

    name = "bounds"

    def __init__(self, M: StreamedMatrix, *, first_regroup: int = 64,
                 max_groups: int | None = None, dense_fraction: float = 0.4) -> None:
        n = M.n
        self.M = M
        self.m2 = np.full(n, np.inf, np.float32)
        self.assign = np.full(n, -1, np.int32)
        self.max_groups = int(max_groups or max(256, n // 32))
        self.n_centres = 0
        self.next_regroup = max(1, first_regroup)
        self.dense_limit = dense_fraction * n
        self.groups: _Groups | None = None
        self.sparse = False
        self.probe_every = self._probe_base = 16
        self._hopeless = self._fresh_groups = False
        self.dense_run = 0
        self.counts = {"dense_steps": 0, "sparse_steps": 0, "rows_computed": 0, "fallbacks": 0,
                       "regroups": 0, "regroups_skipped": 0}
        # Slack (a distance) that covers the float32 error of every quantity a bound compares:
        # the squared distances computed by products (the row's to the centre, the centre's to
        # a centroid: sqrt of their error bound each), the rounding of centred coordinates
        # (rows and centre), and d(x, g), the square roots and the comparisons themselves.
        radius = float(np.sqrt(M.max_q))
        coord = EPS32 * (radius + (1.0 if M.scale is not None else 0.0))
        self.slack = np.float32(2.0 * np.sqrt(M.d2_error) + 4.0 * coord + 2.0 * (M.d + 8) * EPS32 * radius)

    def _record_centre(self, position: int) -> int:
        t = self.n_centres
        self.m2[position] = -np.inf
        self.assign[position] = t
        self.n_centres += 1
        return t

    def warm(self, positions: np.ndarray) -> tuple[int, float]:
        """Start from centres already chosen; returns the farthest row from them."""
        positions = np.asarray(positions, dtype=np.int64)
        self.m2, which = nearest_centres(self.M, positions)
        self.assign = which
        self.m2[positions] = -np.inf
        self.assign[positions] = np.arange(len(positions), dtype=np.int32)
        self.n_centres = len(positions)
        while self.next_regroup <= self.n_centres:
            self.next_regroup *= 2
        if self.n_centres <= self.max_groups:
            self._regroup()
        i = int(self.m2.argmax())
        return i, float(self.m2[i])

    def add(self, position: int) -> tuple[int, float]:
        w = self.M.centre(position)
        t = self._record_centre(position)
        tried, self._hopeless = self.sparse, False
        result = self._bounded_step(position, w, t) if tried else None
        if result is None:
            if tried:
                self.counts["fallbacks"] += 1
                if self._hopeless and self._fresh_groups:
                    # Fresh groups ruled out almost nothing (typical of isotropic data in high
                    # dimension): skip a regrouping and probe rarely, so such data pay little.
                    self.next_regroup *= 2
                    self.probe_every = max(self.probe_every, 4 * _PROBE_CAP)
            self.sparse = False
            self.dense_run += 1
            self.counts["dense_steps"] += 1
            self.counts["rows_computed"] += self.M.n
            result = stream_step(self.M, w, self.m2, assign=self.assign, label=t)
        else:
            self.probe_every = self._probe_base
        self._fresh_groups = False
        if self.n_centres >= self.next_regroup:
            self.next_regroup *= 2
            if self.n_centres <= self.max_groups:
                if self._regroup_pays(position, w):
                    self._regroup()
                else:
                    self.counts["regroups_skipped"] += 1
        elif not self.sparse and self.groups is not None and self.dense_run >= self.probe_every:
            # Bounds tighten as the cover does: try them again, less often after each miss.
            self.groups.refresh(self.m2)
            self.sparse, self.dense_run = True, 0
            self.probe_every = max(min(2 * self.probe_every, _PROBE_CAP), self.probe_every // 2)
        return result

    def finish(self, order: list, radii2: list) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(order, dtype=np.int64), np.asarray(radii2, dtype=np.float64)

    def report(self) -> dict[str, Any]:
        c = self.counts
        steps = c["dense_steps"] + c["sparse_steps"]
        return {"engine": self.name, "dtype": str(self.M.X.dtype), "product": product_mode(self.M),
                "rows_computed": c["rows_computed"], "rows_skipped": self.M.n * steps - c["rows_computed"],
                "dense_steps": c["dense_steps"], "sparse_steps": c["sparse_steps"],
                "fallbacks": c["fallbacks"], "regroups": c["regroups"], "regroups_skipped": c["regroups_skipped"]}

    def _regroup_pays(self, position: int, w: np.ndarray) -> bool:
        """Whether fresh groups would rule out enough rows to be worth building (two passes
        over the matrix, the time of several steps), judged on a systematic sample of rows:
        their cells' centroids estimated from the sample, and the bound for the latest
        centre. On data where bounds prune nothing (isotropic, high dimension) this keeps the
        engine streaming at the cost of a few hundredths of a pass."""
        n = self.M.n
        # About 8 rows a cell, within one block's temporaries.
        size = min(max(2048, 8 * self.n_centres), self.M.temp_rows)
        if size < 512 or size >= n // 4:  # too few rows to judge, or as costly as the regrouping
            return True
        import scipy.sparse
        idx = np.unique(np.linspace(0, n - 1, size).round().astype(np.int64))
        m2 = self.m2[idx]
        live = m2 > -np.inf
        idx, m2 = idx[live], m2[live]
        Y = self.M.centred_rows(idx)
        present, inv = np.unique(self.assign[idx], return_inverse=True)
        onehot = scipy.sparse.csr_matrix((np.ones(len(idx), np.float32), (inv, np.arange(len(idx)))),
                                         shape=(len(present), len(idx)))
        C = (onehot @ Y) / np.bincount(inv)[:, None].astype(np.float32)
        Y -= C[inv]
        dist = np.sqrt(np.einsum("ij,ij->i", Y, Y))
        C -= w
        dc = np.sqrt(np.einsum("ij,ij->i", C, C))
        need = np.sqrt(np.maximum(m2, 0)) + dist > dc[inv] - self.slack
        return bool(need.mean() < self.dense_limit / n)

    def _regroup(self) -> None:
        self.groups = _Groups(self.M, self.assign.copy(), self.n_centres)
        self.groups.refresh(self.m2)
        self.sparse, self.dense_run, self._fresh_groups = True, 0, True
        self.counts["regroups"] += 1

    def _bounded_step(self, position: int, w: np.ndarray, t: int) -> tuple[int, float] | None:
        """One step touching only rows the bounds cannot rule out; None if too many remain.

        Per group ``g`` (centroid distance ``dc`` from the new centre, largest row minimum
        ``M_g``), a row can only move if ``m + dist > dc``; since ``m <= M_g``, only rows
        with ``dist > dc - M_g`` can, and they are a prefix of the group's rows (sorted by
        ``dist``, descending). The per-row test then runs on those prefixes only, and the
        group maxima are recomputed only for groups where a minimum actually dropped.
        """
        g, m2, slack = self.groups, self.m2, self.slack
        wq = float(w.astype(np.float64) @ w)
        dc = np.sqrt(np.maximum(g.cq + np.float32(wq) - 2 * (g.C @ w), 0))
        own = g.gid[position]
        active = dc < g.U + slack
        active[own] = False  # handled below with its whole range: its maximum just changed
        A = np.flatnonzero(active)
        # Prefix of each active group: rows with dist > dc - M_g - slack.
        thr = dc[A] - np.sqrt(np.maximum(g.gmax[A], 0)) - slack
        ends = np.clip(np.searchsorted(g.key, A * g.stride - thr), g.off[A], g.off[A + 1])
        idx = _ranges(g.off[A], ends)
        if len(idx) > 0.9 * self.M.n and len(idx) > 64:  # nothing to gain: stream
            self._hopeless = True
            return None
        pos = g.perm[idx]
        m2p = m2[pos]
        dcp = np.repeat(dc[A], ends - g.off[A])
        # Chosen centres (-inf) can never move; every other row is tested, even one whose
        # minimum is zero or below (duplicates, rounding): the bound holds for it as well.
        need = (np.sqrt(np.maximum(m2p, 0)) + g.dist[idx] > dcp - slack) & (m2p > -np.inf)
        rows = pos[need]
        # The new centre's own group: every row that may move, wherever it sits.
        own_idx = np.arange(g.off[own], g.off[own + 1])
        own_pos = g.perm[own_idx]
        own_m2 = m2[own_pos]
        own_need = (np.sqrt(np.maximum(own_m2, 0)) + g.dist[own_idx] > dc[own] - slack) & (own_m2 > -np.inf)
        rows = np.concatenate([rows, own_pos[own_need]])
        if len(rows) > self.dense_limit and len(rows) > 64:
            return None
        changed = [np.array([own])]
        if len(rows):
            d2 = self.M.sq_dists_to(rows, w)
            better = d2 < m2[rows]
            moved = rows[better]
            m2[moved] = d2[better]
            self.assign[moved] = t
            changed.append(g.gid[moved])
        self.counts["sparse_steps"] += 1
        self.counts["rows_computed"] += len(rows)
        touched = np.unique(np.concatenate(changed))
        sizes = g.size[touched]
        seg = np.cumsum(sizes) - sizes
        tidx = _ranges(g.off[touched], g.off[touched + 1])
        tpos = g.perm[tidx]
        tm2 = m2[tpos]
        g.set_stats(touched, seg, sizes, tpos, tm2, np.sqrt(np.maximum(tm2, 0)) + g.dist[tidx])
        return g.farthest()


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(starts[i], stops[i])`` over i, without a Python loop.

    Example:
        >>> _ranges(np.array([0, 10]), np.array([2, 13])).tolist()
        [0, 1, 10, 11, 12]
    """
    lengths = np.maximum(stops - starts, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.arange(total) + np.repeat(starts - offsets, lengths)
