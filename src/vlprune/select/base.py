"""The Selector protocol, the Selection it returns, and the selector registry.

Conventions (scikit-learn's): a constructor only stores hyperparameters; all work happens in
:meth:`Selector.select`, which validates them and returns a :class:`Selection` kept in
selection order (apricot's ``ranking``), so a prefix of a selection is meaningful.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from vlprune.errors import ConfigError
from vlprune.params import Configurable, check_seed, make_rng
from vlprune.registry import Registry

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

selectors: Registry[type[Selector]] = Registry(
    "selector",
    builtin_modules=[
        "vlprune.select.random",
        "vlprune.select.stratified",
        "vlprune.select.rules",
        "vlprune.select.farthest_point",
        "vlprune.select.facility_location",
        "vlprune.select.ccs",
        "vlprune.select.d2_pruning",
        "vlprune.select.typicality",
        "vlprune.select.prototypes",
        "vlprune.select.semdedup",
        "vlprune.select.cluster_balanced",
        "vlprune.select.per_group",
    ],
    entry_point_group="vlprune.selectors",
)


def register_selector(name: str):
    """Class decorator adding a selector to the registry under ``name`` (its CLI name).

    Example:
        >>> @register_selector("first-k")
        ... class FirstK(Selector):
        ...     def _select(self, pool, k, rng):
        ...         return np.arange(k), None
        >>> get_selector("first-k").select(np.zeros((5, 2)), 3).positions.tolist()
        [0, 1, 2]
    """
    return selectors.register(name)


def get_selector(name: str, **params: Any) -> Selector:
    """The selector registered as ``name``, built from ``params`` and validated (text values,
    as typed on a command line, are converted by the constructor's annotations).

    Example:
        >>> get_selector("stratified", by="topic").name
        'stratified'
    """
    return selectors.create(name, **params)


def check_k(k: Any, n: int | None = None) -> int:
    """``k`` as an int, checked: a positive integer, at most the pool size ``n`` when known.

    Example:
        >>> check_k(5, 10)
        5
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ConfigError(f"k must be an integer, got {k!r}")
    if k <= 0:
        raise ConfigError(f"k must be positive, got {k}")
    if n is not None and k > n:
        raise ConfigError(f"k={k} is larger than the pool ({n} records)")
    return int(k)


def as_data(data: Any) -> Pool | np.ndarray:
    """What a selector selects from: a Pool, or an embedding array (nested lists and other
    array-likes are taken as one); anything else is a ConfigError.

    Example:
        >>> as_data([[0.0, 1.0], [1.0, 0.0]]).shape
        (2, 2)
    """
    from vlprune.data.pool import Pool

    if isinstance(data, Pool | np.ndarray):
        return data
    if isinstance(data, list | tuple) or hasattr(data, "__array__"):
        try:
            return np.asarray(data)
        except ValueError:
            raise ConfigError("data given as a list must be rows of one length (an (n, d) array)") from None
    raise ConfigError(f"select takes a Pool or an (n, d) array, not {type(data).__name__}")


@dataclass(frozen=True)
class Selection:
    """The result of a selection: positions and ids in selection order.

    Attributes:
        positions: int64 positions into the pool (or the embedding rows), in selection order.
        ids: the records' ids in the same order (positions as strings when selecting from
            a bare array).
        scores: optional per-step values (for farthest-point: the covering radius after each
            step), same length as ``positions``.
        selector: the selector's registry name; ``params`` its hyperparameters.
        seed: the seed the selection was made with.
        info: what the selection did (for farthest-point, the k-center engine's report).
        embedder: the description of the embedder the selector read (None for selectors
            that read no embeddings, or for a bare array).

    Example:
        >>> s = Selection(np.array([4, 1]), ["d", "a"], None, "random", {}, seed=0)
        >>> s.prefix(1).ids
        ['d']
    """

    positions: np.ndarray
    ids: list[str]
    scores: np.ndarray | None
    selector: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    embedder: dict[str, Any] | None = None

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def k(self) -> int:
        return len(self.positions)

    def prefix(self, k: int) -> Selection:
        """The first ``k`` selected items (for farthest-point, itself a farthest-point selection)."""
        if not 0 <= k <= len(self):
            raise ConfigError(f"prefix length must lie in [0, {len(self)}], got {k}")
        scores = None if self.scores is None else self.scores[:k]
        return Selection(self.positions[:k], self.ids[:k], scores, self.selector, self.params,
                         self.seed, self.info, self.embedder)


class Selector(Configurable, ABC):
    """Base class of every selector.

    Subclasses store hyperparameters in ``__init__`` (as attributes of the same names, with
    type annotations: they drive validation and the command line's conversions, see
    :mod:`vlprune.params`) and implement :meth:`_select`, which returns positions in
    selection order and optional per-step scores. :meth:`select` validates the parameters,
    ``k`` and the seed, makes the random Generator and packages the result.

    Example:
        >>> from vlprune import RandomSelector
        >>> RandomSelector().select(np.zeros((10, 3)), k=4, seed=0).positions.tolist()
        [2, 4, 5, 7]
    """

    name: ClassVar[str] = "selector"
    kind: ClassVar[str] = "selector"
    #: True when the selector reads record fields (a Pool is needed, not a bare array).
    requires_pool: ClassVar[bool] = False

    def select(self, data: Pool | np.ndarray, k: int, *, seed: int | None = 0) -> Selection:
        """Choose ``k`` distinct items of ``data`` (a Pool, or an (n, d) embedding array).

        Returns a :class:`Selection` in selection order. The same seed gives the same result.
        """
        self.validate()
        data = as_data(data)
        k = check_k(k, len(data))
        seed = check_seed(seed)
        if self.requires_pool and isinstance(data, np.ndarray):
            raise ConfigError(f"selector {self.name!r} reads record fields; pass a Pool, not an array")
        positions, scores, *rest = self._select(data, k, make_rng(seed))
        info = dict(rest[0]) if rest else {}
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) != k or len(np.unique(positions)) != k:  # a bug, not a user error
            raise AssertionError(f"{type(self).__name__} returned {len(positions)} positions "
                                 f"({len(np.unique(positions))} distinct) for k={k}")
        if isinstance(data, np.ndarray):
            ids = [str(p) for p in positions]
        else:
            ids = [str(i) for i in data.ids[positions]]
        return Selection(positions, ids, None if scores is None else np.asarray(scores, dtype=np.float64),
                         self.name, self.json_params(), seed, info, self.embedder_info(data))

    def embedder_info(self, data: Pool | np.ndarray) -> dict[str, Any] | None:
        """The description of the embedder this selector reads ``data`` through (None when it
        reads no embeddings); recorded in the subset manifest."""
        return None

    @abstractmethod
    def _select(self, data: Pool | np.ndarray, k: int, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray | None] | tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
        """Return (positions in selection order, per-step scores or None[, info]).

        ``info`` (optional) is a JSON-friendly report of what the selection did (for
        farthest-point, the k-center engine's run report); it lands in ``Selection.info``
        and in the subset manifest.
        """
