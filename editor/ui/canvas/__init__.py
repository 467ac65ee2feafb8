"""The image canvas: a QGraphicsView over tiled items fed by the core compositor."""

from editor.ui.canvas.coords import image_to_widget, widget_to_image
from editor.ui.canvas.view import CanvasView

__all__ = ["CanvasView", "image_to_widget", "widget_to_image"]
