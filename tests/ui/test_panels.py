"""Layers and History docks: the item model over the core tree, controls, result layers, history jumps."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, Qt

from editor.core.blend import BlendMode
from editor.core.compositor import composite
from editor.core.layers import PixelLayer, ResultLayer
from editor.core.recipe import Recipe
from editor.ui.panels.layers_model import COL_LOCK, COL_NAME, COL_VISIBLE

from .qt_helpers import gradient_doc


def solid(doc, name, rgba) -> PixelLayer:
    return PixelLayer(name, np.full((doc.height, doc.width, 4), rgba, np.uint8))


@pytest.fixture
def doc_window(window):
    doc = gradient_doc(64, 48)
    window.add_document(doc)
    return doc, window


def names_in_panel(model) -> list[str]:
    return [model.index(r, COL_NAME).data(Qt.ItemDataRole.EditRole) for r in range(model.rowCount())]


def test_add_reorder_hide_layers_through_the_panel(doc_window):
    doc, win = doc_window
    model = win.layers_panel.model
    win.actions["new_layer"].trigger()
    doc.add_layer(solid(doc, "red", (255, 0, 0, 255)))
    assert names_in_panel(model) == ["red", "Layer 2", "gradient"]  # top first
    assert composite(doc)[5, 5, :3] == pytest.approx([1, 0, 0])
    # drag "red" (top) below "gradient": drop at the end of the root list
    mime = model.mimeData([model.index(0, COL_NAME)])
    model.dropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
    assert [layer.name for layer in doc.layers] == ["red", "gradient", "Layer 2"]
    assert names_in_panel(model) == ["Layer 2", "gradient", "red"]
    assert composite(doc)[5, 5, :3] == pytest.approx([5 / 255, 5 / 255, 128 / 255])
    # and back on top
    mime = model.mimeData([model.index(2, COL_NAME)])
    model.dropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert names_in_panel(model) == ["red", "Layer 2", "gradient"]
    # hide it with the visibility check box
    red = doc.layers[-1]
    check = Qt.ItemDataRole.CheckStateRole
    assert model.setData(model.index(0, COL_VISIBLE), Qt.CheckState.Unchecked.value, check)
    assert not red.visible
    assert model.index(0, COL_VISIBLE).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert composite(doc)[5, 5, 0] == pytest.approx(5 / 255)
    model.setData(model.index(0, COL_LOCK), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert red.locked
    doc.history.undo()
    doc.history.undo()
    assert red.visible and not red.locked


def test_rename_in_place(doc_window):
    doc, win = doc_window
    model = win.layers_panel.model
    assert model.setData(model.index(0, COL_NAME), "  sky  ", Qt.ItemDataRole.EditRole)
    assert doc.layers[0].name == "sky"
    assert model.index(0, COL_NAME).data() == "sky"
    assert not model.setData(model.index(0, COL_NAME), "   ", Qt.ItemDataRole.EditRole)
    assert doc.history.labels == ["Rename layer"]


def test_opacity_and_blend_controls_change_the_composite(doc_window, qtbot):
    doc, win = doc_window
    panel = win.layers_panel
    top = solid(doc, "grey", (128, 128, 128, 255))
    doc.add_layer(top)
    doc.active_layer = top
    base = composite(doc)[10, 20, :3].copy()
    assert base == pytest.approx([128 / 255] * 3)
    panel.opacity.setValue(50)
    assert top.opacity == pytest.approx(0.5)
    mixed = composite(doc)[10, 20, :3]
    assert mixed[0] == pytest.approx(0.5 * 128 / 255 + 0.5 * 20 / 255, abs=1e-4)
    panel.opacity.setValue(100)
    panel.blend.setCurrentIndex(panel.blend.findData(BlendMode.MULTIPLY))
    assert top.blend_mode == BlendMode.MULTIPLY
    mult = composite(doc)[10, 20, :3]
    assert mult[2] == pytest.approx((128 / 255) * (128 / 255), abs=1e-4)
    # undo moves the controls too (they follow the core, not the other way round)
    doc.history.undo()
    assert panel.blend.currentData() == BlendMode.NORMAL
    doc.history.undo()
    assert panel.opacity.value() == 50
    # the canvas repainted only the tiles under the layer
    view = win.current_tab().view
    assert view.image_item.cached_tiles() <= {(0, 0)}


def test_layer_commands_from_the_panel_buttons(doc_window):
    doc, win = doc_window
    buttons = win.layers_panel.buttons
    buttons["duplicate"].click()
    assert [layer.name for layer in doc.layers] == ["gradient", "gradient copy"]
    assert doc.active_layer is doc.layers[1]
    buttons["merge_down"].click()
    assert len(doc.layers) == 1
    buttons["new"].click()
    buttons["delete"].click()
    assert len(doc.layers) == 1 and doc.active_layer is doc.layers[0]
    buttons["flatten"].click()
    assert [layer.name for layer in doc.layers] == ["Background"]
    assert len(doc.history.labels) == 5


def test_result_layer_shows_its_tool_and_offers_rerun_and_edit_mask(doc_window, qtbot):
    doc, win = doc_window
    panel = win.layers_panel
    mask = np.zeros((doc.height, doc.width), np.float32)
    mask[10:20, 10:30] = 1
    pixels = np.zeros((doc.height, doc.width, 4), np.uint8)
    result = ResultLayer("Removed", pixels, mask, Recipe(task="inpaint"))
    doc.add_layer(result)
    doc.active_layer = result
    assert panel.model.index(0, COL_NAME).data() == "Removed  [inpaint]"
    assert "inpaint" in panel.model.index(0, COL_NAME).data(Qt.ItemDataRole.ToolTipRole)
    assert panel.result_box.isVisibleTo(panel)
    with qtbot.waitSignal(panel.rerun_requested) as sig:
        panel.rerun_button.click()
    assert sig.args == [result]
    panel.edit_mask_button.click()
    view = win.current_tab().view
    assert view.mask_layer is result
    # the mask brush now paints the result layer's mask, not the selection
    from .qt_helpers import drag

    view.set_zoom(4.0)
    win.tool_state.tool = win.tool_state.tool.ERASER
    win.tool_state.brush_size = 4
    drag(view.viewport(), [view.to_widget(p) for p in (_pt(15, 15), _pt(16, 15))])
    assert result.mask[15, 15] == 0 and result.mask[19, 29] == 1
    assert doc.selection.max() == 0
    doc.active_layer = doc.layers[0]  # picking another layer ends mask editing
    assert view.mask_layer is None
    assert not panel.result_box.isVisibleTo(panel)


def _pt(x, y):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_history_panel_lists_steps_and_jumps(doc_window):
    doc, win = doc_window
    hp = win.history_panel
    doc.select_all()
    doc.invert_selection()
    doc.set_property(doc.layers[0], "opacity", 0.3)
    labels = [hp.list.item(i).text() for i in range(hp.list.count())]
    assert labels == ["Opened", "Select all", "Invert selection", "Layer opacity"]
    assert hp.list.currentRow() == 3
    hp._on_clicked(hp.list.item(1))
    assert doc.history.index == 1
    assert doc.selection.min() == 1 and doc.layers[0].opacity == 1
    assert hp.list.currentRow() == 1
    assert hp.list.item(3).foreground().color().red() == 140  # redo steps greyed
    hp._on_clicked(hp.list.item(0))
    assert doc.selection.max() == 0
    assert win.actions["undo"].isEnabled() is False and win.actions["redo"].isEnabled()
