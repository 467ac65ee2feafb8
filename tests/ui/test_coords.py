"""The widget → image mapping: pure transform cases, then checked against what the canvas really draws."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QTransform

from editor.ui.canvas.coords import image_to_widget, pixel_index, widget_to_image
from editor.ui.canvas.view import CanvasView
from editor.ui.tool_state import ToolState

from .qt_helpers import gradient_doc


@pytest.mark.parametrize("zoom", [0.01, 0.25, 1.0, 3.0, 32.0])
@pytest.mark.parametrize("pan", [(0.0, 0.0), (-120.5, 40.0), (300.0, -7.25)])
def test_widget_to_image_inverts_zoom_and_pan(zoom, pan):
    # viewport = image * zoom + pan  ⇒  image = (viewport - pan) / zoom
    t = QTransform(zoom, 0, 0, zoom, pan[0], pan[1])
    for wx, wy in ((0, 0), (17, 3), (640.5, 480.25)):
        p = widget_to_image(QPointF(wx, wy), t)
        assert p.x() == pytest.approx((wx - pan[0]) / zoom)
        assert p.y() == pytest.approx((wy - pan[1]) / zoom)
        back = image_to_widget(p, t)
        assert (back.x(), back.y()) == pytest.approx((wx, wy))


def test_pixel_index_floors_negative_and_fractional():
    assert pixel_index(QPointF(3.99, 0.0)) == (3, 0)
    assert pixel_index(QPointF(-0.01, 7.5)) == (-1, 7)


def test_singular_transform_is_refused():
    with pytest.raises(ValueError):
        widget_to_image(QPointF(1, 1), QTransform(0, 0, 0, 0, 0, 0))


@pytest.mark.parametrize("zoom", [2.0, 4.0, 11.0])
@pytest.mark.parametrize("scroll", [(0, 0), (150, 90), (10_000, 10_000)])
def test_mapping_matches_the_pixels_drawn(qtbot, zoom, scroll):
    """At nearest-neighbour zooms the colour drawn at a widget pixel is the image pixel the mapping names."""
    from editor.core.compositor import Compositor

    doc = gradient_doc(300, 200)
    comp = Compositor(doc)
    view = CanvasView(doc, comp.tile_rgba8, ToolState(show_mask=False))
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_zoom(zoom)
    view.horizontalScrollBar().setValue(scroll[0])
    view.verticalScrollBar().setValue(scroll[1])
    image = view.viewport().grab().toImage()
    checked = 0
    for wx, wy in ((5, 5), (123, 77), (250, 199), (390, 290)):
        # sample at the centre of the screen pixel
        ix, iy = pixel_index(view.to_image(QPointF(wx + 0.5, wy + 0.5)))
        if not (0 <= ix < doc.width and 0 <= iy < doc.height):
            continue
        c = image.pixelColor(wx, wy)
        assert (c.red(), c.green(), c.blue()) == (ix % 256, iy % 256, 128), (wx, wy, ix, iy)
        checked += 1
    assert checked >= 3
    view.disconnect_model()
    comp.close()
