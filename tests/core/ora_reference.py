"""An independent per-pixel renderer of an OpenRaster stack, written from the spec (ORA 0.0.6, "stack"
and "isolation"; W3C Compositing Level 1 for each composite-op via w3c_reference), for tests.

Spec rules it follows: a stack with isolation="isolate" — or isolation="auto" with opacity < 1 or a
composite-op other than svg:src-over — is rendered on its own transparent backdrop and then composited
like one layer with its opacity and op; any other stack is pass-through (its children are composited
straight onto the backdrop). Works on plain Python floats, one pixel at a time; small documents only.
"""

from __future__ import annotations

from tests.core.w3c_reference import source_over


def stack_isolated(isolated: bool, opacity: float, op: str) -> bool:
    return isolated or opacity < 1.0 or op != "svg:src-over"


def render_pixel(layers, x: int, y: int, backdrop=((0.0, 0.0, 0.0), 0.0)):
    """Straight (C, α) at canvas (x, y) of `layers` (Lucid layer objects, bottom first) over `backdrop`."""
    cb, ab = backdrop
    for layer in layers:
        if not layer.visible or layer.opacity <= 0:
            continue
        op = str(layer.blend_mode.value if hasattr(layer.blend_mode, "value") else layer.blend_mode)
        if hasattr(layer, "children"):
            if stack_isolated(layer.isolated, layer.opacity, op):
                cs, as_ = render_pixel(layer.children, x, y)
                cb, ab = source_over(cb, ab, cs, as_ * layer.opacity, op)
            else:
                cb, ab = render_pixel(layer.children, x, y, (cb, ab))
            continue
        lx, ly = x - layer.offset[0], y - layer.offset[1]
        h, w = layer.pixels.shape[:2]
        if not (0 <= lx < w and 0 <= ly < h):
            continue
        top = float(65535 if layer.pixels.dtype.itemsize == 2 else 255)
        px = [float(v) / top for v in layer.pixels[ly, lx]]
        alpha = px[3] * layer.opacity
        if layer.mask is not None:
            alpha *= float(layer.mask[ly, lx])
        cb, ab = source_over(cb, ab, tuple(px[:3]), alpha, op)
    return cb, ab


def render(doc):
    """The whole document as a list of rows of straight (r, g, b, a) tuples."""
    out = []
    for y in range(doc.height):
        row = []
        for x in range(doc.width):
            c, a = render_pixel(doc.layers, x, y)
            row.append((*c, a))
        out.append(row)
    return out
