"""Matte panel: paint or build a trimap, cut the subject out with soft edges, replace its background.

Trimap sources: the three brushes (a canvas tool painting `Trimap` codes, shown as a tinted overlay),
a band around the current selection (erode/dilate by the band width), or "Auto subject" (task
"salient") where a subject model is installed. An optional clean background plate switches the job
to plate mode; the painted trimap then only corrects the automatic one.

Re-run: the cut-out's recipe carries the trimap (zlib codes, a few KB), the engine, the mode, and
the plate's path + sha256, so "Re-run" works after the project is reopened; the source is the
recipe's source layers, rendered as if visible (the cut-out hides them).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledSlider
from superqt.utils import qdebounced

from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.layers import PixelLayer, ResultLayer
from editor.infer.api import Request
from editor.infer.matting.background import blurred
from editor.infer.matting.trimap import trimap_from_mask
from editor.infer.subject import PERSON_MODEL, band_px, installed_subject_model
from editor.ui.ai.inputs import InputImage, load_input_image, reload_input_image, shown_as_is
from editor.ui.ai.panel_layout import scroll_body
from editor.ui.ai.trimap_tool import (
    BACKGROUND,
    CODE_NAMES,
    FOREGROUND,
    Trimap,
    TrimapBrushTool,
    TrimapOverlay,
    decode_codes,
)

if TYPE_CHECKING:
    from editor.ui.ai.controller import AiController
    from editor.ui.main_window import MainWindow

ENGINES = (("cf", "Closed-form"), ("knn", "KNN"), ("lkm", "Large kernel"))
BACKGROUNDS = (("color", "Colour"), ("image", "Image…"), ("blur", "Blurred original"))
SALIENT_TASK = "salient"


class MattePanel(QWidget):
    TITLE = "Matte"

    def __init__(self, controller: AiController, window: MainWindow) -> None:
        super().__init__()
        self.controller = controller
        self.window = window
        self._trimaps: weakref.WeakKeyDictionary[Document, Trimap] = weakref.WeakKeyDictionary()
        self._plates: weakref.WeakKeyDictionary[Document, InputImage] = weakref.WeakKeyDictionary()
        self._band_masks: weakref.WeakKeyDictionary[Document, np.ndarray] = weakref.WeakKeyDictionary()
        # the band a user chose per photo; others get the automatic band for their size (band_px)
        self._user_bands: weakref.WeakKeyDictionary[Document, int] = weakref.WeakKeyDictionary()
        self._overlay: TrimapOverlay | None = None
        self._overlay_view = None
        self._installing = False
        self.bg_color = QColor(255, 255, 255)

        # trimap
        self.brushes: dict[str, QToolButton] = {}
        self.brush_group = QButtonGroup(self)
        self.brush_group.setExclusive(False)
        row = QHBoxLayout()
        for name, tip in (("foreground", "the subject (green)"), ("background", "what goes (red)"),
                          ("unknown", "soft edges: hair, fur, glass (yellow)")):
            b = QToolButton()
            b.setText(name.capitalize())
            b.setCheckable(True)
            b.setToolTip(f"Paint {tip}; brush size from Tool Options ([ and ])")
            b.toggled.connect(lambda on, n=name: self._on_brush(n, on))
            self.brush_group.addButton(b)
            self.brushes[name] = b
            row.addWidget(b)
        self.undo_button = QPushButton("Undo stroke")
        self.undo_button.clicked.connect(self.undo_trimap)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear_trimap)
        self.show_trimap = QCheckBox("Show trimap")
        self.show_trimap.setChecked(True)
        self.show_trimap.toggled.connect(self._show_overlay)
        self.band = QLabeledSlider(Qt.Orientation.Horizontal)
        self.band.setRange(1, 200)
        self.band.setValue(10)
        self.band.setToolTip("Width of the unknown band on each side of the selection edge (pixels)")
        self.band.valueChanged.connect(self._band_moved)
        self.from_selection = QPushButton("From selection")
        self.from_selection.setToolTip(
            "Foreground inside the selection, background outside, unknown on the edge")
        self.from_selection.clicked.connect(self.trimap_from_selection)
        self.auto_subject = QPushButton("Auto subject")
        self.auto_subject.clicked.connect(lambda: self.controller.spawn(self.find_subject()))

        tri = QGroupBox("Trimap")
        tl = QVBoxLayout(tri)
        tl.addLayout(row)
        edit_row = QHBoxLayout()
        for w in (self.undo_button, self.clear_button, self.show_trimap):
            edit_row.addWidget(w)
        tl.addLayout(edit_row)
        band_form = QFormLayout()
        band_form.addRow("Band", self.band)
        tl.addLayout(band_form)
        sel_row = QHBoxLayout()
        sel_row.addWidget(self.from_selection)
        sel_row.addWidget(self.auto_subject)
        tl.addLayout(sel_row)

        # engine and plate
        self.engine = QComboBox()
        for key, label in ENGINES:
            self.engine.addItem(label, key)
        self.plate_label = QLabel("No plate")
        self.plate_label.setWordWrap(True)
        self.add_plate_button = QPushButton("Add background plate…")
        self.add_plate_button.setToolTip("A second photo of the same scene without the subject (plate mode)")
        self.add_plate_button.clicked.connect(self.choose_plate)
        self.remove_plate_button = QPushButton("Remove")
        self.remove_plate_button.clicked.connect(self.remove_plate)
        self.hide_sources = QCheckBox("Hide the source layers")
        self.hide_sources.setChecked(True)
        self.cut_button = QPushButton("Cut out")
        self.cut_button.setDefault(True)
        self.cut_button.clicked.connect(lambda: self.controller.spawn(self.cut_out()))
        self.subject_button = QPushButton("Cut out subject (one click)")
        self.subject_button.setToolTip(
            "No trimap needed: the subject model's mask, or your rough selection refined to the subject, "
            "then a soft matte")
        self.subject_button.clicked.connect(lambda: self.controller.spawn(self.cut_out_subject()))
        matte = QGroupBox("Matte")
        ml = QFormLayout(matte)
        ml.addRow("Engine", self.engine)
        plate_row = QHBoxLayout()
        plate_row.addWidget(self.add_plate_button)
        plate_row.addWidget(self.remove_plate_button)
        ml.addRow(plate_row)
        ml.addRow(self.plate_label)
        ml.addRow(self.hide_sources)
        ml.addRow(self.cut_button)
        ml.addRow(self.subject_button)

        # replace background
        self.bg_kind = QComboBox()
        for key, label in BACKGROUNDS:
            self.bg_kind.addItem(label, key)
        self.color_button = QPushButton()
        self.color_button.clicked.connect(self.pick_color)
        self.blur = QLabeledSlider(Qt.Orientation.Horizontal)
        self.blur.setRange(1, 100)
        self.blur.setValue(12)
        self.replace_button = QPushButton("Replace background")
        self.replace_button.clicked.connect(lambda: self._guard(self.replace_background))
        bg = QGroupBox("Replace background")
        bl = QFormLayout(bg)
        bl.addRow("With", self.bg_kind)
        bl.addRow("Colour", self.color_button)
        bl.addRow("Blur", self.blur)
        bl.addRow(self.replace_button)

        lay = scroll_body(self)
        for w in (tri, matte, bg):
            lay.addWidget(w)
        lay.addStretch(1)

        self._set_color(self.bg_color)
        controller.register_rerun("matting", self.rebuild)
        window.active_document_changed.connect(self._on_document)
        window.tool_state.events.tool.connect(self._on_tool_kind)
        controller.add_panel(self.TITLE, self)
        self._on_document(window.current_doc())

    # -- per-document state ------------------------------------------------------------------------
    def trimap(self, doc: Document) -> Trimap:
        t = self._trimaps.get(doc)
        if t is None or t.shape != (doc.height, doc.width):
            t = self._trimaps[doc] = Trimap(doc.width, doc.height)
            t.changed.connect(self._trimap_changed)
        return t

    def _trimap_changed(self, _rect: Any = None) -> None:
        """Editing the trimap while it is hidden would be painting blind: show it."""
        if not self.show_trimap.isChecked():
            self.show_trimap.setChecked(True)

    def plate(self, doc: Document) -> InputImage | None:
        return self._plates.get(doc)

    def _on_document(self, doc: Document | None) -> None:
        self._detach_overlay()
        if doc is not None:
            self._show_band(doc)
        tab = self.window.current_tab()
        if doc is not None and tab is not None:
            self._overlay = TrimapOverlay(self.trimap(doc))
            self._overlay.setVisible(self.show_trimap.isChecked())
            tab.view.scene().addItem(self._overlay)
            self._overlay_view = weakref.ref(tab.view)
            active = self._active_brush()
            if active is not None:
                self._install_tool(active)
        self._refresh()

    def _show_overlay(self, on: bool) -> None:
        if self._overlay is not None:
            self._overlay.setVisible(on)

    def _detach_overlay(self) -> None:
        import shiboken6

        overlay, self._overlay = self._overlay, None
        if overlay is None:
            return
        overlay.detach()
        view = self._overlay_view() if self._overlay_view else None
        alive = view is not None and shiboken6.isValid(view) and shiboken6.isValid(overlay)
        if alive and overlay.scene() is not None:
            view.scene().removeItem(overlay)

    def _refresh(self) -> None:
        doc = self.window.current_doc()
        has = doc is not None
        plate = self.plate(doc) if has else None
        self.plate_label.setText(f"Plate: {plate.path.name}" if plate else "No plate (trimap mode)")
        self.remove_plate_button.setEnabled(plate is not None)
        subject = self._subject_model()
        self.auto_subject.setEnabled(has and subject is not None)
        self.auto_subject.setToolTip(
            "Find the subject with the installed subject model and seed the trimap" if subject
            else "Install a subject model (AI → Models…) to find the subject automatically")
        for w in (self.cut_button, self.subject_button, self.from_selection, self.add_plate_button,
                  self.replace_button, self.undo_button, self.clear_button, *self.brushes.values()):
            w.setEnabled(has)

    def _subject_model(self) -> str | None:
        """The model Auto subject uses: as Select → Subject, the best installed general model (IS-Net over
        U²-Netp), else the person model, so people are still found in one click."""
        return installed_subject_model(self.controller.store, "auto")

    # -- brushes -----------------------------------------------------------------------------------
    def _active_brush(self) -> str | None:
        return next((n for n, b in self.brushes.items() if b.isChecked()), None)

    def _on_brush(self, name: str, on: bool) -> None:
        if on:
            for other, b in self.brushes.items():
                if other != name and b.isChecked():
                    b.blockSignals(True)
                    b.setChecked(False)
                    b.blockSignals(False)
            self._install_tool(name)
        elif self._active_brush() is None:
            self._restore_tool()

    def _install_tool(self, name: str) -> None:
        tab = self.window.current_tab()
        if tab is None:
            return
        from editor.ui.tool_state import ToolKind

        self._installing = True
        try:
            self.window.tool_state.tool = ToolKind.BRUSH  # the brush outline and no hand-panning
        finally:
            self._installing = False
        doc = tab.doc
        self._band_masks.pop(doc, None)
        tab.view.set_tool(TrimapBrushTool(tab.view, self.trimap(doc), CODE_NAMES[name]))
        self.window.show_message(f"Painting the trimap: {name} (pick a Tool to stop)")

    def _restore_tool(self) -> None:
        tab = self.window.current_tab()
        if tab is not None and isinstance(tab.view.tool, TrimapBrushTool):
            from editor.ui.tools import make_tool

            tab.view.set_tool(make_tool(self.window.tool_state.tool, tab.view))

    def _on_tool_kind(self, _kind: Any) -> None:
        """Another tool was picked: the canvas replaced ours, so the brush buttons go up."""
        if self._installing:
            return
        for b in self.brushes.values():
            b.blockSignals(True)
            b.setChecked(False)
            b.blockSignals(False)

    def stop_painting(self) -> None:
        for b in self.brushes.values():
            b.setChecked(False)

    # -- trimap commands ---------------------------------------------------------------------------
    def _doc(self) -> Document | None:
        return self.window.current_doc()

    def undo_trimap(self) -> None:
        doc = self._doc()
        if doc is not None and not self.trimap(doc).undo():
            self.window.show_message("Nothing to undo in the trimap.")

    def clear_trimap(self) -> None:
        doc = self._doc()
        if doc is not None:
            self._band_masks.pop(doc, None)
            self.trimap(doc).clear()

    def trimap_from_selection(self) -> bool:
        doc = self._doc()
        if doc is None:
            return False
        selection = self.controller.selection_mask(doc)
        if selection is None:
            self.window.show_message("Select the subject first (mask brush, lasso …), then build the trimap.")
            return False
        mask = selection.render()
        self._band_masks[doc] = mask
        self.trimap(doc).set_from_task_trimap(trimap_from_mask(mask, self.band.value()))
        return True

    def _show_band(self, doc: Document) -> None:
        """The slider shows this photo's band: the user's choice, else 1 % of the longer side (what the
        one-click cut-out uses by default), so what it says is what the next cut-out will do."""
        auto = min(self.band.maximum(), band_px((doc.height, doc.width)))
        with QSignalBlocker(self.band):
            self.band.setValue(self._user_bands.get(doc, auto))

    @qdebounced(timeout=150)
    def _band_moved(self, *_: Any) -> None:
        """Dragging the band slider rebuilds a trimap that came from the selection (not a painted one)."""
        doc = self._doc()
        if doc is not None:
            self._user_bands[doc] = self.band.value()
        mask = self._band_masks.get(doc) if doc is not None else None
        if mask is not None:
            trimap = self.trimap(doc)
            trimap.set_from_task_trimap(trimap_from_mask(mask, self.band.value()))

    async def find_subject(self) -> bool:
        doc = self._doc()
        model = self._subject_model()
        if doc is None or model is None:
            return False
        task = "segment" if model == PERSON_MODEL else SALIENT_TASK
        request = Request(task=task, image=self.controller.snapshot(doc, channels=3), model_id=model,
                          params={"band_px": self.band.value()})
        result = await self.controller.run(request)
        if result is None or not self.controller.is_open(doc):
            return False
        mask = self._band_masks[doc] = np.asarray(result.images["mask"], np.float32)
        trimap = result.images.get("trimap")
        self.trimap(doc).set_from_task_trimap(
            trimap if trimap is not None else trimap_from_mask(mask, self.band.value()))
        return True

    async def cut_out_subject(self) -> ResultLayer | None:
        """One click: the selection refined to the subject (or the subject model's mask) → soft matte."""
        tools = getattr(self.controller, "subject_select", None)
        if tools is None:
            return None
        layer = await tools.cut_out(band_px=self.band.value(), engine=self.engine.currentData(),
                                    hide_sources=self.hide_sources.isChecked())
        if layer is not None:
            self.stop_painting()
            self.show_trimap.setChecked(False)
        return layer

    # -- plate -------------------------------------------------------------------------------------
    def choose_plate(self) -> None:
        doc = self._doc()
        if doc is None:
            return
        start = doc.path.parent if doc.path else None
        paths = self.window.prompts.open_paths(start)
        if paths:
            self._guard(lambda: self.set_plate(doc, paths[0]))

    def set_plate(self, doc: Document, path) -> InputImage:
        plate = load_input_image(path)
        if plate.size != (doc.width, doc.height):
            w, h = plate.size
            raise LucidError(f"The plate {plate.path.name} is {w}×{h} but the photo is "
                             f"{doc.width}×{doc.height}; take both shots at the same size.")
        self._plates[doc] = plate
        self._refresh()
        return plate

    def remove_plate(self) -> None:
        doc = self._doc()
        if doc is not None:
            self._plates.pop(doc, None)
            self._refresh()

    # -- cut out -----------------------------------------------------------------------------------
    def _params(self, doc: Document, trimap: Trimap, plate: InputImage | None) -> dict[str, Any]:
        params: dict[str, Any] = {"mode": "plate" if plate else "trimap", "engine": self.engine.currentData()}
        if plate is not None:
            params["plate"] = plate.ref()
        return params

    async def cut_out(self) -> ResultLayer | None:
        """Matte the visible image; the cut-out (foreground colours + alpha) becomes a result layer."""
        doc = self._doc()
        if doc is None:
            return None
        trimap, plate = self.trimap(doc), self.plate(doc)
        if plate is None and not (trimap.has(FOREGROUND) and trimap.has(BACKGROUND)):
            self.window.prompts.error(
                "Paint some foreground and some background first (or build the trimap from a selection), "
                "or add a background plate.")
            return None
        sources = [layer for layer in doc.layers if layer.visible]
        request = Request(task="matting", image=self.controller.render_layers(doc, sources),
                          params=self._params(doc, trimap, plate), inputs=self._inputs(trimap, plate),
                          output_dtype=np.dtype(doc.dtype).name)
        # the recipe keeps a painted trimap: packed (zlib of 24 MB on a 24 MP photo) while the job runs
        pack = trimap.packed_later() if trimap.painted else None
        result, packed = await self.controller.run_packing(request, pack)
        if result is None or not self.controller.is_open(doc):
            return None
        if packed is not None:
            request.params["trimap"] = packed
        recipe = self.controller.recipe_for(request, result, source_ids=[s.id for s in sources])
        engine = dict(ENGINES)[request.params["engine"]]
        with doc.group("Cut out"):
            layer = self.controller.add_result_layer(
                doc, result.image, name=f"Cut-out ({engine})", recipe=recipe,
                above=sources[-1] if sources else None)
            if self.hide_sources.isChecked():
                for s in sources:
                    doc.set_property(s, "visible", False)
        self.stop_painting()
        self.show_trimap.setChecked(False)  # the cut-out is what the user wants to see now
        return layer

    @staticmethod
    def _inputs(trimap: Trimap, plate: InputImage | None) -> dict[str, np.ndarray]:
        inputs: dict[str, np.ndarray] = {}
        if plate is not None:
            inputs["plate"] = plate.rgb
        if trimap.painted or plate is None:
            inputs["trimap"] = trimap.task_trimap_later()  # mapped on the worker
        return inputs

    def rebuild(self, doc: Document, layer: ResultLayer) -> Request:
        """Re-run hook: the request again from the recipe (trimap codes, engine, plate file)."""
        params = dict(layer.recipe.params)
        trimap = Trimap(doc.width, doc.height)
        if "trimap" in params:
            codes = decode_codes(params["trimap"])
            if codes.shape != trimap.shape:
                raise LucidError("The document was resized since this cut-out was made; cut out again.")
            trimap.codes = codes
        plate = None
        if params.get("mode") == "plate":
            plate = reload_input_image(params["plate"], "background plate")
        image = self.controller.render_layers(doc, shown_as_is(self.controller.source_layers(doc, layer)))
        return Request(task="matting", image=image, params=params, inputs=self._inputs(trimap, plate))

    # -- replace background ------------------------------------------------------------------------
    def _guard(self, fn) -> Any:
        try:
            return fn()
        except LucidError as exc:
            self.window.prompts.error(exc.message, exc.detail)
            return None

    def pick_color(self) -> None:
        color = QColorDialog.getColor(self.bg_color, self, "Background colour")
        if color.isValid():
            self._set_color(color)

    def _set_color(self, color: QColor) -> None:
        self.bg_color = QColor(color)
        self.color_button.setText(color.name())
        self.color_button.setStyleSheet(
            f"background: {color.name()}; color: {'black' if color.lightness() > 127 else 'white'};")

    def cutout_layer(self, doc: Document) -> ResultLayer | None:
        """The active layer if it is a cut-out, else the top-most cut-out of the document."""
        active = doc.active_layer
        if isinstance(active, ResultLayer) and active.recipe.task == "matting":
            return active
        found = [x for x in doc.all_layers() if isinstance(x, ResultLayer) and x.recipe.task == "matting"]
        return found[-1] if found else None

    def replace_background(self, kind: str | None = None, image_path=None) -> PixelLayer | None:
        """Add a background layer just beneath the cut-out: a colour, an image (scaled to cover the
        canvas, centred) or the blurred original."""
        doc = self._doc()
        if doc is None:
            return None
        cut = self.cutout_layer(doc)
        if cut is None:
            raise LucidError("Cut the subject out first; the new background goes beneath the cut-out.")
        kind = kind or self.bg_kind.currentData()
        h, w = doc.height, doc.width
        if kind == "color":
            c = self.bg_color
            rgb = np.empty((h, w, 3), np.float32)
            rgb[:] = np.float32([c.redF(), c.greenF(), c.blueF()])
            name = f"Background {c.name()}"
        elif kind == "image":
            if image_path is None:
                paths = self.window.prompts.open_paths(doc.path.parent if doc.path else None)
                if not paths:
                    return None
                image_path = paths[0]
            picture = load_input_image(image_path)
            rgb = cover(picture.rgb, w, h)
            name = f"Background {picture.path.name}"
        elif kind == "blur":
            sources = shown_as_is(self.controller.source_layers(doc, cut))
            rgb = blurred(self.controller.render_layers(doc, sources).render(), float(self.blur.value()))
            name = "Background (blurred)"
        else:
            raise LucidError(f"Unknown background kind '{kind}'.")
        layer = PixelLayer(name, self.controller.to_doc_pixels(doc, rgb))
        parent = doc.parent_of(cut)
        with doc.group("Replace background"):
            doc.add_layer(layer, parent.children.index(cut), parent)
            doc.active_layer = cut
        return layer


def cover(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale an image to cover width×height (aspect kept) and crop the centre."""
    h, w = rgb.shape[:2]
    s = max(width / w, height / h)
    nw, nh = max(width, round(w * s)), max(height, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    big = cv2.resize(np.ascontiguousarray(rgb, np.float32), (nw, nh), interpolation=interp)
    x, y = (nw - width) // 2, (nh - height) // 2
    return np.clip(big[y:y + height, x:x + width], 0.0, 1.0)
