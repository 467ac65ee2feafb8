"""The Adjustments panel: add adjustment layers and edit the active one's parameters with a live preview.

A drag previews without history and records one undo step on release (`core.adjust.edits`). Previews are
throttled; on large photos (above `PROXY_FROM` pixels) the canvas shows a screen-resolution proxy
(`PreviewProxy`) while the slider moves, then the full-resolution tiles after release.
"""

from __future__ import annotations

import copy
import json
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGraphicsPixmapItem,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider
from superqt.utils import ensure_main_thread, qthrottled

from editor.core.adjust import edits, ops
from editor.core.adjust.kinds import KINDS, normalise
from editor.core.adjust.layer import AdjustmentLayer
from editor.core.adjust.look import look_of
from editor.core.adjust.proxy import PreviewProxy
from editor.core.compositor import planar_to_rgba8, render
from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.geometry import Rect
from editor.io.atomic import atomic_write
from editor.ui.panels.curves_widget import CurvesWidget

if TYPE_CHECKING:
    from editor.ui.main_window import MainWindow

PROXY_FROM = 4_000_000  # pixels; smaller documents recomposite their tiles directly
CHANNEL_LABELS = {"master": "RGB", "r": "Red", "g": "Green", "b": "Blue"}
LEVEL_FIELDS = (("black", 0.0, 1.0, 3), ("grey (gamma)", 0.1, 9.99, 2), ("white", 0.0, 1.0, 3))


def render_tiles(layers: list, rects: dict[tuple[int, int], Rect]) -> dict[tuple[int, int], tuple]:
    """Composite tiles at full resolution (runs on the preview worker thread; pure numpy)."""
    out = {}
    for key, rect in rects.items():
        planar = render(layers, rect)
        out[key] = (planar, planar_to_rgba8(planar))
    return out


class LivePreview:
    """Shows a proxy render over the canvas during a drag on a large document; after release the visible
    tiles are composited at full resolution on a worker thread while the proxy stays on screen, then
    handed to the tab's compositor. Anything that changes the document meanwhile voids that work (the
    canvas then composites as usual)."""

    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self.proxy: PreviewProxy | None = None
        self.item: QGraphicsPixmapItem | None = None
        self.image: QImage | None = None
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lucid-full-res")
        self.pending: Future | None = None
        self._changes = 0
        self._doc: Document | None = None

    def start(self) -> None:
        tab = self.win.current_tab()
        if tab is None or tab.doc.width * tab.doc.height < PROXY_FROM or self.pending is not None:
            return
        view = tab.view
        edge = max(view.viewport().width(), view.viewport().height(), 256)
        self.proxy = PreviewProxy(tab.doc, edge / max(tab.doc.width, tab.doc.height))
        self.item = QGraphicsPixmapItem()
        self.item.setScale(1.0 / self.proxy.scale)
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.item.setZValue(0.5)
        view.scene().addItem(self.item)
        view.image_item.setVisible(False)
        self.update()

    def update(self) -> None:
        if self.proxy is None or self.item is None:
            return
        rgba = self.proxy.render_rgba8(self.win.adjust_panel.layer)
        h, w = rgba.shape[:2]
        self.image = QImage(rgba.data, w, h, w * 4, QImage.Format.Format_RGBA8888_Premultiplied).copy()
        self.item.setPixmap(QPixmap.fromImage(self.image))

    def stop(self) -> None:
        """The drag ended: composite the visible full-resolution tiles off the main thread, then swap."""
        tab = self.win.current_tab()
        if self.item is None or tab is None:
            self._swap()
            return
        view, doc = tab.view, tab.doc
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        area = Rect.from_bounds(int(seen.left()), int(seen.top()), int(seen.right()) + 1,
                                int(seen.bottom()) + 1).intersect(doc.rect)
        rects = {key: tab.compositor.tile_rect(*key) for key in area.tiles()}
        self._changes, self._doc = 0, doc
        doc.events.dirty.connect(self._count)
        self.pending = self.pool.submit(render_tiles, list(doc.layers), rects)
        self.pending.add_done_callback(lambda job: self._finished(job, tab))

    def _count(self, *_: object) -> None:
        self._changes += 1

    @ensure_main_thread
    def _finished(self, job: Future, tab) -> None:
        if self._doc is not None:
            self._doc.events.dirty.disconnect(self._count)
        fresh = self._changes == 0 and job.exception() is None and tab is self.win.current_tab()
        if fresh:
            for (tx, ty), (planar, rgba8p) in job.result().items():
                tab.compositor.put(tx, ty, planar, rgba8p)
        self.pending, self._doc = None, None
        self._swap()

    def _swap(self) -> None:
        tab = self.win.current_tab()
        if self.item is not None and self.item.scene() is not None:
            self.item.scene().removeItem(self.item)
        if tab is not None:
            tab.view.image_item.setVisible(True)
        self.proxy, self.item = None, None


class _GreyPicker(QObject):
    """One click on the canvas samples the composite there and sets white balance to neutralise it."""

    def __init__(self, panel: AdjustPanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress:
            tab = self.panel.win.current_tab()
            obj.removeEventFilter(self)
            if tab is not None:
                pos = tab.view.to_image(event.position())
                self.panel.pick_grey(int(pos.x()), int(pos.y()))
            return True
        return False


class AdjustPanel(QWidget):
    params_previewed = Signal(object)  # parameters shown live (tests and the histogram follow them)

    def __init__(self, win: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.win = win
        self.doc: Document | None = None
        self.layer: AdjustmentLayer | None = None
        self.live = LivePreview(win)
        self._before: dict[str, Any] | None = None
        self._pending: dict[str, Any] | None = None
        self._building = False
        self.sliders: dict[str, QLabeledDoubleSlider] = {}
        self.channel = "master"

        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.add_button = QToolButton()
        self.add_button.setText("Add adjustment ▾")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add_button)
        for name, kind in KINDS.items():
            menu.addAction(kind.label, lambda n=name: self.add(n))
        self.add_button.setMenu(menu)
        top.addWidget(self.add_button)
        self.save_look = QPushButton("Save look…")
        self.save_look.setToolTip("Save the adjustment layers as a preset for `lucid edit --preset`")
        self.save_look.clicked.connect(lambda: self.save_look_as())
        top.addWidget(self.save_look)
        outer.addLayout(top)
        self.title = QLabel("Select an adjustment layer, or add one.")
        self.title.setWordWrap(True)
        outer.addWidget(self.title)
        self.body = QWidget()
        self.form = QFormLayout(self.body)
        outer.addWidget(self.body)
        self.clip = QCheckBox("Clip to the layer below")
        self.clip.toggled.connect(self._on_clip)
        self.paint_mask = QPushButton("Paint mask")
        self.paint_mask.setToolTip("Paint where the adjustment shows (mask brush: B paints, E erases)")
        self.paint_mask.clicked.connect(self._on_paint_mask)
        outer.addWidget(self.clip)
        outer.addWidget(self.paint_mask)
        outer.addStretch(1)
        self._throttled_preview = qthrottled(self._preview_now, timeout=40)
        self._show(None)

    # -- document and active layer ----------------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            self.doc.events.active_layer.disconnect(self._on_active)
            self.doc.history.events.changed.disconnect(self._on_history)
        self.doc = doc
        if doc is not None:
            doc.events.active_layer.connect(self._on_active)
            doc.history.events.changed.connect(self._on_history)
        self._on_active(doc.active_layer if doc is not None else None)

    def _on_active(self, layer: object) -> None:
        self._show(layer if isinstance(layer, AdjustmentLayer) else None)

    def _on_history(self) -> None:
        if self.layer is not None and self._before is None:  # undo/redo moved the parameters
            self._sync_values()

    # -- building the editor ----------------------------------------------------------------------
    def _clear(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.sliders = {}
        self.curves = None
        self.channel_box = None

    def _show(self, layer: AdjustmentLayer | None) -> None:
        self._building = True
        self._clear()
        self.layer = layer
        for w in (self.body, self.clip, self.paint_mask):
            w.setVisible(layer is not None)
        if layer is None:
            self.title.setText("Select an adjustment layer, or add one.")
            self._building = False
            return
        kind = KINDS[layer.adjustment]
        named = f" — {layer.name}" if layer.name != kind.label else ""
        self.title.setText(f"<b>{kind.label}</b>{named}")
        self.clip.setChecked(layer.clipped)
        if layer.adjustment in ("levels", "curves"):
            self.channel_box = QComboBox()
            for key, label in CHANNEL_LABELS.items():
                self.channel_box.addItem(label, key)
            self.channel_box.currentIndexChanged.connect(self._on_channel)
            self.form.addRow("Channel", self.channel_box)
        if layer.adjustment == "levels":
            for i, (label, lo, hi, decimals) in enumerate(LEVEL_FIELDS):
                self._slider(f"level{i}", label, lo, hi, decimals)
        elif layer.adjustment == "curves":
            self.curves = CurvesWidget()
            self.curves.changed.connect(self._on_curve_drag)
            self.curves.committed.connect(self._on_curve_commit)
            self.form.addRow(self.curves)
            hist_panel = getattr(self.win, "histogram_panel", None)
            if hist_panel is not None:
                self.curves.set_histogram(hist_panel.hist)
                hist_panel.updated.connect(self.curves.set_histogram)
        else:
            for key, (lo, hi) in kind.ranges.items():
                self._slider(key, key.replace("_", " ").capitalize(), lo, hi, 2 if hi <= 10 else 0)
        if layer.adjustment == "white_balance":
            pick = QPushButton("Pick grey point")
            pick.setToolTip("Then click something that should be neutral grey on the canvas")
            pick.clicked.connect(self._start_pick)
            self.form.addRow(pick)
        self._building = False
        self._sync_values()

    def _slider(self, key: str, label: str, lo: float, hi: float, decimals: int) -> None:
        s = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        s.setRange(lo, hi)
        s.setDecimals(decimals)
        s.setObjectName(f"adjust-{key}")
        s.valueChanged.connect(self._on_slider)
        s.sliderPressed.connect(self.begin)
        s.sliderReleased.connect(self.commit)
        self.form.addRow(label, s)
        self.sliders[key] = s

    def _sync_values(self) -> None:
        layer = self.layer
        if layer is None:
            return
        self._building = True
        p = layer.params
        if layer.adjustment == "levels":
            for i, value in enumerate(p[self.channel]):
                self.sliders[f"level{i}"].setValue(value)
        elif layer.adjustment == "curves" and self.curves is not None:
            self.curves.set_points(p[self.channel], self.channel)
        else:
            for key, s in self.sliders.items():
                s.setValue(p[key])
        self._building = False

    def _on_channel(self, _i: int) -> None:
        self.channel = self.channel_box.currentData()
        self._sync_values()

    # -- edits --------------------------------------------------------------------------------------
    def params_from_controls(self) -> dict[str, Any]:
        layer = self.layer
        p = copy.deepcopy(layer.params)
        if layer.adjustment == "levels":
            p[self.channel] = [self.sliders[f"level{i}"].value() for i in range(3)]
        elif layer.adjustment == "curves" and self.curves is not None:
            p[self.channel] = [list(pt) for pt in self.curves.points]
        else:
            for key, s in self.sliders.items():
                p[key] = s.value()
        return p

    def begin(self) -> None:
        """A drag starts: remember the parameters to record one undo step on release."""
        if self.layer is not None and self._before is None:
            self._before = copy.deepcopy(self.layer.params)
            self.live.start()

    def commit(self) -> None:
        """A drag (or a typed value) ends: show the final value and record it."""
        if self.layer is None or self.doc is None:
            return
        if self._pending is not None:
            self._preview_now()
        before, self._before = self._before, None
        self.live.stop()
        if before is not None:
            edits.commit_params(self.doc, self.layer, before)

    def _on_slider(self, _value: float) -> None:
        if self._building or self.layer is None:
            return
        if self._before is None:  # keyboard or typed value: one step now
            self.begin()
            self._pending = self._safe_params()
            self.commit()
            return
        self._pending = self._safe_params()
        self._throttled_preview()

    def _safe_params(self) -> dict[str, Any] | None:
        try:
            return normalise(self.layer.adjustment, self.params_from_controls())
        except LucidError as exc:  # e.g. levels white below black while dragging: keep the last good value
            self.win.show_message(exc.message)
            return None

    def _preview_now(self) -> None:
        params, self._pending = self._pending, None
        if params is None or self.layer is None or self.doc is None:
            return
        edits.preview_params(self.doc, self.layer, params)
        self.live.update()
        self.params_previewed.emit(params)

    def _on_curve_drag(self, _points: list) -> None:
        self.begin()
        self._pending = self._safe_params()
        self._throttled_preview()

    def _on_curve_commit(self, _points: list) -> None:
        self.begin()
        self._pending = self._safe_params()
        self.commit()

    def _on_clip(self, on: bool) -> None:
        if not self._building and self.layer is not None and self.doc is not None:
            self.win.run(lambda d: edits.set_clipped(d, self.layer, on))

    def _on_paint_mask(self) -> None:
        if self.layer is not None:
            self.win.edit_layer_mask(self.layer)

    def add(self, name: str) -> AdjustmentLayer | None:
        return self.win.run(lambda d: edits.add_adjustment(d, name))

    def _start_pick(self) -> None:
        tab = self.win.current_tab()
        if tab is not None:
            self._picker = _GreyPicker(self)
            tab.view.viewport().installEventFilter(self._picker)
            self.win.show_message("Click something that should be neutral grey")

    def pick_grey(self, x: int, y: int) -> None:
        """Neutralise the colour under (x, y) as seen below this layer (a 5×5 average)."""
        from editor.core.compositor import planar_to_straight

        doc, layer = self.doc, self.layer
        if doc is None or layer is None:
            return
        parent = doc.parent_of(layer)
        below = parent.children[:parent.children.index(layer)]
        area = Rect(x - 2, y - 2, 5, 5).intersect(doc.rect)
        if area.empty:
            return
        rgb = planar_to_straight(render(below, area))[..., :3].reshape(-1, 3).mean(axis=0)
        temp, tint = ops.white_balance_from_grey(tuple(rgb))
        self.win.run(lambda d: edits.set_params(d, layer, {"temperature": temp, "tint": tint},
                                                "White balance from grey point"))
        self._sync_values()

    def save_look_as(self, path: Path | None = None) -> Path | None:
        doc = self.doc
        if doc is None:
            return None
        if path is None:
            name, _ = QFileDialog.getSaveFileName(self, "Save look as preset", "look.json", "Look (*.json)")
            if not name:
                return None
            path = Path(name)
        data = json.dumps(look_of(doc).to_dict(), indent=1).encode()
        with atomic_write(path) as fh:
            fh.write(data)
        self.win.show_message(f"Saved the look to {path.name} (use it with `lucid edit --preset`)")
        return path
