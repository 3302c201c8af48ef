"""Greedy k-center (Gonzalez's farthest-point traversal) over an embedding matrix.

Memory is the matrix, read in place (a ``.npy`` file is memory-mapped, never loaded whole),
plus O(n) for each row's squared distance to its nearest selected centre: no n x k or n x n
matrix is ever formed. The greedy order has two useful properties: every prefix of it is the
farthest-point selection of that size, and the covering radius it achieves is at most twice
the optimal k-center radius (Gonzalez 1985).

The package, by module:

* :mod:`.driver`: :func:`farthest_point_order`, the one loop, over an :class:`Engine`;
* :mod:`.matrix`: :class:`StreamedMatrix`, the matrix in a centred frame, read in blocks;
* :mod:`.streaming`, :mod:`.bounds`, :mod:`.torch_engine`: the engines (``numpy``:
  one pass per step; ``bounds``: skips rows the triangle inequality rules out; ``torch``:
  on a torch device, float16 on a GPU); ``auto`` is ``torch`` with CUDA, else ``bounds``;
* :mod:`.check`: :func:`farthest_point_gaps` (a float64 per-step check of any order) and
  :func:`covering_radius`;
* :mod:`.coreset`: :func:`coreset_farthest_point`, composable coresets for partitions that
  run anywhere (a map function: this process, or Ray tasks).

See ``docs/scale.md`` for measured speeds, the precision floor and the float16 trade-off.

Example:
    >>> import numpy as np
    >>> X = np.array([[0.0, 0], [1, 0], [10, 0], [5, 0]])
    >>> result = farthest_point_order(X, 3, start=0)
    >>> result.order.tolist(), result.info["engine"] in ("bounds", "torch")
    ([0, 2, 3], True)
"""

from vlprune.select.kcenter.check import (
    covering_radius,
    farthest_point_gaps,
    farthest_point_violation,
)
from vlprune.select.kcenter.coreset import CoresetResult, coreset_farthest_point, local_map
from vlprune.select.kcenter.driver import (
    BACKENDS,
    METRICS,
    Engine,
    KCenterResult,
    farthest_point_order,
    resolve_backend,
)
from vlprune.select.kcenter.matrix import StreamedMatrix, open_embeddings

__all__ = [
    "BACKENDS",
    "METRICS",
    "CoresetResult",
    "Engine",
    "KCenterResult",
    "StreamedMatrix",
    "coreset_farthest_point",
    "covering_radius",
    "farthest_point_gaps",
    "farthest_point_order",
    "farthest_point_violation",
    "local_map",
    "open_embeddings",
    "resolve_backend",
]
