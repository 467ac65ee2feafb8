"""Eyes and mouth for the Latent Edit tool: a click-to-place canvas tool and the three markers.

The FFHQ-style alignment needs exactly these three points; clicking them is always available (no
landmark model needed); the face model can also place them (Find face). Clicks fill left eye → right
eye → mouth, then move the nearest marker; dragging moves it along.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from psygnal import Signal
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsScene, QGraphicsSimpleTextItem

from editor.ui.tools import Tool

if TYPE_CHECKING:
    from editor.ui.canvas.view import CanvasView

NAMES = ("left eye", "right eye", "mouth")
LABELS = ("L", "R", "M")
COLORS = ((80, 200, 255), (80, 200, 255), (255, 120, 200))
MARKER_PX = 12  # on screen, at every zoom


class FacePoints:
    """Up to three image points (eyes, then mouth); `changed` fires on every edit."""

    changed = Signal()

    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    @property
    def complete(self) -> bool:
        return len(self.points) == 3

    def click(self, x: float, y: float) -> int:
        """Place the next missing point, or move the nearest one when all three exist; returns its index."""
        if not self.complete:
            self.points.append((x, y))
            index = len(self.points) - 1
        else:
            index = min(range(3), key=lambda i: math.hypot(self.points[i][0] - x, self.points[i][1] - y))
            self.points[index] = (x, y)
        self.changed.emit()
        return index

    def move(self, index: int, x: float, y: float) -> None:
        """Drag point `index` to (x, y)."""
        self.points[index] = (x, y)
        self.changed.emit()

    def set(self, eyes: list[list[float]], mouth: list[float]) -> None:
        """All three at once (from the face model: image-left eye first)."""
        self.points = [tuple(eyes[0]), tuple(eyes[1]), tuple(mouth)]  # type: ignore[list-item]
        self.changed.emit()

    def clear(self) -> None:
        self.points = []
        self.changed.emit()

    def eyes(self) -> list[float]:
        (x1, y1), (x2, y2) = self.points[0], self.points[1]
        return [x1, y1, x2, y2]

    def mouth(self) -> list[float]:
        return list(self.points[2])

    def next_name(self) -> str | None:
        return None if self.complete else NAMES[len(self.points)]


class PointPickTool(Tool):
    """Each left click places a face point (image coordinates); dragging moves the point it placed."""

    def __init__(
        self,
        view: CanvasView,
        on_click: Callable[[float, float], int | None],
        on_drag: Callable[[int, float, float], None] | None = None,
    ) -> None:
        super().__init__(view)
        self.on_click = on_click
        self.on_drag = on_drag
        self._dragging: int | None = None

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        self._dragging = self.on_click(pos.x(), pos.y())

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        if self._dragging is not None and self.on_drag is not None:
            self.on_drag(self._dragging, pos.x(), pos.y())

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        self._dragging = None


class Markers:
    """Three labelled circles that keep their screen size at any zoom."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.scene = scene
        self.items: list[QGraphicsItem] = []

    def show(self, points: list[tuple[float, float]]) -> None:
        self.remove()
        r = MARKER_PX / 2
        for i, (x, y) in enumerate(points):
            color = QColor(*COLORS[i])
            dot = QGraphicsEllipseItem(QRectF(-r, -r, 2 * r, 2 * r))
            pen = QPen(QColor(0, 0, 0), 2)
            pen.setCosmetic(True)
            dot.setPen(pen)
            dot.setBrush(QBrush(color))
            dot.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
            dot.setPos(x, y)
            dot.setZValue(30)
            label = QGraphicsSimpleTextItem(LABELS[i], dot)
            label.setBrush(QBrush(QColor(255, 255, 255)))
            label.setPos(r + 2, -r - 4)
            self.scene.addItem(dot)
            self.items.append(dot)

    def remove(self) -> None:
        import shiboken6

        for item in self.items:
            if shiboken6.isValid(item) and shiboken6.isValid(self.scene) and item.scene() is self.scene:
                self.scene.removeItem(item)
        self.items = []
