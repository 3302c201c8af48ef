"""Beyond one machine: embedding and farthest-point selection on a Ray cluster.

Ray is an optional extra (``pip install 'vlprune[ray]'``); nothing here imports it until a
function is called, so ``import vlprune.distributed`` works without it.

* :func:`embed_with_ray`: a pool embedded through Ray Data ``map_batches`` with actors, one
  embedder per actor (GPU actors when the cluster has GPUs).
* :class:`~vlprune.distributed.ray_kcenter.RayPartitionMap`: the map function that runs
  the composable coreset's partitions as Ray tasks
  (``FarthestPointSelector(optimizer="coreset", executor="ray")``), and
  :func:`farthest_point_with_ray`, a shortcut for arrays and files (see
  :mod:`vlprune.select.kcenter.coreset` for the bound).

Example:
    >>> from vlprune.distributed import farthest_point_with_ray  # no Ray import yet
    >>> callable(farthest_point_with_ray)
    True
"""

from __future__ import annotations

from vlprune.distributed.ray_embed import embed_with_ray
from vlprune.distributed.ray_kcenter import RayPartitionMap, farthest_point_with_ray

__all__ = ["RayPartitionMap", "embed_with_ray", "farthest_point_with_ray"]
