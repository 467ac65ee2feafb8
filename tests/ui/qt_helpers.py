"""Helpers for UI tests: scripted prompts, a test image with distinguishable pixels, raw mouse input."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from editor.core.document import Document
from editor.core.layers import PixelLayer


class ScriptedPrompts:
    """Answers the window's questions from queues and records what was asked."""

    def __init__(self) -> None:
        self.unsaved_answers: list[str] = []
        self.asked_unsaved: list[str] = []
        self.errors: list[str] = []
        self.save_paths: list[Path | None] = []
        self.export_paths: list[Path | None] = []
        self.open_answers: list[list[Path]] = []
        self.sizes: list[tuple[int, int] | None] = []
        self.export_colours: list[tuple[bool, str] | None] = []
        self.non_ora_answers: list[str] = []
        self.asked_non_ora: list[list[str]] = []

    def unsaved_changes(self, name: str) -> str:
        self.asked_unsaved.append(name)
        return self.unsaved_answers.pop(0) if self.unsaved_answers else "discard"

    def error(self, message: str, detail: str | None = None) -> None:
        self.errors.append(message)

    def open_paths(self, start):
        return self.open_answers.pop(0) if self.open_answers else []

    def save_path(self, suggested: Path):
        return self.save_paths.pop(0) if self.save_paths else None

    def export_path(self, suggested: Path):
        return self.export_paths.pop(0) if self.export_paths else None

    def new_size(self):
        return self.sizes.pop(0) if self.sizes else None

    def export_colour(self, fmt, icc):
        return self.export_colours.pop(0) if self.export_colours else (False, "relative")

    def non_ora_layers(self, names):
        self.asked_non_ora.append(list(names))
        return self.non_ora_answers.pop(0) if self.non_ora_answers else "keep"

    def about(self, text: str) -> None:
        pass


def gradient_doc(w: int = 300, h: int = 200) -> Document:
    """A one-layer document whose every pixel is distinguishable: R = x, G = y (mod 256), B = 128."""
    ys, xs = np.mgrid[0:h, 0:w]
    px = np.zeros((h, w, 4), np.uint8)
    px[..., 0] = xs % 256
    px[..., 1] = ys % 256
    px[..., 2] = 128
    px[..., 3] = 255
    doc = Document(w, h)
    layer = PixelLayer("gradient", px)
    doc.root.children.append(layer)
    doc.active_layer = layer
    return doc


def send_mouse(widget, kind: QEvent.Type, pos: QPointF, button=Qt.MouseButton.LeftButton,
               buttons=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Deliver one mouse event to `widget` (QTest's helpers drop the held-button state on moves)."""
    global_pos = QPointF(widget.mapToGlobal(QPoint(round(pos.x()), round(pos.y()))))
    event = QMouseEvent(kind, QPointF(pos), global_pos, button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def drag(widget, points: list[QPointF], modifiers=Qt.KeyboardModifier.NoModifier,
         button=Qt.MouseButton.LeftButton) -> None:
    """Press at the first point, move through the rest, release at the last."""
    send_mouse(widget, QEvent.Type.MouseButtonPress, points[0], button, button, modifiers)
    for p in points[1:]:
        send_mouse(widget, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, button, modifiers)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, points[-1], button, Qt.MouseButton.NoButton, modifiers)


def drop(widget, paths: list[Path], pos: QPoint | None = None) -> QDropEvent:
    """Simulate a file drop the way Qt delivers it: drag-enter (which picks the target), then drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(pos or widget.rect().center())
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with warnings.catch_warnings():  # PySide6 marks the QPoint constructor deprecated; it is the only one
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(pos.toPoint(), *args)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    event = QDropEvent(pos, *args)
    QApplication.sendEvent(widget, event)
    return event
