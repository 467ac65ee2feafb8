"""CanvasView and its tiled item: dirty-tile re-wrapping, zoom anchoring and limits, pan, before/after."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from editor.core.compositor import Compositor
from editor.core.geometry import Rect
from editor.core.layers import PixelLayer
from editor.ui.canvas.tiles import mask_overlay_rgba8, wrap_rgba8
from editor.ui.canvas.view import MAX_ZOOM, MIN_ZOOM, CanvasView
from editor.ui.tool_state import ToolState

from .qt_helpers import drag, gradient_doc, send_mouse


@pytest.fixture
def canvas(qtbot):
    doc = gradient_doc(1000, 600)
    comp = Compositor(doc)
    view = CanvasView(doc, comp.tile_rgba8, ToolState())
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    qtbot.waitExposed(view)
    yield doc, view
    view.disconnect_model()
    comp.close()


def key(view, kind, k):
    QApplication.sendEvent(view, QKeyEvent(kind, k, Qt.KeyboardModifier.NoModifier))


def test_only_dirty_tiles_are_rewrapped(canvas):
    doc, view = canvas
    view.fit()
    view.viewport().repaint()
    item = view.image_item
    assert item.cached_tiles() == {(x, y) for x in range(4) for y in range(3)}
    wraps = item.wraps
    patch = np.full((10, 10, 4), 255, np.uint8)
    doc.paste(doc.layers[0], "pixels", Rect(300, 300, 10, 10), patch, "Paint")  # inside tile (1, 1)
    assert (1, 1) not in item.cached_tiles() and len(item.cached_tiles()) == 11
    view.viewport().repaint()
    assert item.wraps == wraps + 1
    assert len(item.cached_tiles()) == 12


def test_wrap_is_zero_copy_and_checks_layout():
    arr = np.zeros((4, 6, 4), np.uint8)
    img = wrap_rgba8(arr)
    arr[1, 2] = (255, 0, 0, 255)
    assert img.pixelColor(2, 1).red() == 255  # same memory
    with pytest.raises(ValueError):
        wrap_rgba8(np.zeros((4, 6, 4), np.uint8)[:, ::2])


def test_mask_overlay_is_premultiplied_red():
    mask = np.zeros((4, 4), np.float32)
    mask[1, 1] = 1.0
    tile = mask_overlay_rgba8(mask, Rect(0, 0, 4, 4), (255, 0, 0), 0.5)
    assert tuple(tile[1, 1]) == (128, 0, 0, 128)
    assert tile[0, 0].max() == 0


def test_zoom_is_anchored_under_the_cursor_and_clamped(canvas):
    _, view = canvas
    view.set_zoom(1.0)
    anchor = QPointF(200, 150)
    before = view.to_image(anchor)
    view.zoom_by(4.0, anchor)
    assert view.zoom == pytest.approx(4.0)
    after = view.to_image(anchor)
    assert (after.x(), after.y()) == pytest.approx((before.x(), before.y()), abs=1 / 4)
    # the wheel zooms around the pointer too
    wheel = QWheelEvent(QPointF(300, 100), QPointF(view.viewport().mapToGlobal(QPoint(300, 100))), QPoint(),
                        QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    under = view.to_image(QPointF(300, 100))
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom > 4.0
    now = view.to_image(QPointF(300, 100))
    assert (now.x(), now.y()) == pytest.approx((under.x(), under.y()), abs=1 / view.zoom)
    view.set_zoom(1e6)
    assert view.zoom == MAX_ZOOM == 32.0
    view.set_zoom(0)
    assert view.zoom == MIN_ZOOM == 0.01


def test_fit_and_actual_size(canvas):
    doc, view = canvas
    view.fit()
    vp = view.viewport().rect()
    tl, br = view.to_widget(QPointF(0, 0)), view.to_widget(QPointF(doc.width, doc.height))
    assert tl.x() >= -1 and tl.y() >= -1 and br.x() <= vp.width() + 1 and br.y() <= vp.height() + 1
    assert view.zoom < 1
    view.actual_size()
    assert view.zoom == 1.0


def test_space_drag_and_middle_button_pan(canvas):
    doc, view = canvas
    view.set_zoom(2.0)
    vp = view.viewport()
    h0 = view.horizontalScrollBar().value()
    key(view, QEvent.Type.KeyPress, Qt.Key.Key_Space)
    drag(vp, [QPointF(300, 200), QPointF(250, 200), QPointF(200, 200)])
    key(view, QEvent.Type.KeyRelease, Qt.Key.Key_Space)
    assert view.horizontalScrollBar().value() == h0 + 100
    assert doc.selection.max() == 0  # panning did not paint
    v0 = view.verticalScrollBar().value()
    drag(vp, [QPointF(300, 200), QPointF(300, 140)], button=Qt.MouseButton.MiddleButton)
    assert view.verticalScrollBar().value() == v0 + 60
    assert doc.selection.max() == 0


def test_nearest_neighbour_above_200_percent(canvas):
    _, view = canvas
    view.set_zoom(8.0)
    view.centerOn(100.5, 100.5)
    shot = view.viewport().grab().toImage()
    p = view.to_widget(QPointF(100, 100)).toPoint()
    colours = {shot.pixelColor(p.x() + dx, p.y() + dy).rgb() for dx in range(1, 7) for dy in range(1, 7)}
    assert len(colours) == 1  # one image pixel = one flat 8×8 block, no interpolation


def test_hold_backslash_shows_the_bottom_layer(canvas):
    doc, view = canvas
    top = PixelLayer("red", np.full((doc.height, doc.width, 4), (255, 0, 0, 255), np.uint8))
    doc.add_layer(top)
    view.set_zoom(1.0)
    p = view.viewport().rect().center()  # away from the "Before" badge in the corner
    ix, iy = (int(v) for v in (view.to_image(QPointF(p) + QPointF(0.5, 0.5)).toTuple()))
    assert view.viewport().grab().toImage().pixelColor(p).getRgb()[:3] == (255, 0, 0)
    key(view, QEvent.Type.KeyPress, Qt.Key.Key_Backslash)
    assert view.before_shown
    assert view.viewport().grab().toImage().pixelColor(p).getRgb()[:3] == (ix % 256, iy % 256, 128)
    key(view, QEvent.Type.KeyRelease, Qt.Key.Key_Backslash)
    assert not view.before_shown
    assert view.viewport().grab().toImage().pixelColor(p).getRgb()[:3] == (255, 0, 0)


def test_show_mask_toggle_and_brush_cursor(canvas, qtbot):
    _, view = canvas
    view.tool_state.show_mask = False
    assert not view.mask_item.isVisible()
    view.tool_state.show_mask = True
    assert view.mask_item.isVisible()
    view.set_zoom(3.0)
    view.tool_state.brush_size = 50
    send_mouse(view.viewport(), QEvent.Type.MouseMove, QPointF(100, 100), Qt.MouseButton.NoButton,
               Qt.MouseButton.NoButton)
    rect = view.brush_outline.rect()
    assert rect.width() == pytest.approx(50)
    centre = view.to_image(QPointF(100, 100))
    assert (rect.center().x(), rect.center().y()) == pytest.approx((centre.x(), centre.y()))


def test_mip_levels():
    from editor.ui.canvas.tiles import mip_level

    assert [mip_level(s) for s in (4.0, 1.0, 0.5, 0.3, 0.1, 0.001)] == [0, 0, 0, 1, 3, 5]


def test_zoomed_out_frames_use_reduced_tiles_in_the_right_place(qtbot):
    from editor.core.document import Document

    doc = Document(2048, 1024)
    px = np.zeros((1024, 2048, 4), np.uint8)
    px[..., 3] = 255
    px[:, :1000, 0] = 255  # red left of x = 1000, blue right of it
    px[:, 1000:, 2] = 255
    doc.root.children.append(PixelLayer("halves", px))
    comp = Compositor(doc)
    view = CanvasView(doc, comp.tile_rgba8, ToolState())
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_zoom(0.125)
    shot = view.viewport().grab().toImage()
    edge = view.to_widget(QPointF(1000, 512))
    left = shot.pixelColor(int(edge.x()) - 3, int(edge.y()))
    right = shot.pixelColor(int(edge.x()) + 3, int(edge.y()))
    assert left.red() > 240 and left.blue() < 15
    assert right.blue() > 240 and right.red() < 15
    assert view.image_item._tiles[(0, 0)].levels.keys() == {3}
    view.disconnect_model()
    comp.close()
