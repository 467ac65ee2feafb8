"""Tasks and converters are found by module name; unknown names are clear errors, never ImportError."""

from __future__ import annotations

import pytest

from editor.infer.api import InferenceError
from editor.infer.convert import converter_kinds, get_converter
from editor.infer.registry import get_task, task_names


def test_every_listed_task_and_converter_loads() -> None:
    assert {"inpaint", "superres", "matting", "obstruction", "latent"} <= set(task_names())
    assert {"ncnn", "torchscript"} <= set(converter_kinds())
    assert all(callable(get_task(name)) for name in task_names())
    assert all(callable(get_converter(kind)) for kind in converter_kinds())


@pytest.mark.parametrize("name", ["nope", "../inpaint", "os.path"])
def test_unknown_or_odd_names_are_user_errors(name: str) -> None:
    with pytest.raises(InferenceError, match=f"Unknown task '{name}'"):
        get_task(name)
    with pytest.raises(InferenceError, match="Unknown model converter"):
        get_converter(name)


def test_module_without_the_entry_point_is_reported() -> None:
    # editor.infer.convert.torchscript exists but has no run(): ask the convert package for a task.
    from editor.infer.plugins import load_function

    with pytest.raises(InferenceError, match="has no run"):
        load_function("editor.infer.convert", "torchscript", "run", "task", ("torchscript",))


def test_a_registered_module_that_is_missing_is_a_broken_installation() -> None:
    """Not "unknown": the registry names it, so its absence is an installation error a person can act on."""
    from editor.infer.plugins import load_function

    with pytest.raises(InferenceError, match="'nosuchtask' is missing from this installation") as info:
        load_function("editor.infer.tasks", "nosuchtask", "run", "task", ("nosuchtask",))
    assert "Reinstall" in (info.value.detail or "")


def test_the_registry_matches_the_source_tree_and_the_spec() -> None:
    """editor/modules.py names every task, converter and panel module on disk, each of them exists, and
    the spec bundles them all (the same check the build's dry run makes)."""
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "packaging"))
    import build

    from editor import modules

    assert build.registry_problems(set(modules.all_modules())) == []
    assert build.registry_problems(set()) != []  # not vacuous: an unbundled module is reported
