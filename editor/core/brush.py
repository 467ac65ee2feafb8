"""Round-brush stamping into a layer's pixels, its mask, or the selection.

A dab is computed analytically (distance from the centre, a hardness ramp and a one-pixel
anti-aliased rim) over its own small rectangle only, so its cost does not depend on the canvas size.
Within one stroke, dabs build up a coverage map by `flow`; the target then receives
`coverage × opacity`, never more ("wash" behaviour: a stroke cannot sum past its opacity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from editor.core.geometry import TILE, Rect
from editor.core.pixels import dtype_max

if TYPE_CHECKING:
    from editor.core.document import Document, Target
    from editor.core.layers import Layer

_F = np.float32


@dataclass
class Brush:
    """Round brush. `size` is the diameter in pixels at pressure 1; `spacing` is a fraction of the size."""

    size: float = 20.0
    hardness: float = 0.8
    opacity: float = 1.0
    flow: float = 1.0
    spacing: float = 0.1
    erase: bool = False
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)  # straight RGB in [0, 1], for pixel targets


def dab(cx: float, cy: float, diameter: float, hardness: float) -> tuple[Rect, np.ndarray]:
    """Coverage of one dab centred at (cx, cy) (continuous coordinates; pixel (i, j) spans [i, i+1)).

    Returns the dab's rectangle and float32 coverage in [0, 1] over it: 1 inside the hard core, a smooth
    falloff to the rim, and a one-pixel anti-aliased edge even at hardness 1.
    """
    r = max(diameter * 0.5, 0.5)
    x0, y0 = math.floor(cx - r - 1.0), math.floor(cy - r - 1.0)
    x1, y1 = math.ceil(cx + r + 1.0), math.ceil(cy + r + 1.0)
    dx = np.arange(x0, x1, dtype=_F) + _F(0.5 - cx)
    dy = np.arange(y0, y1, dtype=_F) + _F(0.5 - cy)
    d = np.sqrt(dy[:, None] ** 2 + dx[None, :] ** 2)
    ramp = max(r * (1.0 - min(max(hardness, 0.0), 1.0)), 1.0)
    v = (_F(r + 0.5) - d) * _F(1.0 / ramp)
    np.clip(v, 0.0, 1.0, out=v)
    if ramp > 1.0:
        v = v * v * (_F(3.0) - _F(2.0) * v)  # smoothstep: soft brushes without a visible cone tip
    return Rect(x0, y0, x1 - x0, y1 - y0), v


class Stroke:
    """One brush stroke = one undo step. Feed it points with `add_point`, then call `end()` (or `cancel()`).

    `target` is "pixels" | "mask" | "selection" (layer None for the selection). Points are in canvas
    coordinates; each `add_point` returns the canvas rectangle its dabs changed (and emits it).
    """

    def __init__(self, doc: Document, layer: Layer | None, target: Target, brush: Brush,
                 label: str | None = None) -> None:
        self.doc = doc
        self.brush = brush
        self.target = target
        self._cm = doc.pixel_edit(layer, target, label or ("Erase" if brush.erase else "Brush"))
        self.edit = self._cm.__enter__()
        self._origin = layer.offset if (layer is not None and target != "selection") else (0, 0)
        self._coverage: dict[tuple[int, int], np.ndarray] = {}
        self._last: tuple[float, float, float] | None = None
        self._to_next = 0.0
        self._open = True
        self.dabs: list[tuple[float, float, float]] = []  # (x, y, diameter) of every dab, canvas coordinates

    def __enter__(self) -> Stroke:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.end()
        else:
            self.cancel()

    def _step(self, pressure: float) -> float:
        return max(self.brush.spacing * self.brush.size * pressure, 0.5)

    def add_point(self, x: float, y: float, pressure: float = 1.0) -> Rect:
        """Continue the stroke to (x, y); dabs are placed every `spacing × size` along the path."""
        if not self._open:
            raise RuntimeError("the stroke has ended")
        pressure = min(max(float(pressure), 0.0), 1.0)
        dirty = Rect(0, 0, 0, 0)
        if self._last is None:
            dirty = self._stamp(x, y, pressure)
            self._to_next = self._step(pressure)
        else:
            lx, ly, lp = self._last
            length = math.hypot(x - lx, y - ly)
            travelled = self._to_next
            while travelled <= length:
                t = travelled / length
                p = lp + (pressure - lp) * t
                dirty = dirty.union(self._stamp(lx + (x - lx) * t, ly + (y - ly) * t, p))
                travelled += self._step(p)
            self._to_next = travelled - length  # carry the remainder into the next segment
        self._last = (x, y, pressure)
        if not dirty.empty:
            ox, oy = self._origin
            self.edit.notify(dirty.translated(-ox, -oy))
        return dirty

    def end(self) -> None:
        """Finish: record the stroke as one undo step (nothing if it changed nothing)."""
        if self._open:
            self._open = False
            self._cm.__exit__(None, None, None)

    def cancel(self) -> None:
        """Abandon the stroke: the target goes back to how it was and nothing is recorded."""
        if self._open:
            self._open = False
            err = _StrokeCancelled()
            self._cm.__exit__(_StrokeCancelled, err, None)

    # --- stamping ------------------------------------------------------------------------------------------

    def _stamp(self, x: float, y: float, pressure: float) -> Rect:
        """Apply one dab; returns the canvas rect it changed."""
        size = self.brush.size * pressure
        if size <= 0:
            return Rect(0, 0, 0, 0)
        ox, oy = self._origin
        rect, cov = dab(x - ox, y - oy, size, self.brush.hardness)
        self.dabs.append((x, y, size))
        clipped = self.edit.touch(rect)
        if clipped.empty:
            return clipped
        flow = _F(self.brush.flow)
        opacity = _F(self.brush.opacity)
        for key in clipped.tiles():
            piece = clipped.intersect(Rect(key[0] * TILE, key[1] * TILE, TILE, TILE))
            local = piece.translated(-key[0] * TILE, -key[1] * TILE).slices()
            d = cov[piece.translated(-rect.x, -rect.y).slices()]
            s_tile = self._coverage.get(key)
            if s_tile is None:
                s_tile = self._coverage[key] = np.zeros((TILE, TILE), np.float32)
            s = s_tile[local]
            s += (_F(1.0) - s) * (d * flow)  # build-up within the stroke
            alpha = s * opacity
            orig = self.edit.original(*key)[local]
            self.edit.array[piece.slices()] = self._apply(orig, alpha)
        return clipped.translated(ox, oy)

    def _apply(self, orig: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """New target values from the pre-stroke values `orig` and the stroke's alpha."""
        if self.target != "pixels":
            if self.brush.erase:
                return orig * (_F(1.0) - alpha)
            return np.maximum(orig, alpha)
        top = _F(dtype_max(orig.dtype))
        src = orig.astype(np.float32) * (_F(1.0) / top)
        a0 = src[..., 3]
        out = np.empty_like(src)
        if self.brush.erase:
            out[..., :3] = src[..., :3]
            out[..., 3] = a0 * (_F(1.0) - alpha)
        else:
            a_out = alpha + a0 * (_F(1.0) - alpha)
            col = np.asarray(self.brush.color, np.float32)
            keep = a0 * (_F(1.0) - alpha)
            with np.errstate(divide="ignore", invalid="ignore"):
                rgb = col[None, None, :] * alpha[..., None] + src[..., :3] * keep[..., None]
                rgb /= a_out[..., None]
            out[..., :3] = np.where(a_out[..., None] > 0, rgb, src[..., :3])
            out[..., 3] = a_out
        result = np.rint(np.clip(out, 0.0, 1.0) * top).astype(orig.dtype)
        return np.where((alpha > 0)[..., None], result, orig)


class _StrokeCancelled(Exception):
    """Thrown into the pixel edit to make it restore the target."""
