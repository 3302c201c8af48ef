"""Lazy package attributes: ``from vlprune import X`` imports X's module on first use, so that
``import vlprune`` (and ``vlprune --help``) never pays for torch or transformers."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_getattr(package: str, exports: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``package``: ``exports`` maps a name to the module
    defining it; the value is imported on first access and kept in ``namespace``.

    Example:
        >>> ns = {}
        >>> getter = lazy_getattr("pkg", {"sqrt": "math"}, ns)
        >>> getter("sqrt")(9.0), "sqrt" in ns
        (3.0, True)
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
