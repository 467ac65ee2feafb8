"""Loads a registered plugin function (a task's `run`, a converter's `convert`) by name.

The names come from `editor.modules`, the one registry the app, the spec and the self-test share. A
name that is not registered is unknown; a registered one whose module is absent means a broken
installation, and says so instead of behaving as if the tool never existed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from editor.infer.api import InferenceError


def load_function(package: str, name: str, attr: str, what: str, registered: tuple[str, ...]
                  ) -> Callable[..., Any]:
    """`package.name.attr` for a `name` in `registered`, or an InferenceError a person can act on."""
    if name not in registered:
        raise InferenceError(f"Unknown {what} '{name}'.")
    module_name = f"{package}.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise InferenceError(f"The {what} '{name}' is missing from this installation of Lucid.",
                             detail=f"Module {module_name} was not found. Reinstall Lucid.") from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InferenceError(f"{what.capitalize()} module '{name}' has no {attr}() function.")
    return fn
