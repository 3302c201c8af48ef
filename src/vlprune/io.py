"""Small I/O helpers: atomic writes and the user cache directory."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def cache_dir(*parts: str) -> Path:
    """The vlprune cache directory (``$VLPRUNE_CACHE_DIR`` or the platform's user cache dir).

    Example:
        >>> cache_dir("synthetic").name
        'synthetic'
    """
    root = os.environ.get("VLPRUNE_CACHE_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("vlprune")
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _temp_beside(path: Path, suffix: str) -> tuple[int, str, Path]:
    """A new temporary file beside ``path``'s real target (a symlink is written through, not
    replaced), with the mode the target has, or else the one a plain ``open`` would give
    (mkstemp's is owner-only, which the rename would keep). Returns (fd, temp, target)."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    os.chmod(tmp, mode)
    return fd, tmp, target


@functools.cache
def _umask() -> int:
    # Reading the umask means setting it; done once, so threads never see a zero umask later.
    umask = os.umask(0)
    os.umask(umask)
    return umask


def make_temp_dir(parent: str | os.PathLike, prefix: str, suffix: str = "") -> Path:
    """A new, uniquely named folder in ``parent`` with the mode a plain ``mkdir`` gives
    (``tempfile.mkdtemp``'s is owner-only, which a rename into a shared cache would keep).

    Example:
        >>> import tempfile, stat
        >>> d = make_temp_dir(tempfile.mkdtemp(), ".work.")
        >>> stat.S_IMODE(d.stat().st_mode) == 0o777 & ~_umask()
        True
    """
    Path(parent).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    os.chmod(path, 0o777 & ~_umask())
    return path


#: The lock file inside a working folder; a live process holds an exclusive lock on it.
_LOCK_NAME = ".lock"


@contextlib.contextmanager
def work_dir(parent: str | os.PathLike, prefix: str) -> Iterator[Path]:
    """A private working folder in ``parent`` (see :func:`make_temp_dir`), locked for as long
    as this process lives in the block and removed at its end. A process that is killed
    cannot remove it; :func:`remove_stale_dirs` does later, seeing that no live process
    holds the lock any more."""
    work = make_temp_dir(parent, prefix)
    lock = _lock(work / _LOCK_NAME, create=True)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if lock is not None:
            os.close(lock)


def remove_stale_dirs(parent: str | os.PathLike, prefix: str = ".", *, min_age: float = 120.0,
                      unlocked_age: float = 6 * 3600.0) -> list[Path]:
    """Remove the working folders (names starting with ``prefix``) that processes killed
    mid-work left in ``parent``; returns the ones removed.

    A folder goes when it is older than ``min_age`` seconds and no live process holds its
    lock (see :func:`work_dir`); one without a lock file (an older vlprune's, or where file
    locks do not work) only once it is older than ``unlocked_age``. Safe while other
    processes work in ``parent``: a live one's folder is never touched.
    """
    import time

    removed = []
    now = time.time()
    try:
        entries = [e for e in os.scandir(parent) if e.name.startswith(prefix) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return removed
    for entry in entries:
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if age < min_age:
            continue
        lock, held = _try_lock(Path(entry.path, _LOCK_NAME))
        if held or (lock is None and age < unlocked_age):
            continue
        try:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
        finally:
            if lock is not None:
                os.close(lock)
    return removed


def _lock(path: Path, *, create: bool) -> int | None:
    """An open descriptor holding an exclusive lock on ``path``, or None (see _try_lock)."""
    return _try_lock(path, create=create)[0]


def _try_lock(path: Path, *, create: bool = False) -> tuple[int | None, bool]:
    """(descriptor holding an exclusive lock on ``path``, or None; whether another process
    holds it). None and False: the file is missing, or locks do not work here."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no locks, folders are judged by age alone
        return None, False
    try:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o666 & ~_umask())
    except OSError:
        return None, False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None, True
    except OSError:
        os.close(fd)
        return None, False
    return fd, False


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` only on success.

    A crash or an exception inside the block leaves no half-written ``path`` behind.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
        >>> with atomic_open(target) as f:
        ...     _ = f.write("done")
        >>> target.read_text()
        'done'
    """
    fd, tmp, target = _temp_beside(Path(path), ".tmp")
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for writers that want a file name
    (``np.save``, ``torch.save``, ``fig.savefig``); rename it over ``path`` on success."""
    path = Path(path)
    fd, tmp, target = _temp_beside(path, path.suffix or ".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON atomically."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write("\n")


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, before hours of work, when ``path`` cannot be written.

    Creates the parent folder if needed; raises :class:`vlprune.errors.ConfigError` naming
    the path otherwise.

    Example:
        >>> import tempfile, pathlib
        >>> check_writable(pathlib.Path(tempfile.mkdtemp()) / "new" / "out.json").name
        'out.json'
    """
    from vlprune.errors import ConfigError

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"cannot write {path}: it is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not os.access(path.parent, os.W_OK):
        raise ConfigError(f"cannot write {path}: folder {path.parent} is not writable")
    return path


def check_outputs(outputs: dict[str, str | os.PathLike | None],
                  inputs: list[str | os.PathLike | None]) -> None:
    """Refuse, before any work, outputs that would destroy an input of the same command or
    each other: an output that resolves (symlinks followed) to an input file, or to any
    file inside an input folder (a dataset folder is never written into), and two outputs
    that are the same file. ``outputs`` maps a flag (``--out``) to its path.

    Example:
        >>> check_outputs({"--out": "a.json", "--export-llava": "./a.json"}, [])
        Traceback (most recent call last):
        ...
        vlprune.errors.ConfigError: --out and --export-llava name the same file (./a.json); give them different paths
    """
    from vlprune.errors import ConfigError

    seen: dict[str, str] = {}
    for flag, path in outputs.items():
        if not path:
            continue
        real = os.path.realpath(path)
        if real in seen:
            raise ConfigError(f"{seen[real]} and {flag} name the same file ({path}); give them different paths")
        seen[real] = flag
        for source in inputs:
            if not source:
                continue
            source_real = os.path.realpath(source)
            inside = os.path.isdir(source_real) and os.path.exists(real) and \
                os.path.commonpath([source_real, real]) == source_real
            if real == source_real or inside:
                raise ConfigError(f"{flag} {path} would overwrite an input of this command ({source}); "
                                  "write it somewhere else")
