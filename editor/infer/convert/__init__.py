"""Converters from other weight formats into safetensors that spandrel (or our archs) can load.

A manifest's `[convert] kind = "NAME"` names the module `editor.infer.convert.NAME`, which exposes
`convert(manifest, files: dict[str, Path], out_dir: Path) -> Path`: `files` maps each manifest file
name to its fetched path; the converter writes its output inside `out_dir` and returns its path.
The store then moves it atomically to `<models>/<id>/<convert.output>`. Adding a format means adding
a module and registering its name in `editor.modules.CONVERTERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from editor.infer.plugins import load_function
from editor.modules import CONVERTERS

if TYPE_CHECKING:
    from editor.infer.manifest import Manifest

Converter = Callable[["Manifest", dict[str, Path], Path], Path]


def get_converter(kind: str) -> Converter:
    """The `convert` function for a manifest's `[convert] kind`."""
    return load_function(__name__, kind, "convert", "model converter", CONVERTERS)


def converter_kinds() -> list[str]:
    return list(CONVERTERS)
