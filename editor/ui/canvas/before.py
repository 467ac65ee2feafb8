"""The "before" picture for the before/after toggle.

Choice: "before" is the bottom layer alone (the photo as opened), rendered by the core compositor's
`render` so offsets, masks and 16-bit depth are handled exactly as in the normal composite. Tiles are
rendered on demand while `\\` is held and dropped on release.
"""

from __future__ import annotations

import numpy as np

from editor.core.compositor import planar_to_rgba8, render
from editor.core.document import Document
from editor.core.geometry import tile_rect
from editor.ui.canvas.tiles import TileSource


def bottom_layer_source(doc: Document, display=None) -> TileSource:
    """A tile source showing only the bottom layer (transparent if the document has no layers), through
    the canvas's DisplayTransform `display` when colour management is on, so toggling changes no colour."""
    bottom = doc.layers[:1]
    convert = display is not None and not display.identity

    def tile(tx: int, ty: int) -> np.ndarray:
        planar = render(bottom, tile_rect(tx, ty, doc.width, doc.height))
        if convert:
            return display.apply(planar_to_rgba8(planar, premultiplied=False))
        return planar_to_rgba8(planar, premultiplied=True)

    return tile
