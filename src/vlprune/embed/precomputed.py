"""Vectors computed elsewhere (``--embeddings emb.npy``) wrapped as an embedder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vlprune.embed.base import Embedder
from vlprune.errors import ConfigError

if TYPE_CHECKING:
    from vlprune.data.pool import Pool


class PrecomputedEmbedder(Embedder):
    """Wraps vectors computed elsewhere (``--embeddings emb.npy``) as an embedder.

    Args:
        vectors: the (n, d) rows, in pool order.
        label: where they came from (shown in errors and manifests).
        pool_fingerprint: the fingerprint of the pool they were computed for, when known;
            embedding a different pool is then an error instead of silently wrong rows.
        source: the description of the embedder that computed them, when known.

    Example:
        >>> PrecomputedEmbedder(np.zeros((3, 2)), label="zeros").get_params()["label"]
        'zeros'
    """

    name = "precomputed"
    cacheable = False

    def __init__(
        self,
        vectors: np.ndarray,
        label: str = "array",
        pool_fingerprint: str | None = None,
        source: dict[str, Any] | None = None,
    ) -> None:
        self.vectors = vectors
        self.label = label
        self.pool_fingerprint = pool_fingerprint
        self.source = source

    @classmethod
    def from_file(cls, path: str | Path) -> PrecomputedEmbedder:
        """Read an embeddings ``.npy`` (with its sidecar, when there is one, for checks).

        Example:
            >>> import tempfile, pathlib
            >>> p = pathlib.Path(tempfile.mkdtemp()) / "emb.npy"
            >>> np.save(p, np.ones((4, 3), dtype=np.float32))
            >>> PrecomputedEmbedder.from_file(p).vectors.shape
            (4, 3)
        """
        from vlprune.embed.store import load_embeddings

        vectors, meta = load_embeddings(path)
        if meta is None:
            return cls(vectors, label=str(path))
        shard = meta.get("shard")
        if shard:
            raise ConfigError(f"{path} is shard {shard['index']}/{shard['count']} of a sharded run; "
                              "merge the shards first (vlprune embed --merge ... --out emb.npy)")
        return cls(vectors, label=str(path), pool_fingerprint=meta["pool"]["fingerprint"],
                   source=meta.get("embedder"))

    def json_params(self) -> dict[str, Any]:
        params = super().json_params()
        if not isinstance(self.vectors, np.ndarray):  # nested lists: described, not copied
            params["vectors"] = f"<{type(self.vectors).__name__} of {len(self.vectors)} rows>"
        return params

    def _embed(self, pool: Pool) -> np.ndarray:
        return self.vectors_for(pool)

    def vectors_for(self, pool: Pool) -> np.ndarray:
        """The stored vectors, as stored (a memory map stays one), once they are known to
        belong to ``pool``: a file from another pool, or of another length, is an error.
        Vectors given as nested lists are taken as an array."""
        vectors = self.vectors
        if not isinstance(vectors, np.ndarray):
            try:
                vectors = np.asarray(vectors)
            except ValueError:
                raise ConfigError(f"embeddings {self.label} are not a rectangular (n, d) array "
                                  "(rows of different lengths)") from None
        if vectors.ndim != 2:
            raise ConfigError(f"embeddings {self.label} must be a 2-D array (n, d), got shape {vectors.shape}")
        if self.pool_fingerprint is not None and self.pool_fingerprint != pool.fingerprint:
            raise ConfigError(f"embeddings {self.label} were computed for a different pool "
                              f"(fingerprint {self.pool_fingerprint}) than this one ({len(pool)} "
                              f"records, fingerprint {pool.fingerprint}); recompute them with "
                              "vlprune embed")
        if len(vectors) != len(pool):
            raise ConfigError(f"embeddings {self.label} have {len(vectors)} rows but the pool has "
                              f"{len(pool)} records")
        return vectors
