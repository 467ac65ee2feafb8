"""The curves editor: a PCHIP curve (the same `ops.spline_curve` the compositor uses) over the histogram
of the composite. Click to add a point, drag to move it, double-click (or drag it off the side) to remove
it; end points stay. `changed` fires while dragging, `committed` on release."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

from editor.core.adjust import ops
from editor.core.adjust.histogram import Histogram
from editor.ui.panels.histogram_panel import paint_histogram

HIT_PX = 8
CURVE_COLOURS = {"master": QColor(235, 235, 235), "r": QColor(240, 80, 80), "g": QColor(90, 210, 100),
                 "b": QColor(100, 140, 250)}


class CurvesWidget(QWidget):
    changed = Signal(list)  # points while dragging
    committed = Signal(list)  # points after a click, drag or removal

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[list[float]] = [[0.0, 0.0], [1.0, 1.0]]
        self.channel = "master"
        self.hist: Histogram | None = None
        self._drag: int | None = None
        self.setMinimumSize(220, 220)
        self.setMouseTracking(True)

    def set_points(self, points: list[list[float]], channel: str | None = None) -> None:
        self.points = [list(map(float, p)) for p in points]
        if channel is not None:
            self.channel = channel
        self.update()

    def set_histogram(self, hist: Histogram | None) -> None:
        self.hist = hist
        self.update()

    # geometry: curve space [0, 1]² ↔ widget pixels
    def _area(self) -> QRectF:
        side = min(self.width(), self.height()) - 8
        return QRectF(4, 4, side, side)

    def to_widget(self, x: float, y: float) -> QPointF:
        a = self._area()
        return QPointF(a.left() + x * a.width(), a.bottom() - y * a.height())

    def to_curve(self, pos: QPointF) -> tuple[float, float]:
        a = self._area()
        x = (pos.x() - a.left()) / a.width()
        y = (a.bottom() - pos.y()) / a.height()
        return min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)

    def _hit(self, pos: QPointF) -> int | None:
        for i, (x, y) in enumerate(self.points):
            p = self.to_widget(x, y)
            if abs(p.x() - pos.x()) <= HIT_PX and abs(p.y() - pos.y()) <= HIT_PX:
                return i
        return None

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        a = self._area()
        channels = ("luma",) if self.channel == "master" else (self.channel,)
        paint_histogram(p, a, self.hist, channels, clipping=False)
        grid = QPen(QColor(255, 255, 255, 40), 1)
        p.setPen(grid)
        for i in range(1, 4):
            x = a.left() + a.width() * i / 4
            y = a.top() + a.height() * i / 4
            p.drawLine(QPointF(x, a.top()), QPointF(x, a.bottom()))
            p.drawLine(QPointF(a.left(), y), QPointF(a.right(), y))
        p.drawLine(a.bottomLeft(), a.topRight())
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        curve = ops.spline_curve(self.points)[:: 256]
        path = QPainterPath(self.to_widget(0.0, float(curve[0])))
        for i, v in enumerate(curve):
            path.lineTo(self.to_widget(i * 256 / 65535, float(v)))
        path.lineTo(self.to_widget(1.0, float(ops.spline_curve(self.points)[-1])))
        p.setPen(QPen(CURVE_COLOURS[self.channel], 2))
        p.drawPath(path)
        p.setBrush(CURVE_COLOURS[self.channel])
        for x, y in self.points:
            p.drawEllipse(self.to_widget(x, y), 4, 4)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        hit = self._hit(pos)
        if hit is None:
            x, y = self.to_curve(pos)
            if any(abs(px - x) < 0.01 for px, _ in self.points):
                return
            self.points.append([x, y])
            self.points.sort()
            hit = self.points.index([x, y])
            self.changed.emit(self.points)
        self._drag = hit
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        x, y = self.to_curve(event.position())
        i = self._drag
        lo = self.points[i - 1][0] + 0.01 if i > 0 else 0.0
        hi = self.points[i + 1][0] - 0.01 if i < len(self.points) - 1 else 1.0
        if i in (0, len(self.points) - 1):  # end points move vertically and inward only
            x = min(max(x, lo), hi)
        else:
            outside = event.position().x() < -HIT_PX or event.position().x() > self.width() + HIT_PX
            if outside:
                return
            x = min(max(x, lo), hi)
        self.points[i] = [x, y]
        self.changed.emit(self.points)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            self._drag = None
            self.committed.emit(self.points)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self._hit(event.position())
        if hit is not None and 0 < hit < len(self.points) - 1:
            del self.points[hit]
            self._drag = None
            self.committed.emit(self.points)
            self.update()
        elif event.button() == Qt.MouseButton.LeftButton:
            super().mouseDoubleClickEvent(event)
