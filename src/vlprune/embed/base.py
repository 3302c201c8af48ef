"""The Embedder protocol and registry.

An embedder turns a pool into one float32 vector per record (``embed(pool) -> (n, d)``).
Its :attr:`~Embedder.fingerprint` (name, version, parameters) and the pool's fingerprint
together key the on-disk cache, so a changed parameter or pool never reuses stale vectors.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from vlprune.errors import ConfigError
from vlprune.registry import Registry

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

embedders: Registry[type[Embedder]] = Registry(
    "embedder",
    builtin_modules=["vlprune.embed.tfidf", "vlprune.embed.pixels", "vlprune.embed.joint"],
    entry_point_group="vlprune.embedders",
)


def register_embedder(name: str):
    """Class decorator adding an embedder to the registry under ``name``."""
    return embedders.register(name)


class Embedder(ABC):
    """Base class of every embedder: hyperparameters in ``__init__``, work in :meth:`embed`.

    Example:
        >>> from vlprune import load_pool
        >>> from vlprune.embed import get_embedder
        >>> X = get_embedder("tfidf", dim=16).embed(load_pool("synthetic", size="tiny"))
        >>> X.shape, X.dtype
        ((200, 16), dtype('float32'))
    """

    name: ClassVar[str] = "embedder"
    #: Bump when the vectors an embedder produces change for the same parameters.
    version: ClassVar[int] = 1

    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self) -> dict[str, Any]:
        return {name: _jsonable(getattr(self, name)) for name in self.param_names()}

    def describe(self) -> dict[str, Any]:
        """What a manifest or cache sidecar records about this embedder."""
        return {"name": self.name, "version": self.version, "params": self.get_params(),
                "fingerprint": self.fingerprint}

    @property
    def fingerprint(self) -> str:
        payload = json.dumps({"name": self.name, "version": self.version, "params": self.get_params()},
                             sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()[:32]

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def embed(self, pool: Pool) -> np.ndarray:
        """One float32 row per record of ``pool``, in position order."""
        X = np.asarray(self._embed(pool))
        if X.ndim != 2 or X.shape[0] != len(pool):
            raise AssertionError(f"{type(self).__name__} returned shape {X.shape} for {len(pool)} records")
        return np.ascontiguousarray(X, dtype=np.float32)

    @abstractmethod
    def _embed(self, pool: Pool) -> np.ndarray:
        """Compute the (n, d) embeddings."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, Embedder):
        return value.describe()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return f"<array {value.shape} {value.dtype}>"
    return value


def get_embedder(spec: str | Embedder, **params: Any) -> Embedder:
    """An embedder from a name (``tfidf``), a joint spec (``tfidf+pixels``, weights as
    ``tfidf*1.0+pixels*0.5``) or an instance (returned as is).

    Example:
        >>> get_embedder("tfidf+pixels*0.5").name
        'joint'
    """
    if isinstance(spec, Embedder):
        if params:
            raise ConfigError("parameters cannot be given with an embedder instance")
        return spec
    if "+" in spec or "*" in spec:
        from vlprune.embed.joint import JointEmbedder

        if params:
            raise ConfigError(f"parameters cannot be given with a joint spec like {spec!r}")
        parts = []
        for term in spec.split("+"):
            name, _, weight = term.strip().partition("*")
            try:
                parts.append((get_embedder(name.strip()), float(weight) if weight else 1.0))
            except ValueError:
                raise ConfigError(f"bad weight {weight!r} in embedder spec {spec!r}") from None
        return JointEmbedder(parts)
    cls = embedders.get(spec)
    accepted = set(cls.param_names())
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ConfigError(f"embedder {spec!r} takes no parameter(s) {', '.join(unknown)}; "
                          f"its parameters: {', '.join(sorted(accepted)) or 'none'}")
    return cls(**params)


class PrecomputedEmbedder(Embedder):
    """Wraps vectors computed elsewhere (``--embeddings emb.npy``) as an embedder.

    Example:
        >>> PrecomputedEmbedder(np.zeros((3, 2)), label="zeros").get_params()["label"]
        'zeros'
    """

    name = "precomputed"

    def __init__(self, vectors: np.ndarray, label: str = "array") -> None:
        self.vectors = vectors
        self.label = label

    def _embed(self, pool: Pool) -> np.ndarray:
        if len(self.vectors) != len(pool):
            raise ConfigError(f"embeddings {self.label} have {len(self.vectors)} rows but the pool has "
                              f"{len(pool)} records")
        return self.vectors
