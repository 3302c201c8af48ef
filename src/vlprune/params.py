"""One parameter system for everything built from constructor hyperparameters: selectors,
embedders and scorers.

The conventions are scikit-learn's. A constructor only stores its arguments, as attributes
of the same names; :class:`Configurable` then gives every such class

* :meth:`~Configurable.get_params` / :meth:`~Configurable.set_params` /
  :meth:`~Configurable.clone`;
* :meth:`~Configurable.validate`, the ONE place a parameter's value is checked: against its
  type annotation (``Literal`` choices, ``bool``, ``int``, ``float``, ``None``) and an
  optional :class:`Range` (``Annotated[int, Range(1)]``), then by the class's own
  :meth:`~Configurable._validate` hook for rules that involve several parameters;
* :meth:`~Configurable.param_specs`: name, annotation, default and choices of every
  parameter, which is what ``--help`` lists;
* :meth:`~Configurable.from_text`: the constructor called with command-line text, each
  value converted by its annotation (:func:`parse_value`, the one text-to-value parser).

:func:`make_rng` is the one seed helper: every random choice in vlprune draws from a
``numpy.random.Generator`` made by it, never from global state.
"""

from __future__ import annotations

import builtins
import collections.abc
import inspect
import sys
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

import numpy as np

from vlprune.errors import ConfigError

_MISSING = inspect.Parameter.empty


@dataclass(frozen=True)
class Range:
    """Bounds a numeric parameter must respect: ``Annotated[float, Range(0, 1)]``.

    ``lo`` and ``hi`` are inclusive unless ``lo_open`` / ``hi_open``; ``None`` is unbounded.

    Example:
        >>> Range(0, 1, lo_open=True).describe()
        'in (0, 1]'
    """

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def contains(self, value: float) -> bool:
        if self.lo is not None and (value < self.lo or (self.lo_open and value == self.lo)):
            return False
        return not (self.hi is not None and (value > self.hi or (self.hi_open and value == self.hi)))

    def describe(self) -> str:
        if self.hi is None:
            return f"{'>' if self.lo_open else '>='} {self.lo:g}" if self.lo is not None else "any number"
        if self.lo is None:
            return f"{'<' if self.hi_open else '<='} {self.hi:g}"
        return f"in {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}{')' if self.hi_open else ']'}"


@dataclass(frozen=True)
class ParamSpec:
    """One constructor parameter: its name, resolved annotation and default."""

    name: str
    annotation: Any
    default: Any = _MISSING

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    @property
    def choices(self) -> tuple[Any, ...] | None:
        """The allowed values of a ``Literal`` parameter (None for any other)."""
        found = [a for a in _members(self.annotation) if get_origin(a) is Literal]
        return tuple(v for a in found for v in get_args(a)) if found else None

    def help(self) -> str:
        """What ``--help`` says of it: choices or type, and the default."""
        choices = self.choices
        kind = "|".join(str(c) for c in choices) if choices else _type_name(self.annotation)
        if self.required:
            return f"{kind}; required"
        default = self.default
        if isinstance(default, tuple | list):
            default = ",".join(str(v) for v in default)
        return f"{kind}; default {default}"


class Configurable:
    """Base of every class configured by constructor hyperparameters (see the module doc).

    Example:
        >>> class Scaler(Configurable):
        ...     kind = "scaler"
        ...     def __init__(self, factor: Annotated[float, Range(0, lo_open=True)] = 1.0,
        ...                  mode: Literal["mul", "add"] = "mul") -> None:
        ...         self.factor = factor
        ...         self.mode = mode
        >>> Scaler.from_text(factor="2.5").get_params()
        {'factor': 2.5, 'mode': 'mul'}
        >>> Scaler(mode="div").validate()
        Traceback (most recent call last):
        ...
        vlprune.errors.ConfigError: scaler 'Scaler': mode must be one of mul, add, not 'div'
    """

    #: What the class is, in messages ("selector", "embedder", "scorer").
    kind: ClassVar[str] = "component"
    #: The registry name (set by the registry's decorator).
    name: ClassVar[str] = ""

    # -- introspection ---------------------------------------------------------------------------
    @classmethod
    def param_specs(cls) -> dict[str, ParamSpec]:
        """Every constructor parameter (``self``, ``*args`` and ``**kwargs`` excluded)."""
        cached = cls.__dict__.get("_param_specs")
        if cached is None:
            hints = _annotations(cls.__init__)
            signature = inspect.signature(cls.__init__)
            cached = {p.name: ParamSpec(p.name, hints.get(p.name, Any), p.default)
                      for p in signature.parameters.values()
                      if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
            cls._param_specs = cached
        return cached

    @classmethod
    def param_names(cls) -> list[str]:
        return list(cls.param_specs())

    @classmethod
    def label(cls) -> str:
        return f"{cls.kind} {cls.name or cls.__name__!r}"

    # -- scikit-learn's three -------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The hyperparameters as given (not copied, not converted)."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any) -> Configurable:
        """Set hyperparameters by name; an unknown name is an error. Returns ``self``."""
        self._check_names(params)
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def clone(self) -> Configurable:
        """A new, unfitted instance with the same hyperparameters."""
        return type(self)(**self.get_params())

    def json_params(self) -> dict[str, Any]:
        """The hyperparameters as JSON (what manifests, caches and reports record): nested
        components by their description, arrays by shape, callables by name."""
        return {name: to_jsonable(value) for name, value in self.get_params().items()}

    # -- validation -----------------------------------------------------------------------------
    def validate(self) -> None:
        """Check every parameter against its annotation, then :meth:`_validate`; raise a
        :class:`~vlprune.errors.ConfigError` naming the parameter and what was wrong."""
        for name, spec in self.param_specs().items():
            problem = check_value(getattr(self, name), spec.annotation)
            if problem:
                raise ConfigError(f"{self.label()}: {name} {problem}, not {getattr(self, name)!r}")
        self._validate()

    def _validate(self) -> None:
        """Rules a single annotation cannot state (override; default none)."""

    # -- construction from text -----------------------------------------------------------------
    @classmethod
    def from_text(cls, *, validate: bool = True, **params: Any) -> Configurable:
        """The constructor called with ``params``, where every ``str`` value for a parameter
        that is not a plain string is converted by the parameter's annotation; the result
        is validated unless ``validate=False`` (for a part that is completed later)."""
        cls._check_names(params)
        specs = cls.param_specs()
        values = {name: parse_value(value, specs[name].annotation, name=name) if isinstance(value, str) else value
                  for name, value in params.items()}
        obj = cls(**values)
        if validate:
            obj.validate()
        return obj

    @classmethod
    def _check_names(cls, params: dict[str, Any]) -> None:
        unknown = sorted(set(params) - set(cls.param_specs()))
        if unknown:
            accepted = ", ".join(cls.param_names()) or "none"
            raise ConfigError(f"{cls.label()} takes no parameter(s) {', '.join(unknown)}; "
                              f"its parameters: {accepted}")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def to_jsonable(value: Any) -> Any:
    """A JSON-friendly stand-in for a parameter value.

    Example:
        >>> to_jsonable((1, np.int64(2))), to_jsonable(np.zeros((2, 3)))
        ([1, 2], '<array (2, 3) float64>')
    """
    if hasattr(value, "describe") and not isinstance(value, type):
        return value.describe()
    if isinstance(value, np.ndarray):
        return value.tolist() if value.ndim == 1 and value.size <= 100_000 else f"<array {value.shape} {value.dtype}>"
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if callable(value):
        return f"<callable {getattr(value, '__name__', type(value).__name__)}>"
    return str(value)


# -- the one text-to-value parser ----------------------------------------------------------------
def parse_value(text: str, annotation: Any = Any, *, name: str = "value") -> Any:
    """Convert command-line ``text`` to a value of ``annotation``.

    ``none`` gives None where None is allowed; ``Literal`` values must match; ``bool`` takes
    true/false/yes/no/1/0; sequences (``tuple[str, ...]``, ``Sequence[int]``, ``list``) are
    comma lists; unions try each member, strings last; ``Any`` guesses number, boolean, None
    or text.

    Example:
        >>> parse_value("0.5", float), parse_value("a,b", tuple[str, ...]), parse_value("3", str | int)
        (0.5, ('a', 'b'), 3)
        >>> parse_value("none", int | None) is None, parse_value("yes", bool), parse_value("x", Any)
        (True, True, 'x')
    """
    text = text.strip()
    members = _members(annotation)
    if text.lower() == "none" and (type(None) in members or annotation is Any):
        return None
    errors = []
    # Strings accept anything, so they are tried last.
    for member in sorted((m for m in members if m is not type(None)), key=lambda m: m is str):
        try:
            return _parse_one(text, member)
        except (ValueError, TypeError) as exc:
            errors.append(str(exc))
    raise ConfigError(f"{name} must be {_type_name(annotation)}, not {text!r}")


def _parse_one(text: str, annotation: Any) -> Any:
    origin = get_origin(annotation)
    if annotation is Any or annotation is object:
        return _guess(text)
    if origin is Literal:
        for choice in get_args(annotation):
            if str(choice) == text:
                return choice
        raise ValueError(f"not one of {get_args(annotation)}")
    if annotation is bool:
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise ValueError("not a boolean")
    if annotation is int:
        return int(text)
    if annotation is float:
        return float(text)
    if annotation is str:
        return text
    if origin in (tuple, list, collections.abc.Sequence, collections.abc.Iterable) or annotation in (tuple, list):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        item = args[0] if len(args) == 1 or (origin is tuple and Ellipsis in get_args(annotation)) else Any
        items = [_parse_item(t.strip(), item) for t in text.split(",") if t.strip()]
        return tuple(items) if origin is tuple or annotation is tuple else items
    if isinstance(annotation, type):
        raise TypeError(f"{annotation.__name__} cannot be given as text")
    return _guess(text)


def _parse_item(text: str, annotation: Any) -> Any:
    for member in sorted((m for m in _members(annotation) if m is not type(None)), key=lambda m: m is str):
        try:
            return _parse_one(text, member)
        except (ValueError, TypeError):
            continue
    raise ValueError(f"{text!r} is not {_type_name(annotation)}")


def _guess(text: str) -> Any:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    return text


# -- checking a value against an annotation ------------------------------------------------------
def check_value(value: Any, annotation: Any) -> str | None:
    """None when ``value`` fits ``annotation``; else what it must be."""
    members = _members(annotation)
    ranges = [m for a in _annotated(annotation) for m in a if isinstance(m, Range)]
    if any(_fits(value, m) for m in members):
        if ranges and isinstance(value, int | float) and not isinstance(value, bool):
            bad = [r for r in ranges if not r.contains(value)]
            if bad:
                return f"must be {bad[0].describe()}"
        return None
    choices = [v for m in members if get_origin(m) is Literal for v in get_args(m)]
    if choices and all(get_origin(m) is Literal or m is type(None) for m in members):
        allowed = ", ".join(str(c) for c in choices)
        return f"must be one of {allowed}" + (" or None" if type(None) in members else "")
    return f"must be {_type_name(annotation)}"


def _fits(value: Any, annotation: Any) -> bool:
    origin = get_origin(annotation)
    if annotation is Any or annotation is object:
        return True
    if annotation is type(None):
        return value is None
    if origin is Literal:
        return any(value == c and isinstance(value, str) == isinstance(c, str) for c in get_args(annotation))
    if annotation is bool:
        return isinstance(value, bool | np.bool_)
    if annotation is int:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if origin in (tuple, list, collections.abc.Sequence, collections.abc.Iterable):
        if isinstance(value, str) or not isinstance(value, tuple | list | np.ndarray):
            return False
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        item = args[0] if len(args) == 1 or (origin is tuple and Ellipsis in get_args(annotation)) else Any
        return all(any(_fits(v, m) for m in _members(item)) for v in value)
    if origin is dict or annotation is dict:
        return isinstance(value, dict)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True  # annotations this checker does not understand (callables, protocols)


def _members(annotation: Any) -> list[Any]:
    """The alternatives of a union (``Annotated`` and ``Optional`` unwrapped)."""
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for a in get_args(annotation) for m in _members(a)]
    return [annotation]


def _annotated(annotation: Any) -> list[tuple[Any, ...]]:
    """The metadata of every ``Annotated`` layer in ``annotation``."""
    if get_origin(annotation) is Annotated:
        return [get_args(annotation)[1:], *_annotated(get_args(annotation)[0])]
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for a in get_args(annotation) for m in _annotated(a)]
    return []


def _type_name(annotation: Any) -> str:
    names = []
    for m in _members(annotation):
        if get_origin(m) is Literal:
            names.append("one of " + ", ".join(str(c) for c in get_args(m)))
        elif m is type(None):
            names.append("None")
        elif get_origin(m) in (tuple, list, collections.abc.Sequence, collections.abc.Iterable):
            args = [a for a in get_args(m) if a is not Ellipsis]
            item = _type_name(args[0]) if args else "values"
            plural = {"a string": "strings", "an integer": "integers", "a number": "numbers"}.get(item, item)
            names.append(f"a list of {plural}")
        elif m is Any:
            names.append("a value")
        else:
            names.append({bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
                m, getattr(m, "__name__", str(m))))
    return " or ".join(dict.fromkeys(names))


def _annotations(function: Any) -> dict[str, Any]:
    """``function``'s parameter annotations, resolved (``from __future__ import annotations``
    leaves them as strings); a name only imported for type checking resolves to ``Any``."""
    try:
        return typing.get_type_hints(function, include_extras=True)
    except Exception:
        pass
    module = sys.modules.get(function.__module__)
    namespace = {**vars(typing), **vars(builtins), **vars(collections.abc), **(vars(module) if module else {})}
    out = {}
    for name, text in getattr(function, "__annotations__", {}).items():
        try:
            out[name] = eval(text, namespace) if isinstance(text, str) else text
        except Exception:
            out[name] = Any
    return out


# -- seeds ----------------------------------------------------------------------------------------
def check_seed(seed: Any, *, what: str = "seed") -> int | None:
    """``seed`` as an int (or None); anything but a non-negative integer is a ConfigError.

    Example:
        >>> check_seed(3), check_seed(None)
        (3, None)
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"{what} must be a non-negative integer, got {seed!r}")
    return int(seed)


def make_rng(seed: Any, *streams: int) -> np.random.Generator:
    """The Generator for ``seed`` (and optional sub-stream numbers): the one way vlprune
    turns a user's seed into randomness.

    Example:
        >>> bool(make_rng(0).integers(10) == make_rng(0).integers(10))
        True
    """
    seed = check_seed(seed)
    if streams:
        return np.random.default_rng([0 if seed is None else seed, *streams])
    return np.random.default_rng(seed)
