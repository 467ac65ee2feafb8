"""Finds task functions by name without importing torch up front.

Task "NAME" is the function `run` in `editor.infer.tasks.NAME`, registered in `editor.modules.TASKS`.
"""

from __future__ import annotations

from editor.infer.api import Task
from editor.infer.plugins import load_function
from editor.modules import TASKS, TASKS_PACKAGE


def get_task(name: str) -> Task:
    return load_function(TASKS_PACKAGE, name, "run", "task", TASKS)


def task_names() -> list[str]:
    return list(TASKS)
