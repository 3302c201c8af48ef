"""Root conftest: a private cache for the whole test session, and the names the docstring
examples in src/ use (pytest --doctest-modules)."""

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

_PRIVATE: dict[str, str | None] = {}


def _user_cache() -> Path:
    root = os.environ.get("VLPRUNE_CACHE_DIR")
    if root:
        return Path(root)
    import platformdirs

    return Path(platformdirs.user_cache_dir("vlprune"))


def pytest_configure(config):
    """Point VLPRUNE_CACHE_DIR at a temporary folder before anything is collected, so that no
    test and no doctest writes into the user's cache (~/.cache/vlprune or $VLPRUNE_CACHE_DIR).

    The synthetic datasets already generated in the user's cache are linked in, each dataset
    folder on its own (never the cache itself), and only read: they are immutable, named by
    generator version, seed and sizes, and regenerating the full one would add minutes to
    every run. Everything else (new sizes, embeddings, tokenizers, hf images) is written to
    the temporary folder, which is removed at the end. VLPRUNE_TEST_FRESH_CACHE=1 generates
    everything afresh.
    """
    user = _user_cache()
    private = Path(tempfile.mkdtemp(prefix="vlprune-test-cache-"))
    if os.environ.get("VLPRUNE_TEST_FRESH_CACHE") != "1" and (user / "synthetic").is_dir():
        (private / "synthetic").mkdir()
        for folder in sorted((user / "synthetic").iterdir()):
            if not folder.name.startswith(".") and (folder / "problems.json").is_file():
                (private / "synthetic" / folder.name).symlink_to(folder.resolve(), target_is_directory=True)
    _PRIVATE.update(previous=os.environ.get("VLPRUNE_CACHE_DIR"), private=str(private))
    os.environ["VLPRUNE_CACHE_DIR"] = str(private)


def pytest_unconfigure(config):
    if "private" not in _PRIVATE:
        return
    if _PRIVATE["previous"] is None:
        os.environ.pop("VLPRUNE_CACHE_DIR", None)
    else:
        os.environ["VLPRUNE_CACHE_DIR"] = _PRIVATE["previous"]
    shutil.rmtree(_PRIVATE["private"], ignore_errors=True)  # links are removed, not followed


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    import vlprune

    doctest_namespace.update(np=np, load_pool=vlprune.load_pool, vlprune=vlprune)
