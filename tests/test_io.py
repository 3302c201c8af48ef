"""Atomic writes: the file appears whole or not at all, with a plain file's permissions."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from vlprune.io import _umask, atomic_open, atomic_path


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_files_get_the_permissions_of_a_plain_open(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with atomic_open(tmp_path / "a.txt") as f:
        f.write("done")
    with atomic_path(tmp_path / "b.npy") as tmp:
        np.save(tmp, np.arange(3))
    assert _mode(tmp_path / "a.txt") == _mode(tmp_path / "b.npy") == _mode(plain) == 0o666 & ~_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.npy", "plain.txt"]


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    with pytest.raises(RuntimeError), atomic_open(tmp_path / "out.json") as f:
        f.write("half")
        raise RuntimeError("interrupted")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.npy") as tmp:
        np.save(tmp, np.arange(3))
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
