"""The one mapping between widget (viewport) pixels and image pixels (labelme style).

Every tool, the status bar and the zoom anchor call these two functions, so a change to how the view
scrolls or scales cannot make the brush land somewhere other than under the cursor.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF
from PySide6.QtGui import QTransform


def widget_to_image(pos: QPointF, viewport_transform: QTransform) -> QPointF:
    """Image coordinates (continuous; pixel (i, j) covers [i, i+1)) of a viewport point.

    `viewport_transform` is `QGraphicsView.viewportTransform()`: image → viewport, including zoom,
    scroll offsets and the centring of a small image. The image item sits at scene origin.
    """
    inverse, ok = viewport_transform.inverted()
    if not ok:
        raise ValueError("the view transform is singular (zoom 0?)")
    return inverse.map(QPointF(pos))


def image_to_widget(pos: QPointF, viewport_transform: QTransform) -> QPointF:
    """Viewport coordinates of an image point: the exact inverse of `widget_to_image`."""
    return viewport_transform.map(QPointF(pos))


def pixel_index(pos: QPointF) -> tuple[int, int]:
    """The integer pixel (x, y) containing a continuous image point."""
    return math.floor(pos.x()), math.floor(pos.y())
