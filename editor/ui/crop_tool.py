"""The crop tool (C): a rectangle with eight handles over the canvas, aspect presets, a rule-of-thirds
overlay, and straightening by angle (slider, ±45°) or by drawing a line along the horizon (Ctrl-drag, or
the "Level" button). Enter applies, Esc resets. Applying records one undo step: straighten (layers keep the
rotated corners) then a non-destructive crop (editor.core.transform).

While straightening, the canvas item itself is rotated on screen (no pixel work until Enter).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGraphicsItem,
    QLabel,
    QStyleOptionGraphicsItem,
    QToolBar,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from editor.core import transform
from editor.core.compositor import composite
from editor.core.geometry import Rect
from editor.ui.tools import Tool

if TYPE_CHECKING:
    from editor.ui.canvas.view import CanvasView
    from editor.ui.main_window import MainWindow

HANDLE_PX = 9  # handle size on screen
ASPECTS: list[tuple[str, tuple[float, float] | str | None]] = [
    ("Free", None), ("Original", "original"), ("1:1", (1, 1)), ("4:5", (4, 5)), ("3:2", (3, 2)),
    ("16:9", (16, 9)), ("Custom", "custom"),
]
# handle index → which edges it moves (left, top, right, bottom)
_HANDLES = [(1, 1, 0, 0), (0, 1, 0, 0), (0, 1, 1, 0), (0, 0, 1, 0), (0, 0, 1, 1), (0, 0, 0, 1), (1, 0, 0, 1),
            (1, 0, 0, 0)]


def handle_points(r: QRectF) -> list[QPointF]:
    cx, cy = r.center().x(), r.center().y()
    return [QPointF(r.left(), r.top()), QPointF(cx, r.top()), QPointF(r.right(), r.top()),
            QPointF(r.right(), cy), QPointF(r.right(), r.bottom()), QPointF(cx, r.bottom()),
            QPointF(r.left(), r.bottom()), QPointF(r.left(), cy)]


def fit_aspect(r: QRectF, ratio: float) -> QRectF:
    """The largest rectangle of width/height `ratio` centred in `r`."""
    w, h = r.width(), r.height()
    if w / max(h, 1e-9) > ratio:
        w = h * ratio
    else:
        h = w / ratio
    c = r.center()
    return QRectF(c.x() - w / 2, c.y() - h / 2, w, h)


class CropOverlay(QGraphicsItem):
    """Dims what falls outside the crop, draws its frame, thirds, handles and a horizon line being drawn."""

    def __init__(self, tool: CropTool) -> None:
        super().__init__()
        self.tool = tool
        self.setZValue(20)

    def boundingRect(self) -> QRectF:
        d = self.tool.view.doc
        m = max(d.width, d.height)
        return QRectF(-m, -m, d.width + 2 * m, d.height + 2 * m)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        tool = self.tool
        r = tool.rect
        scale = painter.worldTransform().m11() or 1.0
        outside = QPainterPath()
        outside.addRect(self.boundingRect())
        inner = QPainterPath()
        inner.addRect(r)
        painter.fillPath(outside.subtracted(inner), QColor(0, 0, 0, 150))
        pen = QPen(QColor(255, 255, 255, 140), 0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        for i in (1, 2):  # rule of thirds
            x = r.left() + r.width() * i / 3
            y = r.top() + r.height() * i / 3
            painter.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
            painter.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
        pen = QPen(QColor(255, 255, 255), 0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawRect(r)
        s = HANDLE_PX / scale
        for p in handle_points(r):
            painter.fillRect(QRectF(p.x() - s / 2, p.y() - s / 2, s, s), QColor(255, 255, 255))
            painter.drawRect(QRectF(p.x() - s / 2, p.y() - s / 2, s, s))
        if tool.line is not None:
            line_pen = QPen(QColor(255, 210, 0), 2)
            line_pen.setCosmetic(True)
            painter.setPen(line_pen)
            painter.drawLine(*tool.line)


class CropTool(Tool):
    """State: `rect` (image coordinates, in the frame after straightening), `angle` (degrees, clockwise),
    `ratio` (width/height or None for free). Pointer: handles resize, inside moves, outside draws anew;
    Ctrl-drag (or level mode) draws a horizon line that sets the angle."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self.angle = 0.0
        self.ratio: float | None = None
        self.level_mode = False
        self.on_angle: Callable[[float], None] | None = None  # the options bar follows drawn horizons
        self.line: tuple[QPointF, QPointF] | None = None
        self.rect = self._canvas()
        self._drag: tuple[str, int, QPointF, QRectF] | None = None
        self.overlay = CropOverlay(self)
        view.scene().addItem(self.overlay)
        view.doc.events.canvas.connect(self._on_canvas)

    def _canvas(self) -> QRectF:
        d = self.view.doc
        return QRectF(0, 0, d.width, d.height)

    def _on_canvas(self, *_: object) -> None:
        self.reset()

    def _bounds(self) -> QRectF:
        """Where the crop may go: the canvas, or the upright rectangle inside the straightened image."""
        if not self.angle:
            return self._canvas()
        d = self.view.doc
        r = transform.straighten_crop(d.width, d.height, self.angle)
        return QRectF(r.x, r.y, r.w, r.h)

    def update(self) -> None:
        self.overlay.prepareGeometryChange()
        self.overlay.update()

    # -- settings from the options bar ----------------------------------------------------------
    def set_ratio(self, ratio: float | None) -> None:
        self.ratio = ratio
        if ratio is not None:
            self.rect = fit_aspect(self.rect, ratio)
        self.update()

    def swap_orientation(self) -> None:
        if self.ratio is not None:
            self.set_ratio(1.0 / self.ratio)
        else:
            c, w, h = self.rect.center(), self.rect.width(), self.rect.height()
            self.rect = QRectF(c.x() - h / 2, c.y() - w / 2, h, w).intersected(self._bounds())
            self.update()

    def set_angle(self, degrees: float) -> None:
        """Preview the straightening on screen and keep the crop inside the rotated image."""
        self.angle = float(max(-45.0, min(45.0, degrees)))
        item = self.view.image_item
        d = self.view.doc
        item.setTransformOriginPoint(d.width / 2, d.height / 2)
        item.setRotation(self.angle)
        self.rect = self._bounds() if self.ratio is None else fit_aspect(self._bounds(), self.ratio)
        self.update()
        if self.on_angle is not None:
            self.on_angle(self.angle)

    # -- pointer ----------------------------------------------------------------------------------
    def _hit(self, pos: QPointF) -> int | None:
        tol = HANDLE_PX / max(self.view.zoom, 1e-6)
        for i, p in enumerate(handle_points(self.rect)):
            if abs(p.x() - pos.x()) <= tol and abs(p.y() - pos.y()) <= tol:
                return i
        return None

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        if self.overlay.scene() is None:
            self.view.scene().addItem(self.overlay)
        if self.level_mode or modifiers & Qt.KeyboardModifier.ControlModifier:
            self.line = (pos, pos)
            self._drag = ("line", -1, pos, QRectF(self.rect))
        elif (handle := self._hit(pos)) is not None:
            self._drag = ("resize", handle, pos, QRectF(self.rect))
        elif self.rect.contains(pos):
            self._drag = ("move", -1, pos, QRectF(self.rect))
        else:
            self._drag = ("new", 4, pos, QRectF(pos, pos))
        self.update()

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        if self._drag is None:
            return
        what, handle, start, r0 = self._drag
        if what == "line":
            self.line = (start, pos)
        elif what == "move":
            d = pos - start
            r = r0.translated(d)
            b = self._bounds()
            r.moveLeft(min(max(r.left(), b.left()), b.right() - r.width()))
            r.moveTop(min(max(r.top(), b.top()), b.bottom() - r.height()))
            self.rect = r
        else:
            self.rect = self._resized(r0, handle, pos - start)
        self.update()

    def _resized(self, r0: QRectF, handle: int, d: QPointF) -> QRectF:
        left, top, right, bottom = _HANDLES[handle]
        x0, y0, x1, y1 = r0.left(), r0.top(), r0.right(), r0.bottom()
        x0 += d.x() * left
        y0 += d.y() * top
        x1 += d.x() * right
        y1 += d.y() * bottom
        r = QRectF(QPointF(min(x0, x1), min(y0, y1)), QPointF(max(x0, x1), max(y0, y1)))
        if self.ratio is not None:
            if left or right:  # width leads; height follows from the opposite edge
                h = r.width() / self.ratio
                r = QRectF(r.left(), r.bottom() - h if top else r.top(), r.width(), h)
            else:
                w = r.height() * self.ratio
                r = QRectF(r.center().x() - w / 2, r.top(), w, r.height())
        r = r.intersected(self._bounds())
        if self.ratio is not None and not r.isEmpty():
            r = fit_aspect(r, self.ratio)
        return r if r.width() >= 1 and r.height() >= 1 else r0

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if self._drag is None:
            return
        what = self._drag[0]
        self._drag = None
        if what == "line" and self.line is not None:
            p0, p1 = self.line
            self.line = None
            if math.hypot(p1.x() - p0.x(), p1.y() - p0.y()) >= 8:
                self.level_to((p0.x(), p0.y()), (p1.x(), p1.y()))
        self.update()

    def level_to(self, p0: tuple[float, float], p1: tuple[float, float]) -> float:
        """Straighten so the drawn line (snapped to the edge under it) becomes level (or plumb)."""
        doc = self.view.doc
        band = 12
        x0, y0 = math.floor(min(p0[0], p1[0])) - band, math.floor(min(p0[1], p1[1])) - band
        x1, y1 = math.ceil(max(p0[0], p1[0])) + band, math.ceil(max(p0[1], p1[1])) + band
        area = Rect.from_bounds(x0, y0, x1, y1).intersect(doc.rect)
        if not area.empty:
            rgba = composite(doc, area)
            gray = rgba[..., :3].mean(axis=2)
            local = ((p0[0] - area.x, p0[1] - area.y), (p1[0] - area.x, p1[1] - area.y))
            a, b = transform.refine_line(gray, *local, band=band)
            p0, p1 = (a[0] + area.x, a[1] + area.y), (b[0] + area.x, b[1] + area.y)
        correction = -transform.line_angle(p0, p1)
        self.set_angle(self.angle + correction)
        return self.angle

    # -- apply / reset ------------------------------------------------------------------------------
    def apply(self) -> None:
        """Straighten (if an angle is set) and crop, as one undo step."""
        doc = self.view.doc
        r = self.rect
        crop = Rect(round(r.left()), round(r.top()), round(r.width()), round(r.height()))
        angle = self.angle
        self._unrotate()
        with doc.group("Crop" if not angle else f"Crop and straighten {angle:+.1f}°"):
            if angle:
                transform.straighten(doc, angle, auto_crop=False)
            if crop.w > 0 and crop.h > 0:
                transform.crop(doc, crop)
        self.reset()

    def _unrotate(self) -> None:
        self.view.image_item.setRotation(0.0)

    def reset(self) -> None:
        """Esc: back to the whole canvas, no angle (the document is untouched)."""
        self.angle = 0.0
        self._unrotate()
        self.line = None
        self._drag = None
        self.rect = self._canvas() if self.ratio is None else fit_aspect(self._canvas(), self.ratio)
        self.update()

    def cancel(self) -> None:
        """Tool switched away: drop the overlay and the on-screen rotation."""
        self.reset()
        if self.overlay.scene() is not None:
            self.view.scene().removeItem(self.overlay)
        with contextlib.suppress(RuntimeError, ValueError):
            self.view.doc.events.canvas.disconnect(self._on_canvas)


class CropBar(QToolBar):
    """Options for the crop tool: aspect, orientation swap, straighten angle, level by line, apply/reset."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__("Crop", win)
        self.setObjectName("toolbar-crop")
        self.win = win
        self.addWidget(QLabel(" Aspect "))
        self.aspect = QComboBox()
        for label, value in ASPECTS:
            self.aspect.addItem(label, value)
        self.aspect.currentIndexChanged.connect(self._on_aspect)
        self.addWidget(self.aspect)
        self.custom_w = QDoubleSpinBox(minimum=0.01, maximum=100, value=5.0, decimals=2)
        self.custom_h = QDoubleSpinBox(minimum=0.01, maximum=100, value=7.0, decimals=2)
        for box in (self.custom_w, self.custom_h):
            box.valueChanged.connect(self._on_aspect)
            box.setVisible(False)
        self.custom_actions = [self.addWidget(self.custom_w), self.addWidget(self.custom_h)]
        self.swap = self.addAction("⇄ Portrait/Landscape", self._swap)
        self.addSeparator()
        self.addWidget(QLabel(" Straighten "))
        self.angle = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.angle.setRange(-45.0, 45.0)
        self.angle.setDecimals(1)
        self.angle.setValue(0.0)
        self.angle.setMinimumWidth(220)
        self.angle.valueChanged.connect(self._on_angle)
        self.addWidget(self.angle)
        self.level = QAction("Level by line", self, checkable=True)
        self.level.setToolTip("Draw a line along the horizon (or Ctrl-drag with the crop tool)")
        self.level.toggled.connect(self._on_level)
        self.addAction(self.level)
        self.addSeparator()
        self.apply_action = QAction("Apply (Enter)", self)
        self.apply_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        self.apply_action.triggered.connect(self.apply)
        self.reset_action = QAction("Reset (Esc)", self)
        self.reset_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.reset_action.triggered.connect(self.reset)
        self.addAction(self.apply_action)
        self.addAction(self.reset_action)
        self._syncing = False

    def tool(self) -> CropTool | None:
        tab = self.win.current_tab()
        t = tab.view.tool if tab is not None else None
        return t if isinstance(t, CropTool) else None

    def _ratio(self) -> float | None:
        value = self.aspect.currentData()
        custom = value == "custom"
        for a in self.custom_actions:
            a.setVisible(custom)
        if value is None:
            return None
        if value == "original":
            doc = self.win.current_doc()
            return doc.width / doc.height if doc is not None else None
        if custom:
            return self.custom_w.value() / self.custom_h.value()
        w, h = value
        return w / h

    def _on_aspect(self, *_: object) -> None:
        tool = self.tool()
        if tool is not None:
            tool.set_ratio(self._ratio())

    def _swap(self) -> None:
        tool = self.tool()
        if tool is not None:
            tool.swap_orientation()

    def _on_angle(self, value: float) -> None:
        tool = self.tool()
        if tool is not None and not self._syncing:
            tool.set_angle(value)

    def sync_angle(self, value: float) -> None:
        self._syncing = True
        self.angle.setValue(value)
        self._syncing = False

    def _on_level(self, on: bool) -> None:
        tool = self.tool()
        if tool is not None:
            tool.level_mode = on

    def apply(self) -> None:
        tool = self.tool()
        if tool is not None:
            self.win.run(lambda _doc: tool.apply())
            self.sync_angle(0.0)

    def reset(self) -> None:
        tool = self.tool()
        if tool is not None:
            tool.reset()
            self.sync_angle(0.0)

    def attach(self, tool: CropTool) -> None:
        """A new crop tool instance: give it the bar's current settings."""
        tool.ratio = self._ratio()
        tool.level_mode = self.level.isChecked()
        tool.reset()
        tool.on_angle = self.sync_angle
