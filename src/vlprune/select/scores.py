"""Difficulty scores: one number per record, higher = harder, for the selectors that rank or
stratify records by difficulty (``difficulty``, ``hand-rules``, ``ccs``, ``d2-pruning``).

One protocol (:class:`DifficultyScore`), one registry (:data:`scores`). A selector's ``score``
parameter is a *spec*, resolved by :func:`get_score`:

* a registered name, optionally with options: ``default``, ``el2n``,
  ``el2n:epochs=50,folds=4`` (options are the score's constructor parameters, converted as
  on the command line);
* ``file:PATH``: per-id scores computed elsewhere (by the tiny LLaVA, a teacher model, ...);
* ``column:NAME``, or a bare name that is not registered: a numeric field of the pool
  (``grade``);
* in Python also a :class:`DifficultyScore` instance, a callable ``f(pool) -> n numbers`` or
  an array of n numbers.

=================  ========================================================  ==================
name               what it is                                                cost
=================  ========================================================  ==================
``default``        mean of grade/12, (choices-2)/3, solution words/100       O(n), fields only
                   (of the terms a record knows)
``solution-length`` words in the solution (unknown: lowest)                  O(n), fields only
``choices``        number of answer choices                                  O(n), fields only
``column:NAME``    a numeric field as it is (``grade``; unknown: lowest)     O(n), fields only
``file:PATH``      per-id scores from .npy (row order) / .json / .csv        one file read
``el2n``           EL2N of a cross-fitted proxy model (:mod:`.proxy`)        text embedding +
``loss``           cross-entropy of the proxy on the record's answer         ``folds`` probe
``margin``         best wrong choice's probability minus the answer's        fits; cached
=================  ========================================================  ==================
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from vlprune.errors import ConfigError, DataError
from vlprune.params import Configurable
from vlprune.registry import Registry

if TYPE_CHECKING:
    from vlprune.data.pool import Pool

log = logging.getLogger("vlprune")

#: What a selector's ``score`` parameter accepts (see the module docstring).
ScoreSpec = str | Callable[[Any], np.ndarray]

scores: Registry[type[DifficultyScore]] = Registry(
    "difficulty score",
    builtin_modules=["vlprune.select.scores", "vlprune.select.proxy"],
    entry_point_group="vlprune.difficulty_scores",
)


def register_score(name: str):
    """Class decorator adding a :class:`DifficultyScore` under ``name`` (its spec name)."""
    return scores.register(name)


class DifficultyScore(Configurable, ABC):
    """Base of every difficulty score: typed constructor parameters (see
    :mod:`vlprune.params`), the work in :meth:`_compute`.

    ``requires_pool``: the score reads record fields, so a bare embedding array cannot be
    scored. ``spec_arg``: the one parameter that takes the whole text after ``name:`` in a
    spec (``file:PATH``), instead of ``key=value`` options.
    """

    kind: ClassVar[str] = "difficulty score"
    requires_pool: ClassVar[bool] = True
    spec_arg: ClassVar[str | None] = None

    def compute(self, data: Pool | np.ndarray) -> np.ndarray:
        """One finite float64 per record (or array row) of ``data``, higher = harder."""
        self.validate()
        if self.requires_pool and isinstance(data, np.ndarray):
            raise ConfigError(f"difficulty score {self.describe()!r} reads record fields; select from a "
                              "pool, or give per-row scores as score=file:PATH")
        values = np.asarray(self._compute(data), dtype=np.float64)
        if values.shape != (len(data),):
            raise ConfigError(f"difficulty score {self.describe()!r} must give one number per record "
                              f"({len(data)}), got shape {values.shape}")
        if not np.isfinite(values).all():
            bad = int((~np.isfinite(values)).sum())
            raise ConfigError(f"difficulty score {self.describe()!r} has {bad} NaN or infinite values")
        return values

    @abstractmethod
    def _compute(self, data: Pool | np.ndarray) -> np.ndarray:
        """The raw values (checked by :meth:`compute`)."""

    def describe(self) -> str:
        """The spec that rebuilds this score (what manifests and reports record)."""
        specs = self.param_specs()
        if self.spec_arg is not None:
            return f"{self.name}:{getattr(self, self.spec_arg)}"
        changed = [f"{name}={_text(value)}" for name, value in self.get_params().items()
                   if specs[name].required or value != specs[name].default]
        return f"{self.name}:{','.join(changed)}" if changed else self.name


def _text(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value)


# -- resolving a spec -----------------------------------------------------------------------------
def get_score(spec: Any) -> DifficultyScore:
    """The :class:`DifficultyScore` a spec names (see the module docstring), validated.

    Example:
        >>> get_score("el2n:epochs=20").epochs, get_score("grade").describe()
        (20, 'column:grade')
    """
    if isinstance(spec, DifficultyScore):
        spec.validate()
        return spec
    if isinstance(spec, np.ndarray | list | tuple):
        return ArrayScore(np.asarray(spec))
    if callable(spec):
        return CallableScore(spec)
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"score must be a score name, file:PATH, a column name or a callable, not {spec!r}")
    name, sep, rest = spec.strip().partition(":")
    if name not in scores:
        if sep:
            raise ConfigError(f"unknown difficulty score {name!r} in {spec!r}; choose from "
                              f"{', '.join(scores.names())}, or a numeric column name")
        return ColumnScore.from_text(field=name)
    cls = scores.get(name)
    if cls.spec_arg is not None:
        if not rest:
            raise ConfigError(f"difficulty score {name!r} needs a value: {name}:VALUE")
        return cls.from_text(**{cls.spec_arg: rest})
    return cls.from_text(**parse_options(rest, spec))


def parse_options(text: str, spec: str) -> dict[str, str]:
    """``key=value,key=value`` (a value may itself hold commas: ``fields=question,hint``)."""
    options: dict[str, str] = {}
    last = None
    for piece in (p for p in text.split(",") if p.strip()) if text else ():
        key, eq, value = piece.partition("=")
        if eq and key.strip().isidentifier():
            last = key.strip().replace("-", "_")
            options[last] = value.strip()
        elif last is not None:
            options[last] += "," + piece.strip()
        else:
            raise ConfigError(f"difficulty score options must be key=value, not {piece!r} in {spec!r}")
    return options


def compute_scores(spec: Any, data: Pool | np.ndarray) -> np.ndarray:
    """``get_score(spec).compute(data)``: one float64 per record, higher = harder."""
    return get_score(spec).compute(data)


def check_score_spec(spec: Any) -> None:
    """Resolve ``spec`` (for a selector's ``_validate``): an unknown name, a bad option or a
    missing file fails before any data is read."""
    get_score(spec)


# -- the built-in scores --------------------------------------------------------------------------
@register_score("default")
class DefaultScore(DifficultyScore):
    """Difficulty in [0, 1]: the mean of grade / 12, (choices - 2) / 3 and solution length
    (words / 100, capped at 1). A record whose grade or solution is unknown has the mean of
    the terms it knows (choices are always known): an unknown grade is not grade 0."""

    def _compute(self, pool):
        t = pool.table
        grade_known, solution_known = pool.known("grade"), pool.known("solution")
        grade = t["grade"].astype("Float64").fillna(0).to_numpy(dtype=float).clip(0, 12) / 12
        n_choices = t["choices"].map(len).to_numpy(dtype=float)
        choices = ((n_choices - 2) / 3).clip(0, 1)
        words = _words(t["solution"])
        unknown = {name: int((~known).sum()) for name, known in (("grade", grade_known),
                                                                 ("solution", solution_known)) if not known.all()}
        if unknown:
            log.info("difficulty: %s unknown for %s of %d records; their difficulty is the mean of the "
                     "terms they know", " / ".join(unknown), " / ".join(map(str, unknown.values())), len(pool))
        # Summed in the same order as when every term is known, so that pools without unknowns
        # get bit-identical scores (and selections).
        total = np.where(grade_known, grade, 0.0) + choices + np.where(solution_known, (words / 100).clip(0, 1), 0.0)
        return total / (1 + grade_known.astype(float) + solution_known.astype(float))


def _words(column) -> np.ndarray:
    return np.array([len(v.split()) if isinstance(v, str) else 0 for v in column], dtype=float)


@register_score("solution-length")
class SolutionLengthScore(DifficultyScore):
    """Words in the record's solution; an unknown solution ranks below every known one."""

    def _compute(self, pool):
        words = _words(pool.table["solution"])
        known = pool.known("solution")
        return np.where(known, words, -1.0)


@register_score("choices")
class ChoicesScore(DifficultyScore):
    """The number of answer choices (more choices, lower chance of a lucky guess)."""

    def _compute(self, pool):
        return pool.table["choices"].map(len).to_numpy(dtype=float)


@register_score("column")
class ColumnScore(DifficultyScore):
    """A numeric field of the pool as it is (``column:grade``, or just ``grade``); records
    whose value is unknown rank below every known value (never read as a real value)."""

    spec_arg = "field"

    def __init__(self, field: str) -> None:
        self.field = field

    def _compute(self, pool):
        import pandas as pd

        column = pool.column(self.field, needed_by=f"difficulty score {self.field!r}")
        if not pd.api.types.is_numeric_dtype(column):
            raise ConfigError(f"difficulty score column {self.field!r} must be numeric, "
                              f"it holds {column.dtype} values")
        values = column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        known = pool.known(self.field) & ~np.isnan(values)
        if not known.all():
            # Unknown is a value of its own, ranked below every known one: never a real grade.
            floor = values[known].min() - 1 if known.any() else 0.0
            log.info("difficulty: score %r is unknown for %d of %d records; they rank below every "
                     "known value", self.field, int((~known).sum()), len(pool))
            values = np.where(known, values, floor)
        return values


@register_score("file")
class FileScore(DifficultyScore):
    """Per-record scores computed elsewhere, read from ``path``:

    * ``.npy``: one number per record (or array row), in pool order;
    * ``.json``: an object ``{id: score}``, or a list of numbers in pool order;
    * ``.csv`` / ``.tsv``: a header with columns ``id`` and ``score``.

    A mapping may hold more ids than the pool (scores of a larger pool); every record of the
    pool must have one. With a bare array the ids are the row positions ``"0"``, ``"1"``, ...
    """

    requires_pool = False
    spec_arg = "path"

    def __init__(self, path: str) -> None:
        self.path = path

    def _validate(self) -> None:
        if not Path(self.path).is_file():
            raise ConfigError(f"difficulty score file {self.path!r} does not exist")

    def _compute(self, data):
        path = Path(self.path)
        n = len(data)
        ids = [str(i) for i in range(n)] if isinstance(data, np.ndarray) else [str(i) for i in data.ids]
        suffix = path.suffix.lower()
        try:
            if suffix == ".npy":
                values = np.load(path, allow_pickle=False)
                return self._in_order(values, n)
            if suffix == ".json":
                loaded = json.loads(path.read_text())
                if isinstance(loaded, list):
                    return self._in_order(np.asarray(loaded, dtype=float), n)
                if not isinstance(loaded, dict):
                    raise DataError("must hold an object {id: score} or a list of numbers", file=str(path))
                mapping = loaded
            elif suffix in (".csv", ".tsv"):
                import pandas as pd

                table = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype={"id": str})
                if not {"id", "score"} <= set(table.columns):
                    raise DataError(f"needs columns 'id' and 'score', has {list(table.columns)}", file=str(path))
                mapping = dict(zip(table["id"], table["score"], strict=True))
            else:
                raise DataError("difficulty scores must be .npy, .json, .csv or .tsv", file=str(path))
        except (OSError, ValueError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(f"cannot read difficulty scores: {exc}", file=str(path)) from None
        missing = [i for i in ids if i not in mapping]
        if missing:
            raise DataError(f"no score for {len(missing)} of the {n} records, e.g. id {missing[0]!r}",
                            file=str(path))
        try:
            return np.array([float(mapping[i]) for i in ids])
        except (TypeError, ValueError):
            bad = next(i for i in ids if not _is_number(mapping[i]))
            raise DataError(f"score {mapping[bad]!r} is not a number", file=str(path), record=bad) from None

    def _in_order(self, values: np.ndarray, n: int) -> np.ndarray:
        if values.ndim != 1 or len(values) != n or not np.issubdtype(values.dtype, np.number):
            raise DataError(f"holds {values.dtype} values of shape {values.shape}; expected {n} numbers "
                            "in pool order", file=self.path)
        return values


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


class CallableScore(DifficultyScore):
    """A function of the pool (or array) returning one number per record (Python only)."""

    requires_pool = False

    def __init__(self, function: Callable[[Any], np.ndarray]) -> None:
        self.function = function

    def _compute(self, data):
        return self.function(data)

    def describe(self) -> str:
        return f"<callable {getattr(self.function, '__name__', type(self.function).__name__)}>"


class ArrayScore(DifficultyScore):
    """Given values, one per record in pool order (Python only)."""

    requires_pool = False

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def _compute(self, data):
        return self.values

    def describe(self) -> str:
        return f"<array of {len(self.values)} scores>"
