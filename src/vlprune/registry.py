"""A name -> class registry, shared by selectors, embedders and dataset loaders.

Built-in entries register themselves with a decorator when their module is imported;
third-party packages add entries through a Python entry point group, loaded on first lookup.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from vlprune.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names (as typed on the command line) to classes or factories.

    Example:
        >>> widgets = Registry("widget", builtin_modules=[])
        >>> @widgets.register("round")
        ... class Round: ...
        >>> widgets.get("round").__name__
        'Round'
    """

    def __init__(
        self,
        kind: str,
        *,
        builtin_modules: Iterable[str] = (),
        entry_point_group: str | None = None,
    ) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._builtin_modules = list(builtin_modules)
        self._entry_point_group = entry_point_group
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``; sets ``obj.name`` when it has none."""

        def decorator(obj: T) -> T:
            existing = self._entries.get(name)
            if existing is not None and existing is not obj:
                raise ConfigError(f"{self.kind} name {name!r} is already registered to {existing!r}")
            self._entries[name] = obj
            if isinstance(obj, type) and "name" not in vars(obj):
                obj.name = name  # type: ignore[attr-defined]
            return obj

        return decorator

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self._builtin_modules:
            importlib.import_module(module)
        if self._entry_point_group:
            from importlib.metadata import entry_points

            for ep in entry_points(group=self._entry_point_group):
                try:
                    obj = ep.load()
                except Exception as exc:  # a broken plugin must not break vlprune
                    import warnings

                    warnings.warn(f"could not load {self.kind} plugin {ep.name!r}: {exc}", stacklevel=2)
                    continue
                self._entries.setdefault(ep.name, obj)

    def get(self, name: str) -> T:
        """The entry registered as ``name``; a :class:`ConfigError` suggesting close names if none."""
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"unknown {self.kind} {name!r}{hint}; choose from {', '.join(self.names())}"
            ) from None

    def create(self, name: str, *, validate: bool = True, **params: Any) -> Any:
        """An instance of the entry registered as ``name``, built from ``params``.

        For a :class:`~vlprune.params.Configurable` entry, text values are converted by the
        constructor's annotations and the instance is validated (so a command fails on a bad
        parameter before it reads any data); other entries are simply called.

        Example:
            >>> from vlprune.select.base import selectors
            >>> selectors.create("stratified", by="topic", allocation="equal").allocation
            'equal'
        """
        from vlprune.params import Configurable

        cls = self.get(name)
        if isinstance(cls, type) and issubclass(cls, Configurable):
            return cls.from_text(validate=validate, **params)
        return cls(**params)

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        self._load()
        return sorted(self._entries.items())

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries
