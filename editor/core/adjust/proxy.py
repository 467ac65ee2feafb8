"""A screen-resolution stand-in of the document for live adjustment previews.

Dragging a slider on a 24-megapixel photo cannot recomposite every full-resolution tile per frame. The
proxy keeps each pixel layer (and mask) downsampled once to the preview scale — refreshed only when that
layer's pixels or geometry change — and composites shallow copies of the layers over those small arrays
with the ordinary compositor, so the preview follows exactly the same maths at a fraction of the pixels.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import cv2
import numpy as np

from editor.core.adjust.apply import adjust_backdrop
from editor.core.adjust.layer import AdjustmentLayer
from editor.core.compositor import planar_to_rgba8, render
from editor.core.geometry import Rect
from editor.core.layers import GroupLayer, Layer, PixelLayer

if TYPE_CHECKING:
    from editor.core.document import Document


def _shrink(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA)


class PreviewProxy:
    """Renders `doc` at `scale` (≤ 1). Call `render_rgba8()` per preview frame; `forget()` when layers'
    pixels change (the cache is keyed by array identity and geometry, so stale entries are never used)."""

    def __init__(self, doc: Document, scale: float) -> None:
        self.doc = doc
        self.scale = float(min(1.0, max(scale, 1e-3)))
        self._cache: dict[str, tuple[tuple, np.ndarray | None, np.ndarray | None]] = {}
        self._below: tuple[int, np.ndarray] | None = None  # (index of the live layer, composite below it)

    @property
    def size(self) -> tuple[int, int]:
        return max(1, round(self.doc.width * self.scale)), max(1, round(self.doc.height * self.scale))

    def forget(self) -> None:
        self._cache.clear()
        self._below = None

    def _scaled_rect(self, rect: Rect) -> Rect:
        s = self.scale
        x0, y0 = round(rect.x * s), round(rect.y * s)
        return Rect(x0, y0, max(1, round(rect.right * s) - x0), max(1, round(rect.bottom * s) - y0))

    def _arrays(self, layer: Layer, target: Rect) -> tuple[np.ndarray | None, np.ndarray | None]:
        pixels = layer.pixels if isinstance(layer, PixelLayer) else None
        mask = getattr(layer, "mask", None)
        key = (id(pixels), id(mask), layer.bounds, target)
        hit = self._cache.get(layer.id)
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        size = (target.w, target.h)
        small_px = None if pixels is None else _shrink(pixels, size)
        small_mask = None if mask is None else _shrink(mask, size)
        self._cache[layer.id] = (key, small_px, small_mask)
        return small_px, small_mask

    def _proxy(self, layer: Layer) -> Layer:
        if isinstance(layer, GroupLayer):
            group = copy.copy(layer)
            group.children = [self._proxy(c) for c in layer.children]
            return group
        target = self._scaled_rect(layer.bounds)
        pixels, mask = self._arrays(layer, target)
        out = copy.copy(layer)  # shares events and the adjustment's compiled function; never emitted on
        out._offset = (target.x, target.y)
        if isinstance(out, PixelLayer):
            out.pixels = pixels
        elif isinstance(out, AdjustmentLayer):
            out.size = (target.w, target.h)
        if hasattr(out, "mask"):
            out.mask = mask
        return out

    def render_planar(self, live: Layer | None = None) -> np.ndarray:
        """The preview, planar premultiplied. With `live` (the adjustment being dragged; nothing else
        changes meanwhile) the composite below it is rendered once and kept, when only unclipped
        adjustment layers lie from it upwards: each frame then applies just those."""
        w, h = self.size
        rect = Rect(0, 0, w, h)
        layers = self.doc.layers
        i = next((k for k, layer in enumerate(layers) if layer is live), None)
        above = layers[i:] if i is not None else []
        if not above or not all(isinstance(x, AdjustmentLayer) and not x.clipped for x in above):
            return render([self._proxy(layer) for layer in layers], rect)
        if self._below is None or self._below[0] != i:
            self._below = (i, render([self._proxy(layer) for layer in layers[:i]], rect))
        acc = self._below[1].copy()
        covered = bool(acc[3].min() >= 1.0)
        for layer in above:
            if layer.visible and layer.opacity > 0.0:
                adjust_backdrop(self._proxy(layer), rect, acc, covered)  # type: ignore[arg-type]
        return acc

    def render_rgba8(self, live: Layer | None = None) -> np.ndarray:
        """The preview as premultiplied RGBA8 (h, w, 4), ready for a QImage."""
        return planar_to_rgba8(self.render_planar(live))
