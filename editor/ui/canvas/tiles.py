"""A QGraphicsItem that draws an image as 256×256 tiles fetched on demand and re-wrapped only when dirty.

The item never computes pixels: a `TileSource` (the core compositor, or the mask overlay) hands back a
premultiplied RGBA8 array per tile; the item wraps it in a QImage without copying and keeps the array
referenced beside the QImage, since QImage does not own foreign memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from editor.core.geometry import TILE, Rect, tile_rect

TileSource = Callable[[int, int], np.ndarray]  # (tx, ty) -> uint8 (h, w, 4) premultiplied RGBA

NEAREST_FROM_ZOOM = 2.0  # at or above 200 % show crisp pixels, below it smooth
CHECKER_CELL_PX = 8  # checkerboard cell size on screen, whatever the zoom
MAX_MIP_LEVEL = 5  # down to 8×8 per tile (zoom ≤ 1/32)


def mip_level(scale: float) -> int:
    """Largest L with 2**-L ≥ scale: the smallest cached reduction that still has enough pixels."""
    if scale >= 0.5:
        return 0
    return min(MAX_MIP_LEVEL, math.floor(math.log2(1.0 / scale)))


def wrap_rgba8(array: np.ndarray) -> QImage:
    """Zero-copy QImage over a C-contiguous premultiplied RGBA8 array (caller keeps `array` alive)."""
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 4:
        raise ValueError(f"tile must be uint8 (h, w, 4), got {array.dtype} {array.shape}")
    if not array.flags.c_contiguous:
        raise ValueError("tile must be C-contiguous to wrap without copying")
    h, w = array.shape[:2]
    return QImage(array.data, w, h, w * 4, QImage.Format.Format_RGBA8888_Premultiplied)


@dataclass(slots=True)
class _Tile:
    image: QImage
    array: np.ndarray  # keeps the QImage's memory alive
    opaque: bool  # no checkerboard needed underneath
    target: QRectF  # where it goes, in image coordinates
    levels: dict[int, QImage] = field(default_factory=dict)  # mipmaps: level L = 1/2**L size

    def at_level(self, level: int) -> QImage:
        """The tile reduced by 2**level (cached): zoomed-out frames scale small images, not 256² ones."""
        if level <= 0:
            return self.image
        img = self.levels.get(level)
        if img is None:
            w, h = max(1, self.image.width() >> level), max(1, self.image.height() >> level)
            img = self.image.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio,
                                    Qt.TransformationMode.SmoothTransformation)
            # the raster engine's native format draws about twice as fast as RGBA8888
            img = img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
            self.levels[level] = img
        return img


def _checker_pixmap() -> QPixmap:
    pm = QPixmap(2 * CHECKER_CELL_PX, 2 * CHECKER_CELL_PX)
    pm.fill(QColor(204, 204, 204))
    p = QPainter(pm)
    dark = QColor(153, 153, 153)
    p.fillRect(0, 0, CHECKER_CELL_PX, CHECKER_CELL_PX, dark)
    p.fillRect(CHECKER_CELL_PX, CHECKER_CELL_PX, CHECKER_CELL_PX, CHECKER_CELL_PX, dark)
    p.end()
    return pm


class TiledImageItem(QGraphicsItem):
    """Paints only the tiles inside the exposed rectangle; `invalidate(rect)` drops just those tiles."""

    def __init__(self, width: int, height: int, source: TileSource, *, checkerboard: bool = True) -> None:
        super().__init__()
        self._w, self._h = width, height
        self._source = source
        self._tiles: dict[tuple[int, int], _Tile] = {}
        self._checker = QBrush(_checker_pixmap()) if checkerboard else None
        self.wraps = 0  # tiles wrapped so far (tests and the bench read it)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    # -- model side -------------------------------------------------------------------------------
    def set_source(self, source: TileSource) -> None:
        """Swap what the item shows (before/after) and repaint everything."""
        self._source = source
        self.invalidate(None)

    def invalidate(self, rect: Rect | None) -> None:
        """Forget the tiles touching `rect` (None = all) and schedule a repaint of that area."""
        full = Rect(0, 0, self._w, self._h)
        rect = full if rect is None else rect.intersect(full)
        if rect.empty:
            return
        for key in rect.tiles():
            self._tiles.pop(key, None)
        self.update(QRectF(rect.x, rect.y, rect.w, rect.h))

    def cached_tiles(self) -> set[tuple[int, int]]:
        return set(self._tiles)

    def _tile(self, tx: int, ty: int) -> _Tile:
        tile = self._tiles.get((tx, ty))
        if tile is None:
            r = tile_rect(tx, ty, self._w, self._h)
            array = np.ascontiguousarray(self._source(tx, ty))
            opaque = bool(array[..., 3].min() == 255)
            tile = _Tile(wrap_rgba8(array), array, opaque, QRectF(r.x, r.y, r.w, r.h))
            self._tiles[(tx, ty)] = tile
            self.wraps += 1
        return tile

    # -- QGraphicsItem ----------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._w, self._h)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        exposed = option.exposedRect.intersected(self.boundingRect())
        if exposed.isEmpty():
            return
        scale = painter.worldTransform().m11()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < NEAREST_FROM_ZOOM)
        level = mip_level(scale)
        x0, y0 = int(exposed.left()) // TILE, int(exposed.top()) // TILE
        x1 = (min(int(np.ceil(exposed.right())), self._w) - 1) // TILE
        y1 = (min(int(np.ceil(exposed.bottom())), self._h) - 1) // TILE
        # This loop runs for every visible tile on every frame (384 at fit on 6000×4000): keep it lean.
        tiles, checker = self._tiles, self._checker
        if checker is not None:
            checker.setTransform(QTransform.fromScale(1 / scale, 1 / scale))
        draw = painter.drawImage
        for ty in range(y0, y1 + 1):
            for tx in range(x0, x1 + 1):
                tile = tiles.get((tx, ty)) or self._tile(tx, ty)
                if checker is not None and not tile.opaque:
                    painter.fillRect(tile.target, checker)
                draw(tile.target, tile.image if level == 0 else tile.at_level(level))


def mask_overlay_rgba8(mask: np.ndarray, rect: Rect, color: tuple[int, int, int], alpha: float) -> np.ndarray:
    """Premultiplied RGBA8 tile showing `mask[rect]` as a translucent colour (1 = full `alpha`).

    One table lookup per pixel: this runs for every dirty mask tile while the brush moves.
    """
    a = np.rint(mask[rect.slices()] * np.float32(255.0 * alpha)).astype(np.uint8)
    return _overlay_lut(color)[a]


@cache
def _overlay_lut(color: tuple[int, int, int]) -> np.ndarray:
    """256×4 table: coverage byte → premultiplied (r, g, b, a)."""
    a = np.arange(256, dtype=np.uint32)
    lut = np.empty((256, 4), np.uint8)
    for c in range(3):
        lut[:, c] = (a * color[c] + 127) // 255
    lut[:, 3] = a
    return lut


def layer_mask_on_canvas(mask: np.ndarray | None, offset: tuple[int, int], rect: Rect) -> np.ndarray:
    """The part of a layer mask (layer coordinates, placed at `offset`) under canvas `rect`; 0 outside it."""
    out = np.zeros((rect.h, rect.w), np.float32)
    h, w = (mask.shape if mask is not None else (0, 0))
    area = rect.intersect(Rect(offset[0], offset[1], w, h))
    if not area.empty and mask is not None:
        dst = area.translated(-rect.x, -rect.y).slices()
        out[dst] = mask[area.translated(-offset[0], -offset[1]).slices()]
    return out
