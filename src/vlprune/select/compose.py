"""Selectors inside selectors: a selector named by a one-string spec, run on some rows.

The wrappers (``per-group``, ``semdedup``'s ``base``, ``cluster-balanced``'s ``within``) take
another selector as a parameter. On the command line that parameter is one string, a *spec*:

    NAME                          farthest-point
    NAME:KEY=VALUE,KEY=VALUE      farthest-point:metric=cosine,start=mean

Values are converted by the inner selector's annotations, as ``--param`` values are; a
comma-separated piece without ``=`` continues the previous value, so list values need no
quoting (``hand-rules:weights=2,1,1,by=topic``). In Python the parameter may also be a
:class:`~vlprune.select.base.Selector` instance.

:func:`select_rows` runs an inner selector on a subset of the rows. An embedding-based inner
selector (one with an ``embedder`` parameter) reads the wrapper's embedding rows, so the
pool is embedded once, by the wrapper's ``embedder``; any other gets the sub-pool, or, when
the wrapper was given a bare array, an array of the rows with no columns (it reads neither
fields nor vectors: ``random``), never a copy of the matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from vlprune.errors import ConfigError
from vlprune.select.base import Selection, Selector, selectors

if TYPE_CHECKING:
    from vlprune.data.pool import Pool


def parse_selector_spec(spec: str, *, what: str = "selector") -> tuple[str, dict[str, str]]:
    """``NAME[:KEY=VALUE,...]`` -> (name, {key: text}); see the module docstring.

    Example:
        >>> parse_selector_spec("hand-rules:weights=2,1,1,by=topic")
        ('hand-rules', {'weights': '2,1,1', 'by': 'topic'})
    """
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    if not name:
        raise ConfigError(f"{what} must name a selector (NAME or NAME:KEY=VALUE,...), not {spec!r}")
    params: dict[str, str] = {}
    last = None
    for piece in rest.split(",") if rest.strip() else []:
        key, sep, value = piece.partition("=")
        if sep:
            last = key.strip().replace("-", "_")
            if not last:
                raise ConfigError(f"{what}: {piece!r} in {spec!r} has no parameter name")
            params[last] = value.strip()
        elif last is not None:  # a list value's next item: weights=2,1,1
            params[last] += "," + piece.strip()
        else:
            raise ConfigError(f"{what}: {piece!r} in {spec!r} is not KEY=VALUE")
    return name, params


def build_selector(spec: str | Selector, *, what: str = "selector") -> Selector:
    """The selector a spec (or an instance) describes, built by the registry and validated;
    errors name ``what`` (e.g. ``per-group within``)."""
    if isinstance(spec, Selector):
        spec.validate()
        return spec
    if not isinstance(spec, str):
        raise ConfigError(f"{what} must be a selector spec (NAME or NAME:KEY=VALUE,...) or a Selector, "
                          f"not {spec!r}")
    name, params = parse_selector_spec(spec, what=what)
    try:
        return selectors.create(name, **params)
    except ConfigError as exc:
        raise ConfigError(f"{what} {spec!r}: {exc}") from None


def reads_embeddings(selector: Selector) -> bool:
    """Whether ``selector`` selects from embedding vectors (it has an ``embedder`` parameter)."""
    return "embedder" in selector.param_specs()


def select_rows(selector: Selector, data: Pool | np.ndarray, X: np.ndarray | None, rows: np.ndarray, q: int,
                seed: int) -> tuple[np.ndarray, Selection | None]:
    """``selector`` choosing ``q`` of ``rows`` (positions into ``data``): the chosen
    positions in ``selector``'s order, and its selection (None when it was not called).

    ``X`` holds the embedding rows of ``data`` (None when the wrapper read none). A single
    row is taken without a call; rows whose embeddings are all identical are drawn at
    random from ``seed`` (an embedding selector has nothing to select between there, and
    would refuse).
    """
    rows = np.asarray(rows, dtype=np.int64)
    if q == 0:
        return rows[:0], None
    if len(rows) == 1:
        return rows, None
    if reads_embeddings(selector):
        if X is None:
            raise ConfigError(f"selector {selector.name!r} reads embeddings, but none were computed")
        sub: Any = np.asarray(X[rows])
        if not (sub != sub[0]).any():
            return np.random.default_rng(seed).choice(rows, size=q, replace=False), None
    elif not isinstance(data, np.ndarray):
        sub = data.subset(rows)
    elif selector.requires_pool:
        raise ConfigError(f"selector {selector.name!r} reads record fields; pass a Pool, not an array")
    else:
        # Neither fields nor embeddings (random): rows without columns, not a copy of X.
        sub = np.zeros((len(rows), 0), dtype=np.float32)
    selection = selector.select(sub, q, seed=seed)
    return rows[selection.positions], selection


def interleave(chosen: list[np.ndarray]) -> np.ndarray:
    """One order of several groups' picks in which every prefix keeps the groups' shares:
    pick ``r`` of a group with ``q`` picks sits at ``(r + 0.5) / q``; ties go to the group
    with more picks, then the earlier group. Each group's own order is kept.

    Example:
        >>> interleave([np.array([1, 2, 3, 4]), np.array([9, 8])]).tolist()
        [1, 9, 2, 3, 8, 4]
    """
    chosen = [np.asarray(c, dtype=np.int64) for c in chosen]
    if not chosen:
        return np.zeros(0, dtype=np.int64)
    sizes = np.array([len(c) for c in chosen])
    group = np.repeat(np.arange(len(chosen)), sizes)
    rank = np.concatenate([np.arange(s) for s in sizes]) if sizes.sum() else np.zeros(0)
    where = (rank + 0.5) / np.maximum(sizes[group], 1)
    order = np.lexsort((group, -sizes[group], where))
    return np.concatenate(chosen)[order]
