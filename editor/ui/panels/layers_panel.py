"""Layers dock: the tree (LayersModel), the active layer's opacity and blend mode, and layer commands."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledSlider

from editor.core.blend import BlendMode
from editor.core.document import Document
from editor.core.layers import Layer, ResultLayer
from editor.ui.panels.layers_model import COL_LOCK, COL_NAME, COL_VISIBLE, THUMB_PX, LayersModel


class LayersPanel(QWidget):
    """Shows one document's layers; rebinds with `set_document`. Commands go to `actions` (main window)."""

    rerun_requested = Signal(object)  # ResultLayer: the inference wiring re-runs its recipe
    edit_mask_requested = Signal(object)  # ResultLayer: paint its mask with the mask brush
    error = Signal(str)  # message for the status bar when a command is refused

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc: Document | None = None
        self.model: LayersModel | None = None
        self._syncing = False
        self._watched_layer: Layer | None = None

        self.blend = QComboBox()
        for mode in BlendMode:
            self.blend.addItem(mode.label, mode)
        self.blend.setToolTip("Blend mode of the active layer")
        self.opacity = QLabeledSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the active layer (%)")
        self.tree = QTreeView()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.tree.setUniformRowHeights(True)

        self.buttons: dict[str, QToolButton] = {}
        row = QHBoxLayout()
        row.setSpacing(2)
        for key, text, tip in (
            ("new", "New", "New empty layer"),
            ("duplicate", "Dup", "Duplicate layer"),
            ("delete", "Del", "Delete layer"),
            ("merge_down", "Merge", "Merge down"),
            ("flatten", "Flatten", "Flatten image"),
        ):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            row.addWidget(b)
            self.buttons[key] = b
        row.addStretch(1)

        self.result_box = QWidget()
        rb = QHBoxLayout(self.result_box)
        rb.setContentsMargins(0, 0, 0, 0)
        self.result_label = QLabel()
        self.edit_mask_button = QToolButton()
        self.edit_mask_button.setText("Edit mask")
        self.rerun_button = QToolButton()
        self.rerun_button.setText("Re-run")
        rb.addWidget(self.result_label, 1)
        rb.addWidget(self.edit_mask_button)
        rb.addWidget(self.rerun_button)
        self.result_box.setVisible(False)

        top = QHBoxLayout()
        top.addWidget(self.blend, 1)
        top.addWidget(QLabel("Opacity"))
        top.addWidget(self.opacity, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.result_box)
        lay.addLayout(row)

        self.blend.currentIndexChanged.connect(self._on_blend)
        self.opacity.sliderReleased.connect(self._commit_opacity)
        self.opacity.valueChanged.connect(self._on_opacity_value)
        self.edit_mask_button.clicked.connect(lambda: self._emit_for_result(self.edit_mask_requested))
        self.rerun_button.clicked.connect(lambda: self._emit_for_result(self.rerun_requested))
        self.setEnabled(False)

    # -- binding -----------------------------------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        self._watch_active(None)
        if self.doc is not None:
            self.doc.events.active_layer.disconnect(self._on_active)
            self.doc.events.layers_changed.disconnect(self._select_active)
        if self.model is not None:
            self.model.close()
            self.tree.setModel(None)
            self.model.deleteLater()
            self.model = None
        self.doc = doc
        self.setEnabled(doc is not None)
        if doc is None:
            return
        self.model = LayersModel(doc, self)
        self.tree.setModel(self.model)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for col in (COL_VISIBLE, COL_LOCK):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.selectionModel().currentRowChanged.connect(self._on_current_row)
        doc.events.active_layer.connect(self._on_active)
        doc.events.layers_changed.connect(self._select_active)
        self._on_active(doc.active_layer)

    # -- active layer ↔ tree selection ------------------------------------------------------------
    def _on_current_row(self, current, _previous) -> None:
        if self._syncing or self.doc is None or self.model is None:
            return
        layer = self.model.layer_at(current)
        if layer is not None and layer is not self.doc.active_layer:
            self.doc.active_layer = layer

    def _select_active(self) -> None:
        if self.doc is not None:
            self._on_active(self.doc.active_layer)

    def _on_active(self, layer: Layer | None) -> None:
        if self.model is None:
            return
        self._syncing = True
        try:
            if layer is not None:
                index = self.model.index_of(layer, COL_NAME)
                if index.isValid():
                    flags = QItemSelectionModel.SelectionFlag
                    self.tree.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
            self._show_controls(layer)
        finally:
            self._syncing = False
        self._watch_active(layer)

    def _watch_active(self, layer: Layer | None) -> None:
        """Follow the active layer's opacity/mode/recipe (undo changes them behind the controls' back)."""
        old = self._watched_layer
        if old is layer:
            return
        if old is not None:
            for sig in (old.events.opacity, old.events.blend_mode, old.events.recipe):
                sig.disconnect(self._refresh_controls)
        self._watched_layer = layer
        if layer is not None:
            for sig in (layer.events.opacity, layer.events.blend_mode, layer.events.recipe):
                sig.connect(self._refresh_controls)

    def _refresh_controls(self, *_) -> None:
        if self.doc is not None:
            self._syncing = True
            try:
                self._show_controls(self.doc.active_layer)
            finally:
                self._syncing = False

    def _show_controls(self, layer: Layer | None) -> None:
        for w in (self.blend, self.opacity):
            w.setEnabled(layer is not None)
        if layer is None:
            self.result_box.setVisible(False)
            return
        self.blend.setCurrentIndex(self.blend.findData(layer.blend_mode))
        if not self.opacity.isSliderDown():
            self.opacity.setValue(round(layer.opacity * 100))
        is_result = isinstance(layer, ResultLayer)
        self.result_box.setVisible(is_result)
        if is_result:
            self.result_label.setText(f"Made by <b>{layer.recipe.task}</b>")

    # -- control edits → undoable document commands ----------------------------------------------
    def _on_blend(self, _index: int) -> None:
        layer = self.doc.active_layer if self.doc else None
        if self._syncing or layer is None:
            return
        self.doc.set_property(layer, "blend_mode", self.blend.currentData())

    def _on_opacity_value(self, _value: int) -> None:
        if not self.opacity.isSliderDown():  # typed or keyboard: commit now; dragging commits on release
            self._commit_opacity()

    def _commit_opacity(self) -> None:
        layer = self.doc.active_layer if self.doc else None
        if self._syncing or layer is None:
            return
        self.doc.set_property(layer, "opacity", self.opacity.value() / 100)

    def _emit_for_result(self, signal) -> None:
        layer = self.doc.active_layer if self.doc else None
        if isinstance(layer, ResultLayer):
            signal.emit(layer)
