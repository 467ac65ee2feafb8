"""Blend modes OpenRaster does not list (today only svg:exclusion): find them, and bake them for sharing.

Lucid keeps such layers (its maths is W3C's), but Krita and GIMP load them as Normal. Baking replaces
each with a normal pixel layer holding what it shows — the composite of it over its own backdrop, where
it covers anything — so other programs show the same picture. Exact where that backdrop is opaque.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from editor.core.blend import BlendMode
from editor.core.layers import GroupLayer, Layer, PixelLayer

if TYPE_CHECKING:
    from editor.core.document import Document

# OpenRaster 0.0.6 composite-op list (https://www.openraster.org/baseline/layer-stack-spec.html)
ORA_OPS = frozenset({
    "svg:src-over", "svg:multiply", "svg:screen", "svg:overlay", "svg:darken", "svg:lighten",
    "svg:color-dodge", "svg:color-burn", "svg:hard-light", "svg:soft-light", "svg:difference", "svg:color",
    "svg:luminosity", "svg:hue", "svg:saturation", "svg:plus", "svg:dst-in", "svg:dst-out", "svg:src-atop",
    "svg:dst-atop",
})


def non_ora_layers(doc: Document) -> list[Layer]:
    """Visible layers and groups whose blend mode other OpenRaster programs do not know."""
    return [layer for layer in doc.all_layers()
            if BlendMode(layer.blend_mode).value not in ORA_OPS and _shown(doc, layer)]


def _shown(doc: Document, layer: Layer) -> bool:
    node: Layer = layer
    while node is not doc.root:
        if not node.visible:
            return False
        node = doc.parent_of(node)
    return True


def backdrop_stack(layers: list[Layer], target: Layer) -> list[Layer] | None:
    """The layers (bottom first) that compose, in `target`'s isolation context, everything up to and
    including `target`; None if `target` is not under `layers`."""
    from editor.core.compositor import renders_isolated

    below: list[Layer] = []
    for layer in layers:
        if layer is target:
            return [*below, target]
        if isinstance(layer, GroupLayer) and any(c is target for c in layer.walk()):
            inner = backdrop_stack(layer.children, target)
            return inner if renders_isolated(layer) else [*below, *(inner or [])]
        below.append(layer)
    return None


def bake_non_ora_layers(doc: Document) -> list[PixelLayer]:
    """Replace every visible non-OpenRaster-mode layer with its baked look, as one undo step."""
    from editor.core.compositor import planar_to_straight, render
    from editor.core.pixels import from_float

    targets = non_ora_layers(doc)
    baked: list[PixelLayer] = []
    if not targets:
        return baked
    with doc.group(f"Bake {len(targets)} layer(s) for other programs"):
        for layer in targets:
            area = layer.bounds.intersect(doc.rect)
            parent = doc.parent_of(layer)
            index = parent.children.index(layer)
            if area.empty:
                doc.remove_layer(layer)
                continue
            stack = backdrop_stack(doc.layers, layer) or [layer]
            result = planar_to_straight(render(stack, area))
            covers = render([_coverage(layer)], area)[3] > 0  # where the layer itself shows
            result[~covers] = 0.0
            new = PixelLayer(f"{layer.name} (baked)", from_float(result, doc.dtype), offset=(area.x, area.y))
            doc.remove_layer(layer)
            doc.add_layer(new, index, parent)
            baked.append(new)
    return baked


def _coverage(layer: Layer) -> Layer:
    """A normal stand-in with the same alpha × mask × opacity footprint (groups: their whole bounds)."""
    if isinstance(layer, PixelLayer):
        return PixelLayer("coverage", layer.pixels, mask=layer.mask, offset=layer.offset,
                          opacity=layer.opacity)
    return GroupLayer("coverage", list(layer.children), opacity=layer.opacity)

