"""Finds task functions by name without importing torch up front.

Convention: task "NAME" is the function `run` in `editor.infer.tasks.NAME`. Adding a tool means
adding a module, not editing a list.
"""

from __future__ import annotations

from editor.infer.api import Task
from editor.infer.plugins import load_function, module_names

TASKS_PACKAGE = "editor.infer.tasks"


def get_task(name: str) -> Task:
    return load_function(TASKS_PACKAGE, name, "run", "task")


def task_names() -> list[str]:
    return module_names(TASKS_PACKAGE)
