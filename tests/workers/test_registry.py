"""The one Registry every extension point uses: names, errors, lazy imports, creation."""

from __future__ import annotations

import sys
from fractions import Fraction

import pytest

from workers.backends import BACKENDS, backend_class
from workers.registry import Registry, UnknownNameError
from workers.types import BackendError


class Shape:
    def __init__(self, size: int, colour: str = "red") -> None:
        self.size = size
        self.colour = colour


class Square(Shape):
    pass


def test_names_are_in_registration_order() -> None:
    shapes: Registry[Shape] = Registry("shape", {"square": Square, "plain": Shape})
    shapes.register("also", Shape)
    assert shapes.names() == ["square", "plain", "also"]
    assert list(shapes) == shapes.names()
    assert "plain" in shapes and "circle" not in shapes


def test_an_unknown_name_is_refused_naming_the_known_ones() -> None:
    shapes: Registry[Shape] = Registry("shape", {"square": Square, "plain": Shape})
    assert shapes.check("square") == "square"
    with pytest.raises(
        UnknownNameError, match=r"^unknown shape 'circle' \(known: square, plain\)$"
    ):
        shapes.check("circle")
    with pytest.raises(UnknownNameError, match="unknown shape 'circle'"):
        shapes.create("circle", 1)
    with pytest.raises(UnknownNameError, match=r"\(known: none\)"):
        Registry[Shape]("shape").get("square")


def test_the_error_class_is_the_registry_s_own() -> None:
    class ShapeError(Exception):
        pass

    shapes: Registry[Shape] = Registry("shape", {"square": Square}, error=ShapeError)
    with pytest.raises(ShapeError, match="unknown shape 'circle'"):
        shapes.check("circle")


def test_create_passes_positional_and_keyword_arguments() -> None:
    shapes: Registry[Shape] = Registry("shape", {"square": Square})
    made = shapes.create("square", 4, colour="blue")
    assert isinstance(made, Square) and (made.size, made.colour) == (4, "blue")
    assert shapes.get("square") is Square


def test_a_name_registered_twice_is_refused() -> None:
    shapes: Registry[Shape] = Registry("shape", {"square": Square})
    with pytest.raises(ValueError, match="shape 'square' is registered twice"):
        shapes.register("square", Shape)
    assert shapes.get("square") is Square


def test_a_lazy_entry_is_imported_on_first_use_only() -> None:
    # a module that nothing here has imported yet stands in for an optional dependency
    module = "tests.workers.lazy_registry_target"
    sys.modules.pop(module, None)
    numbers: Registry[object] = Registry("number", {"fraction": "fractions:Fraction"})
    numbers.register("lazy", f"{module}:LazyThing")
    assert numbers.names() == ["fraction", "lazy"]
    assert module not in sys.modules  # listing and checking names imports nothing
    numbers.check("lazy")
    assert module not in sys.modules
    assert numbers.create("fraction", 1, 2) == Fraction(1, 2)
    with pytest.raises(ModuleNotFoundError):
        numbers.get("lazy")  # the module does not exist: only a use of it fails


def test_backends_are_a_registry_with_the_backend_error() -> None:
    assert BACKENDS.names() == ["llamacpp", "openai", "replay", "scripted", "vllm"]
    assert backend_class("scripted").__name__ == "ScriptedBackend"
    with pytest.raises(BackendError, match=r"unknown backend 'magic' \(known: llamacpp, "):
        backend_class("magic")
