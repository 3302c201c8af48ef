"""The on-disk embeddings format shared by the cache, ``vlprune embed --out`` and shards.

A file ``emb.npy`` (float32, ``rows x d``, read memory-mapped) comes with a JSON sidecar
``emb.npy.json``::

    {"format": "vlprune-embeddings", "format_version": 1, "vlprune_version": "...",
     "shape": [rows, d], "dtype": "float32", "sha256": "<hash of the array bytes>",
     "pool": {"fingerprint": "sha256:...", "size": n, "images": "<which pixels were found>",
              "dataset": {"loader": ..., "source": ..., "split": ..., "options": {...}}},
     "embedder": {"name": ..., "version": ..., "params": {...}, "fingerprint": "sha256:..."},
     "rows": [start, stop],                      # the pool positions these rows hold
     "shard": {"index": i, "count": N} | null}   # set on the output of --shard I/N

Both files are written atomically (temporary file + rename, the array first); a reader
checks the sidecar, the array's shape and its checksum, so a truncated or corrupt file is
reported instead of being used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vlprune.errors import DataError

if TYPE_CHECKING:
    from vlprune.data.pool import Pool
    from vlprune.embed.base import Embedder

FORMAT = "vlprune-embeddings"
FORMAT_VERSION = 1


def sidecar_path(path: str | Path) -> Path:
    """``emb.npy`` -> ``emb.npy.json``.

    Example:
        >>> sidecar_path("runs/emb.npy").as_posix()
        'runs/emb.npy.json'
    """
    path = Path(path)
    return path.with_name(path.name + ".json")


def array_digest(X: np.ndarray) -> str:
    """sha256 of the array's bytes (C order), read in blocks so a memory map stays one."""
    h = hashlib.sha256()
    X = np.asarray(X)
    step = max(1, (64 << 20) // max(1, X[:1].nbytes))
    for start in range(0, len(X), step):
        h.update(np.ascontiguousarray(X[start:start + step]).data)
    return "sha256:" + h.hexdigest()


def images_key(pool: Pool) -> str:
    """A short hash of which records' pixels were found on this machine: the same records
    with different images present embed differently, while the pool fingerprint is the same.
    """
    return hashlib.sha256(np.packbits(pool.image_available).tobytes()).hexdigest()[:16]


def pool_info(pool: Pool) -> dict[str, Any]:
    """The sidecar's description of a pool."""
    return {"fingerprint": pool.fingerprint, "size": len(pool), "images": images_key(pool),
            "dataset": pool.reference.to_dict()}


def save_embeddings(
    path: str | Path,
    X: np.ndarray,
    *,
    pool: Pool | dict[str, Any],
    embedder: Embedder | dict[str, Any],
    rows: tuple[int, int] | None = None,
    shard: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Write ``X`` (as float32) and its sidecar atomically; returns the sidecar dict.

    ``pool`` and ``embedder`` are the objects or their sidecar descriptions.

    Example:
        >>> import tempfile, pathlib
        >>> from vlprune import load_pool, get_embedder
        >>> pool = load_pool("synthetic", size="tiny")
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "emb.npy"
        >>> meta = save_embeddings(out, np.zeros((200, 2)), pool=pool, embedder=get_embedder("tfidf"))
        >>> load_embeddings(out)[0].shape, meta["rows"]
        ((200, 2), [0, 200])
    """
    from vlprune._version import __version__
    from vlprune.io import atomic_open

    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"embeddings must be a 2-d array, got shape {X.shape}")
    pool_desc = pool if isinstance(pool, dict) else pool_info(pool)
    emb_desc = embedder if isinstance(embedder, dict) else embedder.describe()
    start, stop = rows if rows is not None else (0, pool_desc["size"])
    if stop - start != len(X):
        raise ValueError(f"rows ({start}, {stop}) do not match the array's {len(X)} rows")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "vlprune_version": __version__,
        "shape": list(X.shape),
        "dtype": "float32",
        "sha256": array_digest(X),
        "pool": pool_desc,
        "embedder": emb_desc,
        "rows": [int(start), int(stop)],
        "shard": shard,
    }
    path = Path(path)
    # Array and sidecar are renamed into place together at the end; a crash in between
    # leaves a sidecar whose checksum does not match, which readers report.
    with contextlib.ExitStack() as stack:
        f = stack.enter_context(atomic_open(sidecar_path(path), "w", encoding="utf-8"))
        a = stack.enter_context(atomic_open(path, "wb"))
        np.save(a, X)
        json.dump(meta, f, indent=2)
        f.write("\n")
    return meta


def read_sidecar(path: str | Path) -> dict[str, Any] | None:
    """The sidecar of ``path`` (None when there is none); a :class:`DataError` if unreadable."""
    side = sidecar_path(path)
    if not side.exists():
        return None
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"unreadable sidecar ({exc})", file=str(side)) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(f"not a {FORMAT} sidecar", file=str(side))
    if meta.get("format_version") != FORMAT_VERSION:
        raise DataError(f"sidecar format version {meta.get('format_version')!r}; this vlprune reads "
                        f"version {FORMAT_VERSION}", file=str(side))
    for key in ("shape", "sha256", "pool", "embedder", "rows"):
        if key not in meta:
            raise DataError("sidecar lacks its entry", file=str(side), field=key)
    return meta


def _check_npy_header(path: Path) -> None:
    """Name what the file is when it is not one ``.npy`` array (an ``.npz`` archive, text)."""
    with path.open("rb") as f:
        magic = f.read(6)
    if magic.startswith(b"PK"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = ", ".join(n.removesuffix(".npy") for n in archive.namelist()) or "none"
        except zipfile.BadZipFile:
            names = "unreadable"
        raise DataError(f"an .npz archive (arrays: {names}), not one .npy array: save the (n, d) "
                        "embeddings with numpy.save", file=str(path))
    if magic != b"\x93NUMPY":
        raise DataError("not a .npy array file (numpy.save writes one)", file=str(path))


def load_embeddings(path: str | Path, *, verify: bool = True) -> tuple[np.ndarray, dict[str, Any] | None]:
    """The array of ``path`` (memory-mapped, read-only) and its sidecar (None if it has none).

    With a sidecar the array's shape, dtype and (``verify``) checksum are checked; any
    mismatch -- a truncated or overwritten file -- is a :class:`DataError` naming the file.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "plain.npy"
        >>> np.save(p, np.eye(3, dtype=np.float32))
        >>> X, meta = load_embeddings(p)
        >>> X.shape, meta
        ((3, 3), None)
    """
    path = Path(path)
    meta = read_sidecar(path)
    if not path.is_file():
        raise DataError("file not found" if not path.exists() else "not a file", file=str(path))
    _check_npy_header(path)
    try:
        X = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        if "object" in str(exc):
            raise DataError("the array holds Python objects, not numbers", file=str(path)) from None
        raise DataError(f"not a readable .npy array, perhaps truncated ({exc})", file=str(path)) from None
    if X.ndim != 2:
        raise DataError(f"expected a 2-d array (rows x dimensions), got shape {X.shape}"
                        + (" (one value per record: save X.reshape(-1, 1))" if X.ndim == 1 else ""),
                        file=str(path))
    if X.dtype.kind not in "fiu":
        what = {"c": "complex numbers", "U": "text", "S": "bytes", "b": "booleans"}.get(X.dtype.kind, "not numbers")
        raise DataError(f"expected real numbers, got dtype {X.dtype} ({what})", file=str(path))
    if meta is None:
        return X, None
    if list(X.shape) != list(meta["shape"]) or X.dtype != np.float32:
        raise DataError(f"array is {X.dtype} {list(X.shape)} but its sidecar says float32 {meta['shape']}",
                        file=str(path))
    if verify and array_digest(X) != meta["sha256"]:
        raise DataError("array does not match the checksum in its sidecar (corrupt or overwritten)",
                        file=str(path))
    return X, meta
