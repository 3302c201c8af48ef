"""Importing and starting Ray, with the error a user without the extra should see."""

from __future__ import annotations

from typing import Any

from vlprune.errors import ConfigError


def require_ray():
    """The ``ray`` module, or a ConfigError that says how to install it.

    Example:
        >>> require_ray().__name__  # doctest: +SKIP
        'ray'
    """
    try:
        import ray
    except ImportError:
        raise ConfigError("this needs Ray: pip install 'vlprune[ray]'") from None
    return ray


def ensure_ray(**init_kwargs: Any):
    """Ray, connected: an existing ``ray.init`` is kept, else a local instance is started
    (``RAY_ADDRESS`` in the environment joins a cluster instead, as ``ray.init`` does)."""
    ray = require_ray()
    if not ray.is_initialized():
        ray.init(**init_kwargs)
    return ray
