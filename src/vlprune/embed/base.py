"""The Embedder protocol and registry.

An embedder turns a pool into one float32 vector per record (``embed(pool) -> (n, d)``).
Its :attr:`~Embedder.fingerprint` (name, version, the parameters that change the vectors,
and for model embedders a signature of the weights) and the pool's fingerprint together key
the on-disk cache (:mod:`vlprune.embed.cache`), so a changed parameter or pool never reuses
stale vectors.

Embedders are named on the command line by a *spec*:

- ``minilm`` -- a registered name;
- ``clip:openai/clip-vit-base-patch32`` or ``llava:/models/llava-mistral`` -- a name and the
  model (hub id or local folder) for embedders that take one;
- ``minilm+pixels*0.5`` -- a weighted :class:`~vlprune.embed.joint.JointEmbedder` of parts.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from vlprune.errors import ConfigError
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
        >>> get_embedder("length").name
        'length'
    """
    return embedders.register(name)


class Embedder(ABC):
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
        >>> from vlprune.embed import get_embedder
        >>> X = get_embedder("tfidf", dim=16).embed(load_pool("synthetic", size="tiny"))
        >>> X.shape, X.dtype
        ((200, 16), dtype('float32'))
    """

    name: ClassVar[str] = "embedder"
    #: Bump when the vectors an embedder produces change for the same parameters.
    version: ClassVar[int] = 1
    rowwise: ClassVar[bool] = False
    runtime_params: ClassVar[tuple[str, ...]] = ()
    #: False for embedders whose vectors are not a function of (pool, parameters) alone.
    cacheable: ClassVar[bool] = True

    @classmethod
    def param_names(cls) -> list[str]:
        """The constructor's parameter names (what ``get_embedder`` and the CLI accept)."""
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters as a JSON-friendly dict."""
        return {name: _jsonable(getattr(self, name)) for name in self.param_names()}

    def check(self) -> None:
        """Validate the parameters (a :class:`ConfigError` saying what is wrong) without
        loading a model, so a command fails before it reads any data. Override; default
        accepts everything."""
        return None

    def fingerprint_extras(self) -> dict[str, Any]:
        """What the vectors depend on besides the parameters (override; default nothing)."""
        return {}

    def fingerprint_payload(self) -> dict[str, Any]:
        """The JSON-able content the fingerprint hashes."""
        params = {k: v for k, v in self.get_params().items() if k not in self.runtime_params}
        return {"name": self.name, "version": self.version, "params": params, **self.fingerprint_extras()}

    @property
    def fingerprint(self) -> str:
        """``sha256:...`` of name, version, vector-changing parameters and extras."""
        payload = json.dumps(self.fingerprint_payload(), sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()[:32]

    def describe(self) -> dict[str, Any]:
        """What a manifest or cache sidecar records about this embedder."""
        return {"name": self.name, "version": self.version, "params": self.get_params(),
                "fingerprint": self.fingerprint}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

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


def _jsonable(value: Any) -> Any:
    if isinstance(value, Embedder):
        return value.describe()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return f"<array {value.shape} {value.dtype}>"
    if isinstance(value, Path):
        return str(value)
    return value


def get_embedder(spec: str | Embedder, **params: Any) -> Embedder:
    """An embedder from a spec or an instance (returned as is).

    Specs: a name (``tfidf``), a name with its model (``clip:PATH`` sets ``model=PATH``), or
    a joint spec (``minilm+pixels``, weights as ``minilm*1.0+pixels*0.5``). ``params`` go to
    the embedder; for a joint spec (or ``default``) each goes to every part that takes it,
    and ``model`` to the one part that takes a model.

    Example:
        >>> get_embedder("tfidf+pixels*0.5").name
        'joint'
        >>> get_embedder("clip:/models/clip").model
        '/models/clip'
    """
    if isinstance(spec, Embedder):
        if params:
            raise ConfigError("parameters cannot be given with an embedder instance")
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"an embedder spec is a non-empty string like 'minilm', got {spec!r}")
    spec = spec.strip()
    from vlprune.embed.joint import JointEmbedder

    if "+" in spec or "*" in spec:
        parts = []
        for term in spec.split("+"):
            name, _, weight = term.strip().partition("*")
            try:
                parts.append((get_embedder(name.strip()), float(weight) if weight else 1.0))
            except ValueError as exc:
                if isinstance(exc, ConfigError):
                    raise
                raise ConfigError(f"bad weight {weight!r} in embedder spec {spec!r}") from None
        return JointEmbedder(parts).with_params(**params) if params else JointEmbedder(parts)
    name, sep, model = spec.partition(":")
    name = name.strip()
    if sep:
        if not model.strip():
            raise ConfigError(f"embedder spec {spec!r} names no model after ':'")
        if "model" in params:
            raise ConfigError(f"the model is given twice: in {spec!r} and as model={params['model']!r}")
        params = {**params, "model": model.strip()}
    cls = embedders.get(name)
    if issubclass(cls, JointEmbedder) and cls.param_names() == [] and params:
        return cls().with_params(**params)
    accepted = set(cls.param_names())
    unknown = sorted(set(params) - accepted)
    if unknown:
        if unknown == ["model"]:
            raise ConfigError(f"embedder {name!r} takes no model (it needs no weights)")
        raise ConfigError(f"embedder {name!r} takes no parameter(s) {', '.join(unknown)}; "
                          f"its parameters: {', '.join(sorted(accepted)) or 'none'}")
    return cls(**params)


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

    def _embed(self, pool: Pool) -> np.ndarray:
        return self.vectors_for(pool)

    def vectors_for(self, pool: Pool) -> np.ndarray:
        """The stored vectors, as stored (a memory map stays one), once they are known to
        belong to ``pool``: a file from another pool, or of another length, is an error."""
        if self.pool_fingerprint is not None and self.pool_fingerprint != pool.fingerprint:
            raise ConfigError(f"embeddings {self.label} were computed for a different pool "
                              f"(fingerprint {self.pool_fingerprint}) than this one ({len(pool)} "
                              f"records, fingerprint {pool.fingerprint}); recompute them with "
                              "vlprune embed")
        if len(self.vectors) != len(pool):
            raise ConfigError(f"embeddings {self.label} have {len(self.vectors)} rows but the pool has "
                              f"{len(pool)} records")
        return self.vectors
