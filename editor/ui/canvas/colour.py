"""The canvas's colour management: document profile → display profile, per tile, through LittleCMS.

The display profile is the monitor's where Qt reports one (`QScreen.colorSpace()`, in Qt versions that
have it), a profile file named by `LUCID_DISPLAY_ICC`, or sRGB. The transform is built once per
(document profile, display profile) pair; converted tiles are cached, and a dirty rectangle re-converts
only its own pixels. An sRGB document on an sRGB display costs nothing.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from editor.core.geometry import Rect
from editor.io.icc import document_profile, is_srgb, profile_name, srgb_profile, transform

DISPLAY_ICC_ENV = "LUCID_DISPLAY_ICC"


def display_profile(screen=None) -> tuple[bytes, str]:
    """(ICC bytes, where it came from) for the display `screen` (a QScreen or None)."""
    space = getattr(screen, "colorSpace", None)
    if callable(space):  # Qt builds whose QScreen reports the monitor's colour space
        icc = bytes(space().iccProfile())
        if icc:
            return icc, "monitor"
    path = os.environ.get(DISPLAY_ICC_ENV)
    if path and Path(path).is_file():
        return Path(path).read_bytes(), "LUCID_DISPLAY_ICC"
    return srgb_profile(), "sRGB (no monitor profile reported)"


class DisplayTransform:
    """Straight RGBA8 in the document's profile → premultiplied RGBA8 in the display's."""

    def __init__(self, doc_icc: bytes | None, display_icc: bytes, *, enabled: bool = True) -> None:
        self.source = document_profile(doc_icc)
        self.display = display_icc
        self.enabled = enabled
        # most photos carry an sRGB profile of their own: sRGB to sRGB is no conversion at all
        self.identity = not enabled or self.source == self.display or (is_srgb(self.source)
                                                                        and is_srgb(self.display))
        self._transform = None if self.identity else transform(self.source, self.display, "RGBA")

    def describe(self) -> str:
        if not self.enabled:
            return "colour management off"
        return f"{profile_name(self.source)} → {profile_name(self.display)}"

    def apply(self, straight: np.ndarray) -> np.ndarray:
        """Convert one C-contiguous straight-alpha tile; returns a new premultiplied C-contiguous tile."""
        h, w = straight.shape[:2]
        image = Image.frombuffer("RGBA", (w, h), straight, "raw", "RGBA", 0, 1)
        out = np.array(ImageCms.applyTransform(image, self._transform))  # alpha is copied through
        alpha = out[..., 3]
        if alpha.min() < 255:
            a = alpha.astype(np.uint16)[..., None]
            out[..., :3] = (out[..., :3] * a + 127) // 255
        return out


class ColourManagedSource:
    """A TileSource that shows the compositor's tiles through a DisplayTransform.

    Converted tiles are cached per tile; when the document reports a dirty rectangle, only that part of
    each touched tile is converted again (a brush dab re-converts a dab-sized patch, not 256×256 pixels),
    so colour management adds little to the dirty-tile path.
    """

    def __init__(self, compositor, display: DisplayTransform, max_tiles: int = 2048) -> None:
        self.compositor = compositor
        self.max_tiles = max_tiles
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._pending: dict[tuple[int, int], list[Rect]] = {}  # tile-local rects to re-convert
        self.converted_pixels = 0  # pixels run through LittleCMS (tests and the bench read it)
        self.display = display
        compositor.doc.events.dirty.connect(self.invalidate)

    @property
    def display(self) -> DisplayTransform:
        return self._display

    @display.setter
    def display(self, value: DisplayTransform) -> None:
        self._display = value
        self.invalidate(None)

    def close(self) -> None:
        self.compositor.doc.events.dirty.disconnect(self.invalidate)
        self.invalidate(None)

    def invalidate(self, rect: Rect | None = None) -> None:
        """Note what changed: the whole cache (None) or the parts of tiles under canvas `rect`."""
        if rect is None:
            self._cache.clear()
            self._pending.clear()
            return
        doc_rect = self.compositor.doc.rect
        rect = rect.intersect(doc_rect)
        for tx, ty in rect.tiles():
            if (tx, ty) in self._cache:
                tile = self.compositor.tile_rect(tx, ty)
                local = rect.intersect(tile).translated(-tile.x, -tile.y)
                self._pending.setdefault((tx, ty), []).append(local)

    def __call__(self, tx: int, ty: int) -> np.ndarray:
        display = self._display
        if display.identity:
            return self.compositor.tile_rgba8(tx, ty)
        key = (tx, ty)
        cached = self._cache.get(key)
        if cached is None:
            straight = self._straight(tx, ty, None)
            cached = display.apply(straight)
            self.converted_pixels += straight.shape[0] * straight.shape[1]
            self._cache[key] = cached
            self._pending.pop(key, None)
            while len(self._cache) > self.max_tiles:
                self._pending.pop(self._cache.popitem(last=False)[0], None)
            return cached
        self._cache.move_to_end(key)
        parts = self._pending.pop(key, [])
        for part in _merged(parts):
            area = part.slices()
            cached[area] = display.apply(np.ascontiguousarray(self._straight(tx, ty, area)[area]))
            self.converted_pixels += part.w * part.h
        return cached

    def _straight(self, tx: int, ty: int, area: tuple[slice, slice] | None) -> np.ndarray:
        """The tile in straight alpha. The premultiplied tile (the one the unmanaged canvas uses, cached)
        is the same thing where `area` is opaque — the usual case — so the straight one is made only
        for translucent areas."""
        tile = self.compositor.tile_rgba8(tx, ty)
        alpha = tile[..., 3] if area is None else tile[(*area, 3)]
        if alpha.min() == 255:
            return tile
        return self.compositor.tile_rgba8(tx, ty, premultiplied=False)


def _merged(parts: list[Rect]) -> list[Rect]:
    """Few rectangles covering `parts`: their union box when that is not much bigger than their sum."""
    if len(parts) <= 1:
        return parts
    box = parts[0]
    for part in parts[1:]:
        box = box.union(part)
    return [box] if box.w * box.h <= 2 * sum(p.w * p.h for p in parts) else parts
