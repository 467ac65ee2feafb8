"""Canvas tools: turn pointer input (already in image coordinates) into Document commands.

Tools hold no pixels: the brush is the core `Stroke`, selections are `doc.select_rect/select_polygon`.
Each stroke or selection is one undo step because the core records it as one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem

from editor.core.geometry import Rect
from editor.ui.tool_state import ToolKind

if TYPE_CHECKING:
    from editor.ui.canvas.view import CanvasView


def selection_mode(modifiers: Qt.KeyboardModifier) -> str:
    """Shift adds to the mask, Alt subtracts, nothing replaces it."""
    if modifiers & Qt.KeyboardModifier.AltModifier:
        return "subtract"
    if modifiers & Qt.KeyboardModifier.ShiftModifier:
        return "add"
    return "replace"


def _marching_pen() -> QPen:
    pen = QPen(QColor(255, 255, 255), 0, Qt.PenStyle.DashLine)
    pen.setCosmetic(True)
    return pen


class Tool:
    """Base: no-op handlers. `view` gives access to the document, the tool state and the scene."""

    def __init__(self, view: CanvasView) -> None:
        self.view = view

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None: ...

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None: ...

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def cancel(self) -> None:
        """Abandon whatever is in progress (tool switched mid-drag)."""


class MaskBrushTool(Tool):
    """Paints (or erases) the document's selection mask with the core brush; one stroke = one undo step."""

    def __init__(self, view: CanvasView, erase: bool) -> None:
        super().__init__(view)
        self.erase = erase
        self._stroke = None

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        from editor.core.brush import Brush, Stroke

        st = self.view.tool_state
        brush = Brush(size=st.brush_size, hardness=st.hardness, opacity=st.opacity, erase=self.erase)
        layer = self.view.mask_layer
        if layer is not None:  # "Edit mask" of a result layer
            label = "Erase layer mask" if self.erase else "Paint layer mask"
            self._stroke = Stroke(self.view.doc, layer, "mask", brush, label=label)
        else:
            label = "Erase mask" if self.erase else "Paint mask"
            self._stroke = Stroke(self.view.doc, None, "selection", brush, label=label)
            self.view.mask_stroke.emit("started")
        self._stroke.add_point(pos.x(), pos.y(), pressure if st.use_pressure else 1.0)

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        if self._stroke is not None:
            self._stroke.add_point(pos.x(), pos.y(), pressure if self.view.tool_state.use_pressure else 1.0)

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._stroke is not None:
            stroke, self._stroke = self._stroke, None
            stroke.end()
            if stroke.target == "selection":
                self.view.mask_stroke.emit("finished")

    def cancel(self) -> None:
        """Tool switched or focus lost mid-stroke: the stroke is abandoned, nothing recorded."""
        if self._stroke is not None:
            stroke, self._stroke = self._stroke, None
            stroke.cancel()


class RectSelectTool(Tool):
    """Drag a rectangle; on release it goes into the mask (replace / Shift add / Alt subtract)."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self._start: QPointF | None = None
        self._mode = "replace"
        self._item: QGraphicsRectItem | None = None

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        self._start, self._mode = pos, selection_mode(modifiers)
        self._item = QGraphicsRectItem(QRectF(pos, pos))
        self._item.setPen(_marching_pen())
        self._item.setZValue(20)
        self.view.scene().addItem(self._item)

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        if self._item is not None and self._start is not None:
            self._item.setRect(QRectF(self._start, pos).normalized())

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._start is None:
            return
        start, mode = self._start, self._mode
        self.cancel()
        r = QRectF(start, pos).normalized()
        rect = Rect.from_bounds(round(r.left()), round(r.top()), round(r.right()), round(r.bottom()))
        rect = rect.intersect(self.view.doc.rect)
        doc = self.view.doc
        if not rect.empty:
            doc.select_rect(rect, mode)
        elif mode == "replace" and doc.selection.any():
            doc.clear_selection()  # a click without a drag deselects, as in most editors

    def cancel(self) -> None:
        if self._item is not None:
            self.view.scene().removeItem(self._item)
        self._item, self._start = None, None


class LassoTool(Tool):
    """Free-hand polygon; on release it goes into the mask like the rectangle."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self._points: list[tuple[float, float]] = []
        self._mode = "replace"
        self._item: QGraphicsPathItem | None = None

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        self._points, self._mode = [(pos.x(), pos.y())], selection_mode(modifiers)
        self._item = QGraphicsPathItem()
        self._item.setPen(_marching_pen())
        self._item.setZValue(20)
        self.view.scene().addItem(self._item)

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        if self._item is None:
            return
        self._points.append((pos.x(), pos.y()))
        path = QPainterPath(QPointF(*self._points[0]))
        for p in self._points[1:]:
            path.lineTo(QPointF(*p))
        path.closeSubpath()
        self._item.setPath(path)

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._item is None:
            return
        points, mode = [*self._points, (pos.x(), pos.y())], self._mode
        self.cancel()
        if len(points) >= 3:
            self.view.doc.select_polygon(points, mode)

    def cancel(self) -> None:
        if self._item is not None:
            self.view.scene().removeItem(self._item)
        self._item, self._points = None, []


def make_tool(kind: ToolKind, view: CanvasView) -> Tool:
    if kind == ToolKind.BRUSH:
        return MaskBrushTool(view, erase=False)
    if kind == ToolKind.ERASER:
        return MaskBrushTool(view, erase=True)
    if kind == ToolKind.RECT:
        return RectSelectTool(view)
    if kind == ToolKind.LASSO:
        return LassoTool(view)
    if kind == ToolKind.CROP:
        from editor.ui.crop_tool import CropTool

        return CropTool(view)
    return Tool(view)  # the hand: panning is handled by the view itself
