"""Finds task functions by name without importing torch up front.

Convention: task "NAME" is the function `run` in `editor.infer.tasks.NAME`. Adding a tool means
adding a module, not editing a list.
"""

from __future__ import annotations

import importlib
import pkgutil

from editor.infer.api import InferenceError, Task


def get_task(name: str) -> Task:
    if not name.isidentifier():
        raise InferenceError(f"Unknown task '{name}'.")
    try:
        module = importlib.import_module(f"editor.infer.tasks.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"editor.infer.tasks.{name}":
            raise InferenceError(f"Unknown task '{name}'.") from exc
        raise
    run = getattr(module, "run", None)
    if run is None:
        raise InferenceError(f"Task module '{name}' has no run() function.")
    return run


def task_names() -> list[str]:
    import editor.infer.tasks as tasks

    return sorted(m.name for m in pkgutil.iter_modules(tasks.__path__) if not m.name.startswith("_"))
