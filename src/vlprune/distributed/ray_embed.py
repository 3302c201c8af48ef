"""Embedding a pool with Ray Data: ``map_batches`` over record positions, one embedder per actor.

Each actor builds its embedder once (``get_embedder(spec, **params)``: model weights load on
the worker, not in the driver) and embeds batches of records with ``Embedder.embed`` on
``pool.subset(positions)``. The pool itself travels once, through the object store. Actors
ask for a GPU each when the cluster has GPUs (the embedder then finds CUDA as usual), else
one CPU each.

Batches are embedded independently, so the embedder must give each record the vector it
would get in the whole pool. Model embedders (``minilm``, ``clip``, ``llava``) do; ``tfidf``
(vocabulary and SVD fitted on the pool) and ``pixels`` (standardised over the pool) do not,
and are refused. An embedder can declare ``per_record = True`` / ``False`` to settle it.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from vlprune.distributed._ray import ensure_ray
from vlprune.errors import ConfigError

if TYPE_CHECKING:
    from vlprune.data.pool import Pool
    from vlprune.embed.base import Embedder

#: Built-in embedders whose output for a record depends on the rest of the pool.
POOL_FITTED = ("tfidf", "pixels")


def pool_fitted_parts(embedder: Embedder) -> list[str]:
    """Names of the parts of ``embedder`` whose vectors depend on the whole pool.

    Example:
        >>> from vlprune.embed import get_embedder
        >>> pool_fitted_parts(get_embedder("tfidf+pixels"))
        ['tfidf', 'pixels']
    """
    from vlprune.embed.joint import JointEmbedder
    from vlprune.embed.spec import get_embedder

    declared = getattr(embedder, "per_record", None)
    if declared is not None:
        return [] if declared else [embedder.name]
    if isinstance(embedder, JointEmbedder):
        return [name for part, _ in embedder.parts for name in pool_fitted_parts(get_embedder(part))]
    return [embedder.name] if embedder.name in POOL_FITTED else []


class _EmbedBatches:
    """The Ray Data actor: one embedder, many batches of positions."""

    def __init__(self, pool, embedder, params: dict[str, Any]):
        import ray

        from vlprune.embed.spec import get_embedder

        self.pool = ray.get(pool) if isinstance(pool, ray.ObjectRef) else pool
        self.embedder = get_embedder(embedder, **params)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        positions = np.asarray(batch["data"], dtype=np.int64)
        X = self.embedder.embed(self.pool.subset(positions))
        return {"position": positions, "embedding": X}


def embed_with_ray(
    pool: Pool,
    embedder: str | Embedder = "minilm",
    *,
    embedder_params: dict[str, Any] | None = None,
    batch_size: int = 256,
    num_actors: int | None = None,
    gpus_per_actor: float | None = None,
    out: str | os.PathLike | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Embed every record of ``pool`` on a Ray cluster; rows come back in pool order.

    Args:
        pool: the pool (sent once to the object store; image files must be readable at
            the same paths on every node).
        embedder: a registered spec (built on each actor) or an Embedder instance (pickled
            to each actor). Must be per-record (see the module docstring): the default
            ``minilm+pixels`` is not, because of its pixels part, so the default here is
            ``minilm``.
        embedder_params: parameters for ``get_embedder(spec, **params)``.
        batch_size: records per ``map_batches`` batch.
        num_actors: actors in the pool (default: one per GPU, else one per CPU).
        gpus_per_actor: GPUs each actor reserves (default 1 when the cluster has GPUs, else 0).
        out: write the vectors to this ``.npy`` file (memory-mapped, renamed into place when
            complete) instead of holding them in memory; the memory map is returned.
        progress: Ray Data's progress bars.

    Example:
        >>> X = embed_with_ray(pool, "minilm", num_actors=2)  # doctest: +SKIP
    """
    from vlprune.embed.base import Embedder
    from vlprune.embed.spec import get_embedder

    params = dict(embedder_params or {})
    if isinstance(embedder, Embedder) and params:
        raise ConfigError("embedder_params cannot be given with an embedder instance")
    fitted = pool_fitted_parts(get_embedder(embedder, **params))
    if fitted:
        raise ConfigError(f"embedder part(s) {', '.join(fitted)} fit statistics over the whole pool, so "
                          "embedding it in independent batches would change the vectors; embed such "
                          "pools in one process (vlprune embed) or use a model embedder such as minilm")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be positive, got {batch_size}")
    ray = ensure_ray()
    from ray import data as ray_data

    ray_data.DataContext.get_current().enable_progress_bars = progress
    resources = ray.cluster_resources()
    gpus = float(resources.get("GPU", 0))
    if gpus_per_actor is None:
        gpus_per_actor = 1.0 if gpus >= 1 else 0.0
    if num_actors is None:
        num_actors = int(gpus // gpus_per_actor) if gpus_per_actor else int(resources.get("CPU", 1))
    num_actors = max(1, num_actors)
    n = len(pool)
    resource_args = {"num_gpus": gpus_per_actor} if gpus_per_actor else {"num_cpus": 1}
    # Positions as in-memory blocks (no read tasks: with every CPU held by an actor, read
    # tasks would never be scheduled), one batch per block.
    blocks = np.array_split(np.arange(n, dtype=np.int64), max(1, -(-n // batch_size)))
    ds = ray_data.from_numpy(blocks).map_batches(
        _EmbedBatches, fn_constructor_kwargs={"pool": ray.put(pool), "embedder": embedder, "params": params},
        batch_size=batch_size, batch_format="numpy", compute=ray_data.ActorPoolStrategy(size=num_actors),
        **resource_args)
    return _collect(ds, n, out)


def _collect(ds, n: int, out) -> np.ndarray:
    """Stream the embedded batches into one (n, d) array (or a .npy memory map)."""
    from vlprune.io import atomic_path

    X, seen = None, np.zeros(n, bool)
    with contextlib.ExitStack() as stack:  # an error leaves no half-written `out`
        for batch in ds.iter_batches(batch_format="numpy", batch_size=None):
            pos, emb = batch["position"], np.asarray(batch["embedding"], dtype=np.float32)
            if X is None:
                shape = (n, emb.shape[1])
                X = np.empty(shape, np.float32) if out is None else np.lib.format.open_memmap(
                    stack.enter_context(atomic_path(out)), mode="w+", dtype=np.float32, shape=shape)
            X[pos] = emb
            seen[pos] = True
        if X is None or not seen.all():
            raise ConfigError(f"Ray returned embeddings for {int(seen.sum())} of {n} records")
        if out is not None:
            X.flush()
    return X if out is None else np.load(out, mmap_mode="r")
