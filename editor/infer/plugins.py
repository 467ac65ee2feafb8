"""Finds a plugin function by name inside a package, so adding a task or converter adds a module only."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from editor.infer.api import InferenceError


def load_function(package: str, name: str, attr: str, what: str) -> Callable[..., Any]:
    """`package.name.attr`, or an InferenceError that says "Unknown <what> '<name>'"."""
    if not name.isidentifier():
        raise InferenceError(f"Unknown {what} '{name}'.")
    try:
        module = importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{package}.{name}":
            raise InferenceError(f"Unknown {what} '{name}'.") from exc
        raise
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InferenceError(f"{what.capitalize()} module '{name}' has no {attr}() function.")
    return fn


def module_names(package: str) -> list[str]:
    """Public module names in `package`, sorted."""
    pkg = importlib.import_module(package)
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))
