"""GUI: the crop tool (handles, Enter, undo, drawn horizon), the Image menu's geometry, and adjustment
layers (add, slider drag = one undo step, curves, mask painting, histogram)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest

from editor.core import transform
from editor.core.adjust.layer import AdjustmentLayer
from editor.core.compositor import composite
from editor.core.document import Document
from editor.core.layers import PixelLayer
from editor.core.pixels import from_float
from editor.ui.crop_tool import CropTool, handle_points
from editor.ui.panels.layers_model import layer_caption, thumbnail_rgba8
from editor.ui.tool_state import ToolKind

from .qt_helpers import drag, gradient_doc, send_mouse

pytestmark = pytest.mark.gui


def _crop_tool(window, qtbot) -> CropTool:
    window.actions["tool_crop"].trigger()
    tab = window.current_tab()
    qtbot.waitUntil(lambda: window.crop_bar.isVisible())
    assert isinstance(tab.view.tool, CropTool)
    return tab.view.tool


def test_crop_with_a_handle_and_enter_then_undo(window, qtbot):
    doc = gradient_doc(300, 200)
    window.add_document(doc)
    before = from_float(composite(doc), np.uint8)
    tool = _crop_tool(window, qtbot)
    view = window.current_tab().view
    corner = handle_points(tool.rect)[4]  # bottom-right
    start = view.to_widget(corner)
    end = view.to_widget(QPointF(200, 150))
    drag(view.viewport(), [start, (start + end) / 2, end])
    left = view.to_widget(handle_points(tool.rect)[7])  # left edge, middle
    drag(view.viewport(), [left, view.to_widget(QPointF(40, tool.rect.center().y()))])
    assert tool.rect.left() == pytest.approx(40, abs=1) and tool.rect.right() == pytest.approx(200, abs=1)
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Return)
    assert (doc.width, doc.height) == (160, 150)
    assert np.array_equal(from_float(composite(doc), np.uint8), before[:150, 40:200])
    assert window.current_tab().view.image_item.boundingRect().width() == 160
    window.actions["undo"].trigger()
    assert (doc.width, doc.height) == (300, 200)
    assert np.array_equal(from_float(composite(doc), np.uint8), before)


def test_escape_resets_and_aspect_preset_constrains(window, qtbot):
    doc = gradient_doc(300, 200)
    window.add_document(doc)
    tool = _crop_tool(window, qtbot)
    bar = window.crop_bar
    bar.aspect.setCurrentText("1:1")
    assert tool.rect.width() == pytest.approx(tool.rect.height())
    bar.swap.trigger()
    bar.aspect.setCurrentText("16:9")
    assert tool.rect.width() / tool.rect.height() == pytest.approx(16 / 9, rel=1e-3)
    bar.aspect.setCurrentText("Free")
    bar.angle.setValue(5.0)
    assert tool.angle == 5.0 and window.current_tab().view.image_item.rotation() == 5.0
    view = window.current_tab().view
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert tool.angle == 0.0 and tool.rect.width() == 300 and doc.history.index == 0


def test_drawn_horizon_sets_the_angle_and_enter_straightens(window, qtbot):
    w, h, tilt = 320, 240, 4.0
    ys, xs = np.mgrid[0:h * 2, 0:w * 2] / 2
    below = (ys - h / 2) > (xs - w / 2) * math.tan(math.radians(tilt))
    grey = np.where(below, 50, 210).reshape(h, 2, w, 2).mean(axis=(1, 3)).astype(np.uint8)
    px = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    doc = Document(w, h)
    doc.add_layer(PixelLayer("sea", px))
    window.add_document(doc)
    tool = _crop_tool(window, qtbot)
    view = window.current_tab().view
    slope = math.tan(math.radians(tilt + 1.5))  # drawn a bit off
    a, b = QPointF(40, h / 2 + (40 - w / 2) * slope), QPointF(280, h / 2 + (280 - w / 2) * slope)
    drag(view.viewport(), [view.to_widget(a), view.to_widget(b)], Qt.KeyboardModifier.ControlModifier)
    assert tool.angle == pytest.approx(-tilt, abs=0.1)
    assert window.crop_bar.angle.value() == pytest.approx(-tilt, abs=0.1)
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Return)
    assert doc.width < w and "straighten" in doc.history.labels[-1].lower()


def test_image_menu_rotate_flip_and_shortcuts(window):
    doc = gradient_doc(30, 20)
    window.add_document(doc)
    before = from_float(composite(doc), np.uint8)
    window.actions["rotate_cw"].trigger()
    assert np.array_equal(from_float(composite(doc), np.uint8), np.rot90(before, -1))
    window.actions["flip_h"].trigger()
    window.actions["undo"].trigger()
    window.actions["undo"].trigger()
    assert np.array_equal(from_float(composite(doc), np.uint8), before)
    assert window.actions["image_size"].shortcut().toString() == "Ctrl+Alt+I"
    assert window.actions["canvas_size"].shortcut().toString() == "Ctrl+Alt+C"
    assert window.actions["tool_crop"].shortcut().toString() == "C"


def test_exposure_layer_slider_drag_mask_painting_and_undo(window, qtbot):
    doc = gradient_doc(120, 80)
    window.add_document(doc)
    before = from_float(composite(doc), np.uint8)
    panel = window.adjust_panel
    layer = panel.add("exposure")
    assert isinstance(layer, AdjustmentLayer) and doc.active_layer is layer
    slider = panel.sliders["ev"]
    steps = doc.history.index
    slider._slider.sliderPressed.emit()
    for v in (0.3, 0.7, 1.0):
        slider.setValue(v)
    qtbot.wait(60)  # the throttled preview
    slider._slider.sliderReleased.emit()
    assert layer.params["ev"] == pytest.approx(1.0) and doc.history.index == steps + 1
    lit = from_float(composite(doc), np.uint8)
    assert (lit[..., :3].astype(int) >= before[..., :3]).all() and (lit != before).any()
    panel.paint_mask.click()
    view = window.current_tab().view
    assert view.mask_layer is layer and window.tool_state.tool == ToolKind.BRUSH
    window.tool_state.tool = ToolKind.ERASER
    window.tool_state.brush_size = 30
    window.tool_state.hardness = 1.0
    drag(view.viewport(), [view.to_widget(QPointF(20, y)) for y in range(10, 71, 5)])
    masked = from_float(composite(doc), np.uint8)
    assert np.array_equal(masked[30:50, 15:25], before[30:50, 15:25])  # erased: the original shows
    assert np.array_equal(masked[:, 80:], lit[:, 80:])
    thumb = thumbnail_rgba8(layer)  # the layers panel shows the adjustment's mask
    assert thumb[..., 0].min() < 40 and thumb[..., 0].max() == 255
    assert "[adjustment]" in layer_caption(layer)
    window.actions["undo"].trigger()  # the mask stroke
    assert np.array_equal(from_float(composite(doc), np.uint8), lit)
    window.actions["undo"].trigger()  # the whole drag
    assert layer.params["ev"] == 0.0 and slider.value() == 0.0
    assert np.array_equal(from_float(composite(doc), np.uint8), before)


def test_the_histogram_is_computed_off_the_gui_thread_and_locks_no_buffer(window, qtbot, monkeypatch):
    """On a 24 MP photo even the histogram's small stand-in took 75–170 ms on the GUI thread; it is now
    computed by a background thread, from the live buffers without locking them (a lent, copy-on-write
    buffer would make the next stroke copy the whole photo)."""
    import threading

    from editor.ui.panels import histogram_panel

    seen: list[tuple[threading.Thread, bool, bool]] = []
    real = histogram_panel.histogram

    def spy(*args, **kwargs):
        photo = doc.layers[0]
        seen.append((threading.current_thread(), photo.pixels.flags.writeable, doc.selection.flags.writeable))
        return real(*args, **kwargs)

    monkeypatch.setattr(histogram_panel, "histogram", spy)
    doc = gradient_doc(100, 60)
    window.add_document(doc)
    panel = window.histogram_panel
    with qtbot.waitSignal(panel.updated, timeout=20000):
        panel.refresh()
    assert panel.hist is not None and panel.hist.pixels == 100 * 60
    assert seen and all(t is not threading.main_thread() and px and sel for t, px, sel in seen)


def test_curves_panel_edits_the_curve_over_a_histogram(window, qtbot):
    doc = gradient_doc(100, 60)
    window.add_document(doc)
    with qtbot.waitSignal(window.histogram_panel.updated, timeout=20000):
        window.histogram_panel.refresh()
    assert window.histogram_panel.hist.pixels > 0
    panel = window.adjust_panel
    layer = panel.add("curves")
    curves = panel.curves
    assert curves is not None and curves.hist is not None
    curves.resize(240, 240)
    p = curves.to_widget(0.5, 0.5)
    send_mouse(curves, QEvent.Type.MouseButtonPress, p)
    send_mouse(curves, QEvent.Type.MouseMove, curves.to_widget(0.5, 0.7), Qt.MouseButton.NoButton)
    send_mouse(curves, QEvent.Type.MouseButtonRelease, curves.to_widget(0.5, 0.7), Qt.MouseButton.LeftButton,
               Qt.MouseButton.NoButton)
    assert [0.5, 0.7] in [[round(x, 2), round(y, 2)] for x, y in layer.params["master"]]
    panel.channel_box.setCurrentIndex(1)  # red
    assert curves.channel == "r" and curves.points == [[0.0, 0.0], [1.0, 1.0]]
    window.actions["undo"].trigger()
    assert layer.params["master"] == [[0.0, 0.0], [1.0, 1.0]]


def test_large_photo_drag_shows_the_proxy_then_the_full_tiles(window, qtbot, monkeypatch):
    from editor.ui.panels import adjust_panel

    monkeypatch.setattr(adjust_panel, "PROXY_FROM", 1000)  # treat this small photo as a large one
    doc = gradient_doc(200, 150)
    window.add_document(doc)
    panel = window.adjust_panel
    panel.add("exposure")
    slider = panel.sliders["ev"]
    view = window.current_tab().view
    slider._slider.sliderPressed.emit()
    slider.setValue(1.5)
    qtbot.wait(60)
    assert panel.live.item is not None and panel.live.item.scene() is view.scene()
    assert not view.image_item.isVisible()
    preview = panel.live.image
    assert preview is not None and preview.width() <= 200  # never above the document's resolution
    shown = preview.pixelColor(100, 75)
    expect = from_float(composite(doc), np.uint8)[75, 100]  # the dragged value, at full resolution
    assert abs(shown.red() - int(expect[0])) <= 2 and abs(shown.green() - int(expect[1])) <= 2
    slider._slider.sliderReleased.emit()
    qtbot.waitUntil(lambda: panel.live.item is None, timeout=5000)
    assert view.image_item.isVisible()
    comp = window.current_tab().compositor
    assert comp.is_cached(0, 0)  # handed over by the worker: painting does no compositing
    made = comp.recomposited
    view.viewport().repaint()
    assert comp.recomposited == made
    assert np.array_equal(comp.tile(0, 0), composite(doc)[:150, :200])
    assert doc.layers[-1].params["ev"] == pytest.approx(1.5)


def test_canvas_and_image_size_dialogs(window, qtbot):
    from editor.ui.image_menu import CanvasSizeDialog, ImageSizeDialog

    dlg = ImageSizeDialog(300, 200, window, on_ai=lambda: None)
    qtbot.addWidget(dlg)
    dlg.width_box.setValue(150)
    assert dlg.size() == (150, 100)  # proportions kept
    assert dlg.ai_button.isEnabled()
    dlg.link.setChecked(False)
    dlg.height_box.setValue(90)
    assert dlg.size() == (150, 90)
    canvas = CanvasSizeDialog(300, 200, window)
    qtbot.addWidget(canvas)
    canvas.anchors.button(8).click()
    assert canvas.anchor() == "bottom-right"
    doc = gradient_doc(30, 20)
    window.add_document(doc)
    window.run(lambda d: transform.image_size(d, 60, 40))
    assert (doc.width, doc.height) == (60, 40) and window.status_size.text().startswith("60×40")


def test_a_look_saved_in_the_app_applies_the_same_on_the_command_line(window, tmp_path):
    from editor.cli import main
    from editor.core.adjust.edits import set_params
    from editor.io.images import load_image
    from editor.io.png16 import encode_png16

    px = np.zeros((40, 60, 4), np.uint16)
    px[..., 0] = np.linspace(0, 65535, 60, dtype=np.uint16)[None]
    px[..., 1] = np.linspace(0, 65535, 40, dtype=np.uint16)[:, None]
    px[..., 2], px[..., 3] = 20000, 65535
    (tmp_path / "in.png").write_bytes(encode_png16(px))
    window.open_paths([tmp_path / "in.png"])
    doc = window.current_doc()
    panel = window.adjust_panel
    for name, params in (("white_balance", {"temperature": 4800, "tint": 5}), ("exposure", {"ev": 0.4}),
                         ("curves", {"master": [[0, 0], [0.3, 0.22], [1, 1]]}),
                         ("hue_saturation", {"vibrance": 30})):
        set_params(doc, panel.add(name), params)
    preset = panel.save_look_as(tmp_path / "look.json")
    out = tmp_path / "out.png"
    assert main(["edit", str(tmp_path / "in.png"), "-o", str(out), "--preset", str(preset)]) == 0
    assert np.array_equal(load_image(out).pixels, from_float(composite(doc), np.uint16))


def test_grey_point_picker_neutralises_a_colour_cast(window):
    px = np.zeros((40, 60, 4), np.uint8)
    px[...] = (200, 160, 120, 255)  # a warm grey card
    doc = Document(60, 40)
    doc.add_layer(PixelLayer("card", px))
    window.add_document(doc)
    panel = window.adjust_panel
    layer = panel.add("white_balance")
    steps = doc.history.index
    panel.pick_grey(30, 20)
    assert layer.params["temperature"] < 5000 and doc.history.index == steps + 1
    out = from_float(composite(doc), np.uint8)[20, 30, :3].astype(int)
    assert out.max() - out.min() <= 3
    assert panel.sliders["temperature"].value() == pytest.approx(layer.params["temperature"], abs=1)
