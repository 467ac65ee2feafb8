"""Converters from other weight formats into safetensors that spandrel (or our archs) can load.

A manifest's `[convert] kind = "NAME"` names the module `editor.infer.convert.NAME`, which exposes
`convert(manifest, files: dict[str, Path], out_dir: Path) -> Path`: `files` maps each manifest file
name to its fetched path; the converter writes its output inside `out_dir` and returns its path.
The store then moves it atomically to `<models>/<id>/<convert.output>`. Adding a format means adding
a module, not editing a list.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from editor.infer.api import InferenceError

if TYPE_CHECKING:
    from editor.infer.manifest import Manifest

Converter = Callable[["Manifest", dict[str, Path], Path], Path]


def get_converter(kind: str) -> Converter:
    """The `convert` function for a manifest's `[convert] kind`."""
    if not kind.isidentifier():
        raise InferenceError(f"Unknown model converter '{kind}'.")
    try:
        module = importlib.import_module(f"{__name__}.{kind}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{kind}":
            raise InferenceError(f"Unknown model converter '{kind}'.") from exc
        raise
    fn = getattr(module, "convert", None)
    if not callable(fn):
        raise InferenceError(f"Converter module '{kind}' has no convert() function.")
    return fn


def converter_kinds() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
