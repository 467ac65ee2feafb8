"""Drag-and-drop helpers: which local files a drop carries, and how a dropped file becomes a layer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QDragMoveEvent, QDropEvent

from editor.core.document import Document
from editor.core.layers import PixelLayer
from editor.core.pixels import from_float, to_float


def local_paths(mime: QMimeData) -> list[Path]:
    """Local files named by a drop's URLs, in order (remote URLs are not supported offline)."""
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


def accept_file_drag(event: QDragMoveEvent) -> None:
    """Drag-enter/move: take a drag that carries local files, refuse anything else."""
    if local_paths(event.mimeData()):
        event.acceptProposedAction()
    else:
        event.ignore()


def take_dropped_files(event: QDropEvent) -> list[Path]:
    """The local files a drop carries, the drop accepted; none (and the drop ignored) otherwise."""
    paths = local_paths(event.mimeData())
    if paths:
        event.acceptProposedAction()
    else:
        event.ignore()
    return paths


def is_project(path: Path) -> bool:
    """An OpenRaster project (by name or by content), as editor.io decides."""
    from editor.io.ora import is_project as io_is_project

    return io_is_project(path)


def layer_from_file(doc: Document, path: Path) -> PixelLayer:
    """Decode `path` into a pixel layer at the document's depth, centred on the canvas.

    Raises the io layer's LucidError subclasses when the file cannot be read; nothing is changed.
    """
    from editor.io.images import load_image

    img = load_image(path)
    pixels = img.pixels
    if pixels.dtype != doc.dtype:
        pixels = from_float(to_float(pixels), doc.dtype)
    offset = ((doc.width - img.width) // 2, (doc.height - img.height) // 2)
    return PixelLayer(path.stem or path.name, pixels, offset=offset)
