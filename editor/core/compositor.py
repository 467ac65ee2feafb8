"""The compositor: the layer tree → one straight-alpha float32 RGBA image, tile by tile.

Working format: channel-first ("planar") premultiplied float32, shape (4, h, w). Planar keeps every
numpy operation on long contiguous rows (alpha broadcasts over whole colour planes instead of a
length-4 inner loop), which is what makes a 10-layer 256×256 tile cheap. Source-over with blending
follows W3C Compositing Level 1:

    Cs' = (1 − αb)·Cs + αb·B(Cb, Cs)
    co  = αs·Cs' + (1 − αs)·cb          αo = αs + αb·(1 − αs)

with αs = layer alpha × opacity × mask. svg:plus is the Porter-Duff "plus" operator
(co = min(1, cs + cb), αo = min(1, αs + αb)). Isolated groups composite their children onto
transparency and blend the result like one layer; pass-through groups composite their children
straight onto the backdrop. As OpenRaster specifies, a pass-through group with opacity < 1 or a
non-normal blend mode is rendered isolated (`renders_isolated`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from editor.core.adjust.apply import adjust_backdrop, adjust_source, clipped_above
from editor.core.adjust.layer import AdjustmentLayer
from editor.core.blend import BlendMode
from editor.core.blending import BLEND_FUNCTIONS
from editor.core.geometry import TILE, Rect, tile_rect
from editor.core.layers import GroupLayer, Layer, PixelLayer
from editor.core.pixels import dtype_max

if TYPE_CHECKING:
    from editor.core.document import Document

_F = np.float32
_TINY = _F(1e-30)


# --- rendering a rectangle ----------------------------------------------------------------------------------

def render(layers: Sequence[Layer], rect: Rect) -> np.ndarray:
    """Composite `layers` (bottom first) onto transparency in canvas `rect` → planar premultiplied."""
    acc = np.zeros((4, rect.h, rect.w), np.float32)
    _render_into(layers, rect, acc)
    return acc


def _render_into(layers: Sequence[Layer], rect: Rect, acc: np.ndarray, covered: bool = False) -> bool:
    """Composite `layers` onto `acc` (planar premultiplied, covering canvas `rect`) in place.

    `covered` says acc's alpha is already 1 everywhere; it stays so (source-over never lowers alpha),
    and knowing it spares un-premultiplying the backdrop and updating the alpha plane. Returns it.
    """
    start = _first_visible(layers, rect)
    for index in range(start, len(layers)):
        layer = layers[index]
        if not layer.visible or layer.opacity <= 0.0:
            continue
        area = rect.intersect(layer.bounds)
        if area.empty:
            continue
        dst = acc[:, area.y - rect.y:area.bottom - rect.y, area.x - rect.x:area.right - rect.x]
        if isinstance(layer, AdjustmentLayer):
            if not layer.clipped:  # clipped ones were applied to their base layer below
                adjust_backdrop(layer, area, dst, covered)
            continue
        if isinstance(layer, GroupLayer):
            now = _render_group(layer, area, dst, covered)
        elif isinstance(layer, PixelLayer):
            loaded = _load_pixels(layer, area)
            if loaded is None:
                continue
            for clip in clipped_above(layers, index):
                adjust_source(clip, area, loaded[0])
            now = _blend_into(dst, loaded[0], layer.blend_mode, loaded[1], covered)
        else:
            continue
        covered = covered or (now and area == rect)
    return covered


def _first_visible(layers: Sequence[Layer], rect: Rect) -> int:
    """Index of the topmost layer that hides everything under it in `rect` (opaque, normal, full opacity,
    no mask, covering the rect); 0 if none. Layers below it need no work at all."""
    for i in range(len(layers) - 1, 0, -1):
        layer = layers[i]
        if (isinstance(layer, PixelLayer) and layer.visible and layer.opacity >= 1.0 and layer.mask is None
                and layer.blend_mode == BlendMode.NORMAL and rect.intersect(layer.bounds) == rect):
            ox, oy = layer.offset
            alpha = layer.pixels[rect.y - oy:rect.bottom - oy, rect.x - ox:rect.right - ox, 3]
            if int(alpha.min()) == int(dtype_max(alpha.dtype)):
                return i
    return 0


def renders_isolated(group: GroupLayer) -> bool:
    """Whether `group` composites isolated: asked to, or (OpenRaster 0.0.6, "isolation") a pass-through
    group whose opacity is below 1 or whose blend mode is not normal."""
    return group.isolated or group.opacity < 1.0 or BlendMode(group.blend_mode) != BlendMode.NORMAL


def _render_group(group: GroupLayer, area: Rect, dst: np.ndarray, covered: bool) -> bool:
    if not renders_isolated(group):  # pass-through: children see the real backdrop
        return _render_into(group.children, area, dst, covered)
    sub = render(group.children, area)
    alpha = sub[3]
    if not alpha.any():
        return covered
    src = np.empty_like(sub)
    np.multiply(sub[:3], _F(1.0) / np.maximum(alpha, _TINY), out=src[:3])
    np.multiply(alpha, _F(group.opacity), out=src[3])
    opaque = group.opacity >= 1.0 and float(alpha.min()) >= 1.0
    return _blend_into(dst, src, group.blend_mode, opaque, covered)


def _load_pixels(layer: PixelLayer, area: Rect) -> tuple[np.ndarray, bool] | None:
    """The layer's pixels under canvas `area` as planar straight float32 (4, h, w) with
    αs = alpha × opacity × mask in plane 3, and whether that αs is 1 everywhere; None if all transparent."""
    ox, oy = layer.offset
    rows, cols = slice(area.y - oy, area.bottom - oy), slice(area.x - ox, area.right - ox)
    planes = cv2.split(layer.pixels[rows, cols])
    a_int = planes[3]
    top = dtype_max(a_int.dtype)
    if not a_int.any():
        return None
    mask = layer.mask[rows, cols] if layer.mask is not None else None
    if mask is not None and not mask.any():
        return None
    opaque = mask is None and layer.opacity >= 1.0 and int(a_int.min()) == int(top)
    src = np.empty((4, area.h, area.w), np.float32)
    scale = _F(1.0 / top)
    for i in range(4):
        np.multiply(planes[i], scale, out=src[i])
    if layer.opacity < 1.0:
        src[3] *= _F(layer.opacity)
    if mask is not None:
        src[3] *= mask
    return src, opaque


def _blend_into(dst: np.ndarray, src: np.ndarray, mode: BlendMode, opaque: bool, covered: bool) -> bool:
    """Source-over `src` (planar straight colour + αs; used as scratch) onto planar premultiplied `dst`.

    `opaque`: αs is 1 everywhere; `covered`: dst's alpha is 1 everywhere. Returns whether dst's alpha is
    1 everywhere afterwards.
    """
    if mode == BlendMode.PLUS:
        src[:3] *= src[3]
        dst += src
        np.minimum(dst, _F(1.0), out=dst)
        return covered or opaque
    if mode != BlendMode.NORMAL:
        fn = BLEND_FUNCTIONS[mode]
        if covered:  # opaque backdrop: Cb = cb and Cs' = B(Cb, Cs)
            mixed = fn(dst[:3], src[:3])
            if opaque:
                dst[:3] = mixed
                return True
            src[:3] = mixed
        else:
            ab = dst[3]
            if ab.any():
                cb = dst[:3] * (_F(1.0) / np.maximum(ab, _TINY))
                mixed = fn(cb, src[:3])
                mixed -= src[:3]
                mixed *= ab
                src[:3] += mixed  # Cs' = Cs + αb·(B − Cs)
    if opaque:  # αs == 1 everywhere: the result is Cs' with alpha 1
        dst[:3] = src[:3]
        dst[3] = _F(1.0)
        return True
    if covered:  # αb == 1 stays 1: only colour moves, cb + αs·(Cs' − cb)
        colour = src[:3]
        colour -= dst[:3]
        colour *= src[3]
        dst[:3] += colour
        return True
    alpha = src[3].copy()
    src[3] = _F(1.0)
    src -= dst  # (Cs', 1) − (cb, αb)
    src *= alpha
    dst += src  # cb + αs·(Cs' − cb), αb + αs·(1 − αb)
    return False


# --- format conversions -------------------------------------------------------------------------------------

def planar_to_straight(acc: np.ndarray) -> np.ndarray:
    """Planar premultiplied (4, h, w) → interleaved straight float32 (h, w, 4), C-contiguous."""
    alpha = acc[3]
    inv = _F(1.0) / np.maximum(alpha, _TINY)  # colour is 0 wherever alpha is, so 0 · (1 / tiny) = 0
    planes = [np.minimum(acc[i] * inv, _F(1.0)) for i in range(3)]
    planes.append(np.ascontiguousarray(alpha))
    return cv2.merge(planes)


def planar_to_rgba8(acc: np.ndarray, premultiplied: bool = True) -> np.ndarray:
    """Planar premultiplied (4, h, w) float → interleaved uint8 (h, w, 4), rounded, C-contiguous."""
    if premultiplied:
        alpha = np.ascontiguousarray(acc[3])
        planes = [np.minimum(acc[i], alpha) for i in range(3)]  # keep c ≤ α after rounding
        planes.append(alpha)
        merged = cv2.merge(planes)
    else:
        merged = planar_to_straight(acc)
    out = cv2.convertScaleAbs(merged, alpha=255.0)
    return out if out.flags.c_contiguous else np.ascontiguousarray(out)


# --- public API ---------------------------------------------------------------------------------------------

def composite(doc: Document, rect: Rect | None = None) -> np.ndarray:
    """The document's composite in canvas `rect` (default: the whole canvas): float32 h×w×4, straight alpha.

    Works tile by tile on the same grid as `Compositor`, so memory stays bounded and results match it.
    """
    rect = doc.rect if rect is None else rect
    out = np.zeros((max(rect.h, 0), max(rect.w, 0), 4), np.float32)
    for tx, ty in rect.tiles():
        part = Rect(tx * TILE, ty * TILE, TILE, TILE).intersect(rect)
        block = render(doc.layers, part)
        rows = slice(part.y - rect.y, part.bottom - rect.y)
        out[rows, part.x - rect.x:part.right - rect.x] = planar_to_straight(block)
    return out


class Compositor:
    """Incremental tiled compositor for the canvas: caches composited 256×256 tiles and recomposites only
    the tiles that `doc.events.dirty` (or `invalidate`) names.

    Anything that changes the composite must emit `doc.events.dirty(rect)`; `Document`'s mutation methods do.
    """

    def __init__(self, doc: Document, cache_bytes: int = 512 * 1024 * 1024) -> None:
        self.doc = doc
        self.cache_bytes = int(cache_bytes)
        self._cache: OrderedDict[tuple[int, int], dict[str, np.ndarray]] = OrderedDict()
        self._nbytes = 0
        self.recomposited = 0  # tiles composited since creation (for tests and profiling)
        doc.events.dirty.connect(self.invalidate)

    def close(self) -> None:
        """Stop listening to the document and drop the cache."""
        self.doc.events.dirty.disconnect(self.invalidate)
        self.invalidate()

    @property
    def tiles_x(self) -> int:
        return (self.doc.width + TILE - 1) // TILE

    @property
    def tiles_y(self) -> int:
        return (self.doc.height + TILE - 1) // TILE

    def tile_rect(self, tx: int, ty: int) -> Rect:
        return tile_rect(tx, ty, self.doc.width, self.doc.height)

    def invalidate(self, rect: Rect | None = None) -> None:
        """Forget cached tiles under canvas `rect` (all tiles when None)."""
        if rect is None:
            self._cache.clear()
            self._nbytes = 0
            return
        for key in rect.intersect(self.doc.rect).tiles():
            self._drop(key)

    def put(self, tx: int, ty: int, planar: np.ndarray, rgba8p: np.ndarray | None = None) -> None:
        """Install tile (tx, ty) composited elsewhere (by `render` on a worker thread), as `tile` would."""
        self._drop((tx, ty))
        entry = {"planar": planar} if rgba8p is None else {"planar": planar, "rgba8p": rgba8p}
        self._cache[(tx, ty)] = entry
        self._nbytes += sum(a.nbytes for a in entry.values())
        self._trim()

    @property
    def cache_nbytes(self) -> int:
        return self._nbytes

    def is_cached(self, tx: int, ty: int) -> bool:
        return (tx, ty) in self._cache

    def tile(self, tx: int, ty: int) -> np.ndarray:
        """Composited tile (tx, ty) as a new float32 h×w×4 straight-alpha array."""
        return planar_to_straight(self._entry(tx, ty)["planar"])

    def tile_rgba8(self, tx: int, ty: int, premultiplied: bool = True) -> np.ndarray:
        """Composited tile as uint8 h×w×4, C-contiguous (premultiplied by default, for
        QImage.Format_RGBA8888_Premultiplied). Cached: treat it as read-only."""
        key = "rgba8p" if premultiplied else "rgba8"
        entry = self._entry(tx, ty)
        out = entry.get(key)
        if out is None:
            out = planar_to_rgba8(entry["planar"], premultiplied)
            entry[key] = out
            self._nbytes += out.nbytes
            self._trim()
        return out

    # internals

    def _entry(self, tx: int, ty: int) -> dict[str, np.ndarray]:
        key = (tx, ty)
        entry = self._cache.get(key)
        if entry is not None:
            self._cache.move_to_end(key)
            return entry
        rect = self.tile_rect(tx, ty)
        if rect.empty:
            raise IndexError(f"tile ({tx}, {ty}) is outside the {self.doc.width}×{self.doc.height} canvas")
        entry = {"planar": render(self.doc.layers, rect)}
        self.recomposited += 1
        self._cache[key] = entry
        self._nbytes += entry["planar"].nbytes
        self._trim()
        return entry

    def _drop(self, key: tuple[int, int]) -> None:
        entry = self._cache.pop(key, None)
        if entry is not None:
            self._nbytes -= sum(a.nbytes for a in entry.values())

    def _trim(self) -> None:
        while self._nbytes > self.cache_bytes and len(self._cache) > 1:
            self._drop(next(iter(self._cache)))
