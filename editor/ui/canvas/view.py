"""CanvasView: zoom, pan, and event routing to the active tool. It shows the document; it never edits pixels.

Zoom anchoring, the status bar and every tool go through `coords.widget_to_image`.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPen,
    QTabletEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsEllipseItem, QGraphicsScene, QGraphicsView, QPinchGesture

from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.geometry import Rect, tile_rect
from editor.ui.canvas.coords import image_to_widget, widget_to_image
from editor.ui.canvas.tiles import TiledImageItem, TileSource, layer_mask_on_canvas, mask_overlay_rgba8
from editor.ui.tool_state import ToolKind, ToolState

MIN_ZOOM, MAX_ZOOM = 0.01, 32.0
ZOOM_STEP = 2 ** 0.25  # four wheel notches double the zoom
MASK_COLOR = (230, 30, 40)
MASK_ALPHA = 0.5
LAYER_MASK_COLOR = (40, 200, 90)  # a result layer's own mask ("Edit mask"), unlike the selection


def clamp_zoom(z: float) -> float:
    return float(min(MAX_ZOOM, max(MIN_ZOOM, z)))


class CanvasView(QGraphicsView):
    """Shows one document through tile items; forwards pointer input to the tool in image coordinates."""

    zoom_changed = Signal(float)
    message = Signal(str)  # a refused action, for the status bar
    cursor_moved = Signal(object)  # QPointF in image coordinates, or None when the cursor leaves
    files_dropped = Signal(list)  # list[pathlib.Path] dropped onto this canvas
    mask_stroke = Signal(str)  # "started" / "finished": a brush stroke on the selection mask

    def __init__(self, doc: Document, composite: TileSource, tool_state: ToolState, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.tool_state = tool_state
        self._composite = composite
        self._mask_layer = None
        self.setScene(QGraphicsScene(self))
        self.scene().setSceneRect(QRectF(0, 0, doc.width, doc.height))
        self.image_item = TiledImageItem(doc.width, doc.height, composite)
        self.mask_item = TiledImageItem(doc.width, doc.height, self._mask_tile, checkerboard=False)
        self.mask_item.setZValue(1)
        self.scene().addItem(self.image_item)
        self.scene().addItem(self.mask_item)
        self.brush_outline = QGraphicsEllipseItem()
        pen = QPen(QColor(255, 255, 255), 0)  # cosmetic: 1 device pixel at every zoom
        pen.setCosmetic(True)
        self.brush_outline.setPen(pen)
        self.brush_outline.setZValue(10)
        self.brush_outline.setVisible(False)
        self.scene().addItem(self.brush_outline)

        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QColor(58, 58, 62))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self._zoom = 1.0
        self._space_down = False
        self._pan_from: QPoint | None = None
        self._tool = None  # set by set_tool
        self._pressure = 1.0
        self._before_shown = False

        doc.events.dirty.connect(self._on_dirty)
        doc.events.selection.connect(self._on_selection)
        doc.events.canvas.connect(self._on_canvas)
        tool_state.events.show_mask.connect(self._on_show_mask)
        tool_state.events.brush_size.connect(lambda *_: self._update_outline(None))
        tool_state.events.tool.connect(self._on_tool_kind)
        self.mask_item.setVisible(tool_state.show_mask)
        self._on_tool_kind(tool_state.tool)

    # -- teardown ----------------------------------------------------------------------------------
    def disconnect_model(self) -> None:
        """Stop listening to the document and tool state (call before dropping the view)."""
        self.doc.events.dirty.disconnect(self._on_dirty)
        self.doc.events.canvas.disconnect(self._on_canvas)
        self.doc.events.selection.disconnect(self._on_selection)
        self.set_mask_layer(None)
        self.tool_state.events.show_mask.disconnect(self._on_show_mask)
        self.tool_state.events.tool.disconnect(self._on_tool_kind)
        self.tool_state.events.brush_size.disconnect()

    # -- model events ------------------------------------------------------------------------------
    def _on_dirty(self, rect: Rect | None) -> None:
        if not self._before_shown:
            self.image_item.invalidate(rect)

    def _on_canvas(self, _size: object = None) -> None:
        """Crop, rotate or resize changed the canvas: new tile items of the new size (same sources)."""
        scene = self.scene()
        for old in (self.image_item, self.mask_item):
            scene.removeItem(old)
        self._before_shown = False
        self.image_item = TiledImageItem(self.doc.width, self.doc.height, self._composite)
        self.mask_item = TiledImageItem(self.doc.width, self.doc.height, self._mask_tile, checkerboard=False)
        self.mask_item.setZValue(1)
        self.mask_item.setVisible(self.tool_state.show_mask)
        scene.addItem(self.image_item)
        scene.addItem(self.mask_item)
        scene.setSceneRect(QRectF(0, 0, self.doc.width, self.doc.height))

    def _on_selection(self, rect: Rect | None = None) -> None:
        if self._mask_layer is None:
            self.mask_item.invalidate(rect if isinstance(rect, Rect) else None)

    def _on_show_mask(self, show: bool) -> None:
        self.mask_item.setVisible(bool(show))

    def _mask_tile(self, tx: int, ty: int):
        r = tile_rect(tx, ty, self.doc.width, self.doc.height)
        layer = self._mask_layer
        if layer is None:
            return mask_overlay_rgba8(self.doc.selection, r, MASK_COLOR, MASK_ALPHA)
        mask = layer_mask_on_canvas(layer.mask, layer.offset, r)
        return mask_overlay_rgba8(mask, Rect(0, 0, r.w, r.h), LAYER_MASK_COLOR, MASK_ALPHA)

    # -- "Edit mask" of a result layer -------------------------------------------------------------
    @property
    def mask_layer(self):
        """The layer whose mask the mask brush paints, or None for the document's selection."""
        return self._mask_layer

    def set_mask_layer(self, layer) -> None:
        if layer is self._mask_layer:
            return
        if self._mask_layer is not None:
            self._mask_layer.events.mask.disconnect(self._on_layer_mask)
        self._mask_layer = layer
        if layer is not None:
            layer.events.mask.connect(self._on_layer_mask)
        self.mask_item.invalidate(None)

    def _on_layer_mask(self, rect: Rect | None) -> None:
        layer = self._mask_layer
        if layer is not None:
            self.mask_item.invalidate(rect.translated(*layer.offset) if isinstance(rect, Rect) else None)

    # -- coordinates -------------------------------------------------------------------------------
    def to_image(self, widget_pos: QPointF | QPoint) -> QPointF:
        """Viewport position → image coordinates (the one mapping, see coords.py)."""
        return widget_to_image(QPointF(widget_pos), self.viewportTransform())

    def to_widget(self, image_pos: QPointF) -> QPointF:
        return image_to_widget(image_pos, self.viewportTransform())

    # -- zoom and pan ------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self._zoom

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom so the image point under `anchor` (viewport coords; default the centre) stays put."""
        zoom = clamp_zoom(zoom)
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        fixed = self.to_image(anchor)
        self._zoom = zoom
        self.setTransform(QTransform.fromScale(zoom, zoom))
        moved = self.to_widget(fixed) - anchor
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(moved.x()))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(moved.y()))
        self._update_outline(None)
        self.zoom_changed.emit(zoom)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self._zoom * factor, anchor)

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / (ZOOM_STEP * ZOOM_STEP))

    def fit(self) -> None:
        """Ctrl+0: the whole image in the viewport, never above 100 %."""
        vp = self.viewport().rect()
        if vp.width() < 2 or vp.height() < 2:
            return
        z = min(vp.width() / self.doc.width, vp.height() / self.doc.height, 1.0) * 0.98
        self.set_zoom(z)
        self.centerOn(self.doc.width / 2, self.doc.height / 2)

    def actual_size(self) -> None:
        """Ctrl+1: 100 %."""
        self.set_zoom(1.0)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the picture by (dx, dy) viewport pixels."""
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(dx))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(dy))

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and not delta.x():
            self.pan_by(delta.y() / 2, 0)  # shift+wheel: horizontal scroll
        elif event.modifiers() & Qt.KeyboardModifier.AltModifier or delta.y() == 0:
            super().wheelEvent(event)
        else:
            self.zoom_by(ZOOM_STEP ** (delta.y() / 120), event.position())
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Gesture:
            pinch = event.gesture(Qt.GestureType.PinchGesture)
            if isinstance(pinch, QPinchGesture):
                anchor = QPointF(self.viewport().mapFromGlobal(pinch.centerPoint().toPoint()))
                self.zoom_by(pinch.scaleFactor(), anchor)
                event.accept()
                return True
        if (
            isinstance(event, QNativeGestureEvent)
            and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture
        ):  # macOS trackpad pinch
            self.zoom_by(1.0 + event.value(), event.position())
            return True
        return super().viewportEvent(event)

    # -- tools -------------------------------------------------------------------------------------
    def set_tool(self, tool) -> None:
        if self._tool is not None:
            self._tool.cancel()
        self._tool = tool

    @property
    def tool(self):
        return self._tool

    def _call_tool(self, what: str, *args) -> None:
        """Run a tool handler; a refusal from the core (locked layer, …) becomes a status message."""
        try:
            getattr(self._tool, what)(*args)
        except LucidError as exc:
            self._tool.cancel()
            self.message.emit(exc.message)

    def _on_tool_kind(self, kind: ToolKind) -> None:
        from editor.ui.tools import make_tool

        self.set_tool(make_tool(kind, self))
        painting = kind in (ToolKind.BRUSH, ToolKind.ERASER)
        self.brush_outline.setVisible(painting and self.underMouse())
        if kind == ToolKind.HAND:
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif painting:
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)

    def _update_outline(self, image_pos: QPointF | None) -> None:
        """Circle at the true brush size (in image pixels), following the cursor."""
        if image_pos is None:
            image_pos = self.brush_outline.rect().center()
        size = self.tool_state.brush_size * (self._pressure if self.tool_state.use_pressure else 1.0)
        r = size / 2
        self.brush_outline.setRect(QRectF(image_pos.x() - r, image_pos.y() - r, 2 * r, 2 * r))

    def _panning(self, event: QMouseEvent) -> bool:
        return (
            event.buttons() & Qt.MouseButton.MiddleButton
            or self._space_down
            or self.tool_state.tool == ToolKind.HAND
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._panning(event)
        ):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self._tool is not None:
            self._call_tool("press", self.to_image(event.position()), event.modifiers(), self._pressure)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = self.to_image(event.position())
        self.cursor_moved.emit(pos)
        self._update_outline(pos)
        if self._pan_from is not None:
            now = event.position().toPoint()
            delta = now - self._pan_from
            self._pan_from = now
            self.pan_by(delta.x(), delta.y())
            event.accept()
            return
        if event.buttons() & Qt.MouseButton.LeftButton and self._tool is not None:
            self._call_tool("move", pos, event.modifiers(), self._pressure)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pan_buttons = (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton)
        if self._pan_from is not None and event.button() in pan_buttons:
            self._pan_from = None
            self._on_tool_kind(self.tool_state.tool) if not self._space_down else self.viewport().setCursor(
                Qt.CursorShape.OpenHandCursor
            )
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self._tool is not None:
            self._call_tool("release", self.to_image(event.position()), event.modifiers())
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def tabletEvent(self, event: QTabletEvent) -> None:
        """Pressure drives brush size; position and buttons still arrive as synthesized mouse events."""
        self._pressure = max(0.05, float(event.pressure())) if event.pressure() > 0 else 1.0
        if event.type() == QEvent.Type.TabletRelease:
            self._pressure = 1.0
        event.ignore()  # let Qt synthesize the mouse event that carries the stroke

    def enterEvent(self, event) -> None:
        kind = self.tool_state.tool
        self.brush_outline.setVisible(kind in (ToolKind.BRUSH, ToolKind.ERASER))
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:
        self.brush_outline.setVisible(False)
        self.cursor_moved.emit(None)
        super().leaveEvent(event)

    # -- keys: space-pan and before/after ---------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == Qt.Key.Key_Backslash and not event.isAutoRepeat():
            self.show_before(True)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self._on_tool_kind(self.tool_state.tool)
            return
        if event.key() == Qt.Key.Key_Backslash and not event.isAutoRepeat():
            self.show_before(False)
            return
        super().keyReleaseEvent(event)

    def show_before(self, on: bool) -> None:
        """While held: show the original (the bottom layer alone), hiding the edits above it."""
        if on == self._before_shown:
            return
        self._before_shown = on
        if on:
            from editor.ui.canvas.before import bottom_layer_source

            display = getattr(self._composite, "display", None)  # the colour-managed source's transform
            self.image_item.set_source(bottom_layer_source(self.doc, display))
        else:
            self.image_item.set_source(self._composite)

    @property
    def before_shown(self) -> bool:
        return self._before_shown

    # -- drag and drop -----------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        from editor.ui.dnd import local_paths

        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.files_dropped.emit(paths)

    # -- misc --------------------------------------------------------------------------------------
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self._before_shown:
            painter.save()
            painter.resetTransform()
            painter.setPen(QColor(255, 255, 255))
            painter.fillRect(8, 8, 64, 22, QColor(0, 0, 0, 160))
            painter.drawText(QRectF(8, 8, 64, 22), Qt.AlignmentFlag.AlignCenter, "Before")
            painter.restore()

    def cursor_image_pos(self) -> QPointF:
        return self.to_image(QPointF(self.viewport().mapFromGlobal(QCursor.pos())))


def zoom_percent(zoom: float) -> str:
    pct = zoom * 100
    return f"{pct:.0f} %" if pct >= 10 or math.isclose(pct, round(pct)) else f"{pct:.1f} %"
