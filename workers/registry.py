"""One small registry for every extension point: name -> factory.

It lives in workers/ because that is the lowest layer: orchestrator/ may import workers/,
never the reverse, so backends (here) and runners, taggers, recruiters, aggregation policies
and retrieval gates (in orchestrator/) share it. A factory is a class or callable, or a
"module:attribute" string imported on first use, so an optional dependency (llama_cpp, vllm)
is only needed by what is actually created.

The names it lists are what the CLI offers as choices, what the API schema allows and what
an unknown-name error names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(ValueError):
    """A name that no factory is registered under; the message names the known ones."""


class Registry(Generic[T]):
    def __init__(
        self,
        kind: str,
        entries: dict[str, Callable[..., T] | str] | None = None,
        error: type[Exception] = UnknownNameError,
    ) -> None:
        self.kind = kind  # "backend", "runner", ...: used in error messages
        self._error = error
        self._entries: dict[str, Callable[..., T] | str] = dict(entries or {})

    def register(self, name: str, factory: Callable[..., T] | str) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = factory

    def names(self) -> list[str]:
        """Registered names in registration order."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def check(self, name: str) -> str:
        """`name` when registered, else the registry's error naming the known names."""
        if name not in self._entries:
            known = ", ".join(self._entries) or "none"
            raise self._error(f"unknown {self.kind} {name!r} (known: {known})")
        return name

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered under `name` (a lazy "module:attribute" is imported)."""
        target = self._entries[self.check(name)]
        if isinstance(target, str):
            module_name, _, attribute = target.partition(":")
            loaded: Callable[..., T] = getattr(import_module(module_name), attribute)
            self._entries[name] = loaded
            return loaded
        return target

    __getitem__ = get  # registry[name], as the dicts it replaced were read

    def create(self, name: str, /, *args: object, **kwargs: object) -> T:
        return self.get(name)(*args, **kwargs)
