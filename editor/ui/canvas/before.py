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


def bottom_layer_source(doc: Document) -> TileSource:
    """A tile source showing only the bottom layer (transparent if the document has no layers)."""
    bottom = doc.layers[:1]

    def tile(tx: int, ty: int) -> np.ndarray:
        return planar_to_rgba8(render(bottom, tile_rect(tx, ty, doc.width, doc.height)), premultiplied=True)

    return tile
