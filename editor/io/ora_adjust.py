"""Adjustment layers in OpenRaster: parameters under data/lucid/ (reopened fully editable) and baked pixels
in the standard stack, so GIMP and Krita show the same picture without knowing what an adjustment is.

The baked image is the layer's function applied to the composite of what lies below it in its group (or,
clipped, to the one layer below), with alpha = that backdrop's alpha × the layer's mask; opacity and blend
mode stay stack attributes, so the other program's own compositing reproduces ours on opaque backdrops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from editor.core.adjust.layer import AdjustmentLayer
from editor.core.compositor import planar_to_straight, render
from editor.core.errors import LucidError
from editor.core.layers import GroupLayer, Layer
from editor.core.pixels import from_float


def baked_pixels(layer: AdjustmentLayer, parent: GroupLayer, dtype) -> np.ndarray:
    """RGBA in `dtype` covering `layer.bounds`: what other programs draw for this layer."""
    index = parent.children.index(layer)
    below: list[Layer] = list(parent.children[:index])
    if layer.clipped:
        base = next((c for c in reversed(below) if not isinstance(c, AdjustmentLayer)), None)
        below = [base] if base is not None else []
    rect = layer.bounds
    straight = planar_to_straight(render(below, rect))  # (h, w, 4) straight float32
    fn = layer.function
    if fn is not None:
        planar = np.ascontiguousarray(straight[..., :3].transpose(2, 0, 1))
        straight[..., :3] = fn(planar).transpose(1, 2, 0)
    if layer.mask is not None:
        straight[..., 3] *= layer.mask
    return from_float(straight, dtype)


def record_fields(layer: AdjustmentLayer) -> dict[str, Any]:
    """What data/lucid/document.json keeps for the layer (besides id, kind, src and mask)."""
    return {"adjustment": layer.adjustment, "params": layer.params, "clipped": layer.clipped}


def read_adjustment(name: str, record: dict[str, Any], size: tuple[int, int], mask: np.ndarray | None,
                    common: dict[str, Any]) -> AdjustmentLayer:
    """Rebuild an adjustment layer from its record; damaged parameters raise LucidError."""
    params = record.get("params")
    if not isinstance(params, dict):
        raise LucidError(f"adjustment layer {name!r} has no parameters")
    return AdjustmentLayer(name, str(record.get("adjustment")), params, size=size, mask=mask,
                           clipped=bool(record.get("clipped", False)), **common)
