"""The Embedder protocol and registry.

An embedder turns a pool into one float32 vector per record (``embed(pool) -> (n, d)``).
Its :attr:`~Embedder.fingerprint` (name, version, the parameters that change the vectors,
and for model embedders a signature of the weights) and the pool's fingerprint together key
the on-disk cache (:mod:`vlprune.embed.cache`), so a changed parameter or pool never reuses
stale vectors.

Embedders are named on the command line by a *spec* (``minilm``, ``clip:PATH``,
``minilm+pixels*0.5``), read by :func:`vlprune.embed.spec.get_embedder`; this module builds
one registered embedder from its name (:func:`make_embedder`).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from vlprune.errors import ConfigError
from vlprune.params import Configurable, to_jsonable
from vlprune.registry import Registry

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

embedders: Registry[type[Embedder]] = Registry(
    "embedder",
    builtin_modules=[
        "vlprune.embed.tfidf",
        "vlprune.embed.pixels",
        "vlprune.embed.joint",
        "vlprune.embed.minilm",
        "vlprune.embed.clip",
        "vlprune.embed.llava",
    ],
    entry_point_group="vlprune.embedders",
)


def register_embedder(name: str):
    """Class decorator adding an embedder to the registry under ``name``.

    Example:
        >>> @register_embedder("length")
        ... class LengthEmbedder(Embedder):
        ...     rowwise = True
        ...     def _embed(self, pool):
        ...         return np.array([[len(t)] for t in pool.texts()], dtype=np.float32)
        >>> make_embedder("length").name
        'length'
    """
    return embedders.register(name)


class Embedder(Configurable, ABC):
    """Base class of every embedder: hyperparameters in ``__init__``, work in :meth:`embed`.

    Subclasses implement :meth:`_embed` (the whole pool -> ``(n, d)``) and declare:

    - ``rowwise``: True when a record's vector depends on that record alone (the model
      embedders). Then a shard embeds only its own rows. False (the default) when vectors
      are fitted on the whole pool (TF-IDF, pixel standardisation): a shard computes the
      whole pool and keeps its rows, so shards still merge into the unsharded result.
    - ``runtime_params``: parameters that change how fast the vectors come, not what they
      are (batch size, device, progress bar). They are left out of the fingerprint, so they
      do not invalidate the cache.
    - :meth:`fingerprint_extras`: anything else the vectors depend on (model weights,
      numeric precision).

    Example:
        >>> from vlprune import load_pool
        >>> X = make_embedder("tfidf", dim=16).embed(load_pool("synthetic", size="tiny"))
        >>> X.shape, X.dtype
        ((200, 16), dtype('float32'))
    """

    name: ClassVar[str] = "embedder"
    kind: ClassVar[str] = "embedder"
    #: Bump when the vectors an embedder produces change for the same parameters.
    version: ClassVar[int] = 1
    rowwise: ClassVar[bool] = False
    runtime_params: ClassVar[tuple[str, ...]] = ()
    #: False for embedders whose vectors are not a function of (pool, parameters) alone.
    cacheable: ClassVar[bool] = True

    def check(self) -> None:
        """Validate the parameters (:meth:`~vlprune.params.Configurable.validate`) without
        loading a model, so a command fails before it reads any data."""
        self.validate()

    def fingerprint_extras(self) -> dict[str, Any]:
        """What the vectors depend on besides the parameters (override; default nothing)."""
        return {}

    def fingerprint_payload(self) -> dict[str, Any]:
        """The JSON-able content the fingerprint hashes."""
        params = {k: v for k, v in self.json_params().items() if k not in self.runtime_params}
        return {"name": self.name, "version": self.version, "params": params, **self.fingerprint_extras()}

    @property
    def fingerprint(self) -> str:
        """``sha256:...`` of name, version, vector-changing parameters and extras."""
        payload = json.dumps(self.fingerprint_payload(), sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()[:32]

    def describe(self) -> dict[str, Any]:
        """What a manifest or cache sidecar records about this embedder: with ``extras``, what
        the vectors depend on besides the parameters (a model's weights signature, the
        precision), when there is any."""
        extras = to_jsonable(self.fingerprint_extras())
        return {"name": self.name, "version": self.version, "params": self.json_params(),
                "fingerprint": self.fingerprint, **({"extras": extras} if extras else {})}

    def embed(self, pool: Pool, rows: tuple[int, int] | None = None) -> np.ndarray:
        """One float32 row per record of ``pool`` in position order; with ``rows=(start,
        stop)`` only those positions, each row equal to the same row of the full result."""
        start, stop = check_rows(rows, len(pool))
        if (start, stop) == (0, len(pool)):
            X = self._embed(pool)
        elif self.rowwise:
            X = self._embed(pool.subset(np.arange(start, stop)))
        else:
            X = np.asarray(self._embed(pool))[start:stop]
        return self._checked(X, stop - start)

    def _checked(self, X: np.ndarray, n: int) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[0] != n:
            raise AssertionError(f"{type(self).__name__} returned shape {X.shape} for {n} records")
        return np.ascontiguousarray(X, dtype=np.float32)

    @abstractmethod
    def _embed(self, pool: Pool) -> np.ndarray:
        """Compute the (n, d) embeddings of every record of ``pool``."""


def check_rows(rows: tuple[int, int] | None, n: int) -> tuple[int, int]:
    """Validate a ``(start, stop)`` row range of an ``n``-record pool (None: all rows).

    Example:
        >>> check_rows(None, 10), check_rows((2, 5), 10)
        ((0, 10), (2, 5))
    """
    if rows is None:
        return 0, n
    try:
        start, stop = (int(r) for r in rows)
    except (TypeError, ValueError):
        raise ConfigError(f"rows must be a (start, stop) pair, got {rows!r}") from None
    if not 0 <= start <= stop <= n:
        raise ConfigError(f"rows ({start}, {stop}) do not lie within the pool's {n} records")
    return start, stop


def make_embedder(term: str | Embedder, *, validate: bool = True, **params: Any) -> Embedder:
    """One registered embedder from its name, or ``NAME:MODEL`` (which sets ``model``), built
    from ``params`` and validated (unless ``validate=False``: a joint embedder's part, whose
    parameters may still come); an instance is returned as is. Joint specs
    (``minilm+pixels``) are :func:`vlprune.embed.spec.get_embedder`'s.

    Example:
        >>> make_embedder("clip:/models/clip").model
        '/models/clip'
    """
    if isinstance(term, Embedder):
        if params:
            raise ConfigError("parameters cannot be given with an embedder instance")
        return term
    if not isinstance(term, str) or not term.strip():
        raise ConfigError(f"an embedder spec is a non-empty string like 'minilm', got {term!r}")
    name, sep, model = term.strip().partition(":")
    name = name.strip()
    if sep:
        if not model.strip():
            raise ConfigError(f"embedder spec {term!r} names no model after ':'")
        if "model" in params:
            raise ConfigError(f"the model is given twice: in {term!r} and as model={params['model']!r}")
        params = {**params, "model": model.strip()}
    cls = embedders.get(name)
    if "model" in params and "model" not in cls.param_specs():
        raise ConfigError(f"embedder {name!r} takes no model (it needs no weights)")
    return embedders.create(name, validate=validate, **params)
