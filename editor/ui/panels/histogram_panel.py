"""The histogram panel: RGB and luminance of the composite with clipping indicators, following edits.

It reads a small stand-in of the composite (`PreviewProxy`, ≤ 512 px) and recomputes after edits settle
(a short single-shot timer, not on every dirty tile). Even the stand-in means shrinking every layer, which
took 75–170 ms on a 24 MP photo: so the GUI thread only copies the layer structure (`peek_document`: the
live buffers, unlocked, so no edit ever has to copy them) and one background thread computes the
histogram, newest request wins. A stroke landing meanwhile can tear that read; the stroke's own refresh
follows.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPolygonF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from editor.core.adjust.histogram import BINS, Histogram, histogram
from editor.core.adjust.proxy import PreviewProxy
from editor.core.document import Document
from editor.core.snapshot import peek_document

log = logging.getLogger(__name__)

SAMPLE_EDGE = 512
COLOURS = {"r": QColor(230, 60, 60, 120), "g": QColor(60, 200, 80, 120), "b": QColor(70, 110, 240, 120)}


def paint_histogram(painter: QPainter, rect: QRectF, hist: Histogram | None, channels=("r", "g", "b", "luma"),
                    clipping: bool = True) -> None:
    """Draw `hist` into `rect` (square-root scaled so shadows of small peaks show)."""
    painter.fillRect(rect, QColor(40, 40, 44))
    if hist is None or hist.pixels == 0:
        return
    arrays = {"r": hist.r, "g": hist.g, "b": hist.b, "luma": hist.luma}
    top = max(float(arrays[c].max()) for c in channels) ** 0.5 or 1.0
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for c in channels:
        values = arrays[c] ** 0.5 / top
        path = QPainterPath(QPointF(rect.left(), rect.bottom()))
        for i, v in enumerate(values):
            x = rect.left() + rect.width() * (i + 0.5) / BINS
            path.lineTo(QPointF(x, rect.bottom() - v * rect.height()))
        path.lineTo(QPointF(rect.right(), rect.bottom()))
        path.closeSubpath()
        painter.fillPath(path, COLOURS.get(c, QColor(200, 200, 200, 90)))
    if clipping:
        for frac, x, flip in ((hist.clipped_black, rect.left(), 1), (hist.clipped_white, rect.right(), -1)):
            lit = frac > 1e-4
            colour = QColor(255, 255, 255) if lit else QColor(90, 90, 96)
            tri = QPolygonF([QPointF(x, rect.top()), QPointF(x + 10 * flip, rect.top()),
                             QPointF(x, rect.top() + 10)])
            painter.setBrush(colour)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawPolygon(tri)


class HistogramView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hist: Histogram | None = None
        self.setMinimumSize(200, 110)

    def set_histogram(self, hist: Histogram | None) -> None:
        self.hist = hist
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        paint_histogram(p, QRectF(self.rect()).adjusted(1, 1, -1, -1), self.hist)


class HistogramPanel(QWidget):
    """Follows the current document's composite; `hist` is the latest histogram (None without a document).

    `updated` fires on the GUI thread with each new histogram."""

    updated = Signal(object)  # Histogram | None
    _computed = Signal(object, int)  # (Histogram, request number), from the background thread

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc: Document | None = None
        self.view = HistogramView()
        self.info = QLabel("")
        self.info.setStyleSheet("color: #9aa0a8;")
        lay = QVBoxLayout(self)
        lay.addWidget(self.view)
        lay.addWidget(self.info)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.refresh)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lucid-histogram")
        self._requests = 0
        self._computed.connect(self._show)
        self.destroyed.connect(lambda *_: self._pool.shutdown(wait=False, cancel_futures=True))

    @property
    def hist(self) -> Histogram | None:
        return self.view.hist

    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            self.doc.events.dirty.disconnect(self._schedule)
        self.doc = doc
        if doc is not None:
            doc.events.dirty.connect(self._schedule)
        self.refresh()

    def _schedule(self, *_: object) -> None:
        self._timer.start()

    def refresh(self) -> Future | None:
        """Start computing the current document's histogram; None when there is nothing to compute."""
        self._requests += 1
        if self.doc is None:
            self._set(None)
            return None
        if self.doc.history.editing:  # a stroke is writing into the buffers: look again when it settles
            self._timer.start()
            return None
        scale = SAMPLE_EDGE / max(self.doc.width, self.doc.height)
        return self._pool.submit(self._compute, peek_document(self.doc), scale, self._requests)

    def _compute(self, peek: Document, scale: float, request: int) -> None:
        try:
            hist = histogram(PreviewProxy(peek, scale).render_planar(), planar=True)
        except Exception:  # a histogram is never worth a crash; the next edit tries again
            log.exception("histogram failed")
            return
        self._computed.emit(hist, request)

    def _show(self, hist: Histogram, request: int) -> None:
        if request == self._requests:  # an older request finishing late never overwrites a newer one
            self._set(hist)

    def _set(self, hist: Histogram | None) -> None:
        self.view.set_histogram(hist)
        self.info.setText("" if hist is None else
                          f"Clipped: shadows {hist.clipped_black:.2%} · highlights {hist.clipped_white:.2%}")
        self.updated.emit(hist)
