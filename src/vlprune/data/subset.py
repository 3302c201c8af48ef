"""The subset manifest (``subset.json``): a selection plus everything needed to find its
records again -- the dataset reference and fingerprint, the selector and its parameters,
the embedder, the seed, and the ids in selection order.

It is the contract between selection and training: ``vlprune select`` writes it, the
trainer reads it and never a selector, so it lives in the data layer below both.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import platform
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from vlprune._version import __version__
from vlprune.data.pool import DatasetRef, Pool
from vlprune.errors import ConfigError, DataError
from vlprune.io import atomic_path, write_json

if TYPE_CHECKING:
    from vlprune.select.base import Selection

FORMAT = "vlprune.subset"
FORMAT_VERSION = 1


#: The packages whose versions decide a selection (and the training on it), by import name;
#: each is looked up under the distribution names it ships as.
VERSIONED_PACKAGES: dict[str, tuple[str, ...]] = {
    "vlprune": ("vlprune",),
    "numpy": ("numpy",),
    "faiss": ("faiss-cpu", "faiss-gpu", "faiss-gpu-cu12", "faiss-gpu-cu11", "faiss"),
    "torch": ("torch",),
    "transformers": ("transformers",),
    "sentence-transformers": ("sentence-transformers",),
    "scikit-learn": ("scikit-learn",),
}


def library_versions() -> dict[str, str | None]:
    """The installed version of each of :data:`VERSIONED_PACKAGES` (None when it is not
    installed) and Python's, read from the installed metadata: nothing heavy is imported.

    Example:
        >>> v = library_versions()
        >>> sorted(v)[:3], v["numpy"] == np.__version__
        (['faiss', 'numpy', 'python'], True)
    """
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name, distributions in VERSIONED_PACKAGES.items():
        out[name] = None
        for dist in distributions:
            try:
                out[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    if out["vlprune"] is None:  # run from a source tree that is not installed
        out["vlprune"] = __version__
    return out


def _check_dataset(ds: dict[str, Any], ref: DatasetRef, path: str) -> None:
    """The manifest's dataset entry, checked against the loader it names: one line naming
    the file and the field for an unknown loader or an option that loader does not take."""
    import inspect

    from vlprune.data.loaders import loaders

    if not isinstance(ref.loader, str) or not (ref.source is None or isinstance(ref.source, str)):
        raise DataError("expected a loader name and a source path (or null)", file=path, field="dataset")
    if ds.get("options") is not None and not isinstance(ds["options"], dict):
        raise DataError("expected an object of loader options", file=path, field="dataset.options")
    if not isinstance(ds.get("size", 0), int) or not isinstance(ds.get("fingerprint", ""), str | None):
        raise DataError("expected an integer size and a fingerprint string", file=path, field="dataset")
    if ref.loader not in loaders:  # a plugin not installed here, or an in-memory pool's: said on loading
        return
    loader = loaders.get(ref.loader)
    try:
        params = inspect.signature(loader).parameters
    except (TypeError, ValueError):  # a builtin or C callable: nothing to check against
        return
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    named = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    accepted = [n for n in named[1:] if n != "split"]  # the first is the source
    unknown = sorted(set(ref.options) - set(accepted))
    if unknown:
        raise DataError(f"loader {ref.loader!r} takes no option(s) {', '.join(unknown)} "
                        f"(its options: {', '.join(accepted) or 'none'})", file=path, field="dataset.options")


@dataclass
class SubsetManifest:
    """A subset manifest in memory. ``ids`` are in selection order.

    Example:
        >>> from vlprune import RandomSelector, load_pool
        >>> pool = load_pool("synthetic", size="tiny")
        >>> m = SubsetManifest.from_selection(RandomSelector().select(pool, 5, seed=0), pool)
        >>> m.k, m.dataset.loader
        (5, 'synthetic')
    """

    dataset: DatasetRef
    dataset_fingerprint: str
    dataset_size: int
    selector: str
    selector_params: dict[str, Any]
    seed: int | None
    ids: list[str]
    scores: list[float | None] | None = None
    embedder: dict[str, Any] | None = None
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    vlprune_version: str = __version__
    info: dict[str, Any] = field(default_factory=dict)
    #: The versions of the packages that decide the result (see :func:`library_versions`),
    #: as they were when the subset was made; {} in manifests older than this field.
    versions: dict[str, str | None] = field(default_factory=lambda: library_versions())

    @property
    def k(self) -> int:
        return len(self.ids)

    @classmethod
    def from_selection(cls, selection: Selection, pool: Pool) -> SubsetManifest:
        """The manifest of ``selection`` made from ``pool`` (the embedder, if the selector
        read one, comes with the selection)."""
        scores = None
        if selection.scores is not None:
            scores = [float(s) if np.isfinite(s) else None for s in selection.scores]
        return cls(
            dataset=pool.reference,
            dataset_fingerprint=pool.fingerprint,
            dataset_size=len(pool),
            selector=selection.selector,
            selector_params=selection.params,
            seed=selection.seed,
            ids=list(selection.ids),
            scores=scores,
            embedder=selection.embedder,
            info=dict(selection.info),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "dataset": {**self.dataset.to_dict(), "fingerprint": self.dataset_fingerprint,
                        "size": self.dataset_size},
            "selector": {"name": self.selector, "params": self.selector_params},
            "embedder": self.embedder,
            "seed": self.seed,
            "k": self.k,
            "ids": self.ids,
            "scores": self.scores,
            "info": self.info,
            "vlprune_version": self.vlprune_version,
            "versions": self.versions,
            "created": self.created,
        }

    def save(self, path: str | os.PathLike, *, export_llava: str | os.PathLike | None = None,
             pool: Pool | None = None) -> None:
        """Write the manifest atomically (a temporary file renamed into place); with
        ``export_llava`` also the subset's records of ``pool`` as LLaVA training JSON. Both
        files are written beside their targets first and renamed together, so an error
        leaves neither behind."""
        if export_llava is None:
            write_json(path, self.to_dict(), indent=1)
            return
        if pool is None:
            raise ConfigError("the LLaVA export needs the pool the subset was selected from")
        from vlprune.data.export import export_llava_json

        positions = self.positions_in(pool)
        with contextlib.ExitStack() as stack:
            write_json(stack.enter_context(atomic_path(path)), self.to_dict(), indent=1)
            export_llava_json(pool, positions, stack.enter_context(atomic_path(export_llava)))

    @classmethod
    def load(cls, path: str | os.PathLike) -> SubsetManifest:
        """Read and check a manifest; errors name the file and the field."""
        from vlprune.data.loaders import read_json

        path = str(path)
        d = read_json(path)
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise DataError(f"not a vlprune subset manifest (expected \"format\": \"{FORMAT}\")", file=path)
        if d.get("format_version") != FORMAT_VERSION:
            raise DataError(f"manifest format version {d.get('format_version')!r} is not supported "
                            f"(this vlprune reads version {FORMAT_VERSION})", file=path, field="format_version")
        for key in ("dataset", "selector", "ids"):
            if key not in d:
                raise DataError("missing required field", file=path, field=key)
        ids = d["ids"]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise DataError("expected a list of string ids", file=path, field="ids")
        if len(set(ids)) != len(ids):
            raise DataError("ids repeat", file=path, field="ids")
        ds = d["dataset"]
        try:
            ref = DatasetRef.from_dict(ds)
        except (KeyError, TypeError, AttributeError, ValueError):
            raise DataError("expected {loader, source, split, options}", file=path, field="dataset") from None
        _check_dataset(ds, ref, path)
        selector = d["selector"]
        if not isinstance(selector, dict) or not isinstance(selector.get("name"), str):
            raise DataError("expected an object {\"name\": ..., \"params\": {...}}", file=path, field="selector")
        if not isinstance(selector.get("params", {}), dict):
            raise DataError("expected an object of parameters", file=path, field="selector.params")
        for key, kind in (("embedder", dict), ("info", dict), ("versions", dict), ("scores", list)):
            if d.get(key) is not None and not isinstance(d[key], kind):
                raise DataError(f"expected {'an object' if kind is dict else 'a list'} or null", file=path, field=key)
        seed = d.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise DataError("expected an integer or null", file=path, field="seed")
        return cls(
            dataset=ref,
            dataset_fingerprint=ds.get("fingerprint") or "",
            dataset_size=ds.get("size") or 0,
            selector=selector["name"],
            selector_params=selector.get("params", {}),
            seed=seed,
            ids=ids,
            scores=d.get("scores"),
            embedder=d.get("embedder"),
            created=d.get("created", ""),
            vlprune_version=d.get("vlprune_version", ""),
            info=d.get("info") or {},
            versions=d.get("versions") or {},
        )

    def ids_hash(self) -> str:
        """sha256 of the ids in selection order (one per line): what names the subset
        itself, whatever the file around it says.

        Example:
            >>> m = SubsetManifest(DatasetRef("synthetic", None, "train"), "", 0, "random", {}, 0, ["a", "b"])
            >>> m.ids_hash()[:15]
            'sha256:7e18f737'
        """
        return "sha256:" + hashlib.sha256("\n".join(self.ids).encode("utf-8")).hexdigest()

    def positions_in(self, pool: Pool, *, allow_mismatch: bool = False) -> np.ndarray:
        """Positions of this subset's ids in ``pool``.

        Refuses a pool whose fingerprint differs from the manifest's unless
        ``allow_mismatch`` (then every id must still be found).
        """
        if self.dataset_fingerprint and pool.fingerprint != self.dataset_fingerprint and not allow_mismatch:
            raise ConfigError(
                f"the dataset differs from the one this subset was selected from "
                f"(fingerprint {pool.fingerprint} vs {self.dataset_fingerprint} in the manifest, "
                f"{len(pool)} vs {self.dataset_size} records); pass --allow-mismatch to use it anyway"
            )
        return pool.positions_of(self.ids, what="subset ids")

    def load_pool(self, **overrides: Any) -> Pool:
        """Load the pool this subset was selected from (options can be overridden)."""
        from vlprune.data.loaders import load_pool

        ref = self.dataset
        options = {**ref.options, **{k: v for k, v in overrides.items() if k not in ("source", "split")}}
        return load_pool(ref.loader, overrides.get("source", ref.source),
                         split=overrides.get("split", ref.split), **options)
