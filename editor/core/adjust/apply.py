"""How the compositor applies adjustment layers to its planar float32 working planes.

An unclipped adjustment maps the backdrop's straight colour through its function (then its blend mode)
and mixes the result in by opacity × mask; alpha is untouched. A clipped one does the same to the one
pixel layer below it before that layer is blended. Neutral parameters are skipped, so they are
bit-identical by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from editor.core.adjust.layer import AdjustmentLayer
from editor.core.blend import BlendMode
from editor.core.blending import BLEND_FUNCTIONS
from editor.core.geometry import Rect
from editor.core.layers import Layer

_F = np.float32
_TINY = _F(1e-30)


def clipped_above(layers: Sequence[Layer], index: int) -> list[AdjustmentLayer]:
    """The visible clipped adjustment layers directly above `layers[index]`, bottom first."""
    out = []
    for layer in layers[index + 1:]:
        if not (isinstance(layer, AdjustmentLayer) and layer.clipped):
            break
        if layer.visible and layer.opacity > 0.0:
            out.append(layer)
    return out


def weight(layer: AdjustmentLayer, area: Rect) -> float | np.ndarray:
    """opacity × mask over canvas `area`: a scalar when uniform, else float32 (h, w); 0 outside the layer."""
    inside = area.intersect(layer.bounds)
    if inside == area and layer.mask is None:
        return float(layer.opacity)
    out = np.zeros((area.h, area.w), _F)
    if inside.empty:
        return out
    part = out[inside.translated(-area.x, -area.y).slices()]
    if layer.mask is None:
        part[...] = _F(layer.opacity)
    else:
        ox, oy = layer.offset
        np.multiply(layer.mask[inside.translated(-ox, -oy).slices()], _F(layer.opacity), out=part)
    return out


def adjusted(layer: AdjustmentLayer, colour: np.ndarray) -> np.ndarray | None:
    """The layer's function, then its blend mode, on straight colour (3, h, w); None when neutral."""
    fn = layer.function
    if fn is None:
        return None
    out = fn(colour)
    blend = BLEND_FUNCTIONS.get(layer.blend_mode) if layer.blend_mode != BlendMode.NORMAL else None
    return out if blend is None else np.clip(blend(colour, out), _F(0.0), _F(1.0))


def _mix(dst: np.ndarray, new: np.ndarray, w: float | np.ndarray) -> None:
    """dst += w · (new − dst) in place (new is scratch)."""
    if isinstance(w, float) and w >= 1.0:
        dst[...] = new
        return
    new -= dst
    new *= w
    dst += new


def adjust_backdrop(layer: AdjustmentLayer, area: Rect, dst: np.ndarray, covered: bool) -> None:
    """Apply `layer` to planar premultiplied `dst` (4, h, w) covering canvas `area`, in place."""
    if layer.function is None:
        return
    w = weight(layer, area)
    if not isinstance(w, float) and not w.any():
        return
    if covered:  # alpha is 1: premultiplied colour is the straight colour
        new = adjusted(layer, dst[:3])
        _mix(dst[:3], new, w)  # type: ignore[arg-type]
        return
    alpha = dst[3]
    if not alpha.any():
        return
    straight = np.minimum(dst[:3] * (_F(1.0) / np.maximum(alpha, _TINY)), _F(1.0))
    new = adjusted(layer, straight)
    new *= alpha  # type: ignore[operator]
    _mix(dst[:3], new, w)  # type: ignore[arg-type]


def adjust_source(layer: AdjustmentLayer, area: Rect, src: np.ndarray) -> None:
    """Apply clipped `layer` to a pixel layer's planar straight source (colour planes 0–2) in place."""
    if layer.function is None:
        return
    w = weight(layer, area)
    if not isinstance(w, float) and not w.any():
        return
    new = adjusted(layer, np.clip(src[:3], _F(0.0), _F(1.0)))
    _mix(src[:3], new, w)  # type: ignore[arg-type]
