"""Small numeric helpers shared by every layer (embedders, selectors, scorers)."""

from __future__ import annotations

import numpy as np


def l2_normalise(X: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """Rows of ``X`` scaled to unit length, as float32 (all-zero rows stay zero).

    With ``out`` (a float32 array of ``X``'s shape, possibly ``X`` itself) the result is
    written there instead of a new array.

    Example:
        >>> l2_normalise(np.array([[0.0, 2.0], [0.0, 0.0]])).tolist()
        [[0.0, 1.0], [0.0, 0.0]]
    """
    X = np.asarray(X)
    norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))[:, None]
    scale = (1.0 / np.maximum(norms, 1e-12)).astype(np.float32)
    if out is None:
        return np.asarray(X, dtype=np.float32) * scale
    np.multiply(X, scale, out=out)
    return out
