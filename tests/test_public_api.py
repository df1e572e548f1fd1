"""Every public module documents itself and exports a sorted, importable __all__."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import pygokit


def public_modules() -> list[str]:
    """Names of every pygokit module whose dotted path has no private part."""
    names = [pygokit.__name__]
    for info in pkgutil.walk_packages(pygokit.__path__, prefix="pygokit."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def ruff_order(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 sorts __all__ in: CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return (0, name)
    return (1 if name[0].isupper() else 2, name)


@pytest.mark.parametrize("name", public_modules())
def test_module_exports_a_sorted_documented_api(name: str) -> None:
    """The module has a docstring and a sorted __all__ whose entries all exist."""
    module: ModuleType = importlib.import_module(name)

    assert inspect.getdoc(module), f"{name} has no module docstring"
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported, key=ruff_order), f"{name}.__all__ is not sorted"
    for attribute in exported:
        assert hasattr(module, attribute), f"{name}.__all__ names missing {attribute!r}"


@pytest.mark.parametrize("name", public_modules())
def test_exported_classes_and_functions_have_docstrings(name: str) -> None:
    """Every class and function a module exports explains itself in a docstring."""
    module = importlib.import_module(name)
    for attribute in module.__all__:
        value = getattr(module, attribute)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name}.{attribute} has no docstring"


def test_top_level_exports_the_core_vocabulary() -> None:
    """pygokit itself exports the endpoint vocabulary, the root error and a version."""
    assert {"Endpoint", "Middleware", "chain", "GoKitError"} <= set(pygokit.__all__)
    assert pygokit.__version__
