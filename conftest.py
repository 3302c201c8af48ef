"""Root conftest: names the docstring examples in src/ use (pytest --doctest-modules)."""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    import vlprune

    doctest_namespace.update(np=np, load_pool=vlprune.load_pool, vlprune=vlprune)
