"""Helpers that make large OpenRaster saves and opens fast: content boxes and parallel PNG work.

Why threads: PNG encoding (OpenCV, zlib) and decoding (Pillow) release the GIL, so on a 2-core
machine two layers encode at once; the zip itself is written afterwards in order, from one thread.
Why content boxes: an inpaint result is a canvas-sized layer whose mask covers a few hundred pixels;
storing only the box where its mask is non-zero (with the OpenRaster x/y offsets) turns four full
canvas PNGs (raw + baked, per result) into four small ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from editor.core.blend import BlendMode
from editor.core.document import Document
from editor.core.geometry import Rect
from editor.core.layers import GroupLayer, Layer, PixelLayer, ResultLayer
from editor.core.pixels import from_float

T = TypeVar("T")
K = TypeVar("K")


def content_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, x0, y1, x1), half-open, of where `mask` > 0; None if it is zero everywhere."""
    rows = np.flatnonzero(mask.max(axis=1) > 0)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].max(axis=0) > 0)
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def run_parallel(jobs: Iterable[tuple[K, Callable[[], T]]]) -> list[tuple[K, T]]:
    """Run each (key, thunk) on a thread pool; results in the jobs' order. The first error is raised."""
    jobs = list(jobs)
    if len(jobs) <= 1:
        return [(key, fn()) for key, fn in jobs]
    with ThreadPoolExecutor(max_workers=min(workers(), len(jobs)), thread_name_prefix="ora") as pool:
        futures = [(key, pool.submit(fn)) for key, fn in jobs]
        return [(key, fut.result()) for key, fut in futures]


def merged_parts(doc: Document) -> tuple[np.ndarray, list[tuple[int, int, np.ndarray]]]:
    """The document's composite in its own dtype, as a base image plus (y, x, pixels) patches.

    Why: on a 24 MP photo with two small fills, compositing the whole canvas in float32 costs more
    than encoding it. When the bottom layer is a plain opaque canvas-sized layer, the composite
    equals its pixels wherever nothing above it has content, so only the upper layers' boxes are
    composited, and the base is not even copied (`PngEncoder.encode(patches=…)` pastes band by
    band). Anything unusual (unknown layer kinds, a masked or translucent base) takes the general
    path: the whole composite as the base, no patches.
    """
    from editor.core.compositor import composite

    layers = doc.layers
    if not layers or not _plain_base(doc, layers[0]):
        return from_float(composite(doc), doc.dtype), []
    patches = []
    for layer in layers[1:]:
        rect = _content_rect(layer)
        rect = rect.intersect(doc.rect) if rect is not None else doc.rect
        if not rect.empty and layer.visible:
            patches.append((rect.y, rect.x, from_float(composite(doc, rect), doc.dtype)))
    return layers[0].pixels, patches  # type: ignore[attr-defined]


def merged_pixels(doc: Document) -> np.ndarray:
    """`merged_parts` as one array (the patches pasted over a copy of the base)."""
    base, patches = merged_parts(doc)
    out = base.copy() if patches else base
    for y, x, p in patches:
        out[y : y + p.shape[0], x : x + p.shape[1]] = p
    return out


def thumbnail_source(base: np.ndarray, patches: list[tuple[int, int, np.ndarray]], step: int) -> np.ndarray:
    """The merged image decimated by `step` (rows and columns), patches included, without the full copy."""
    out = base[::step, ::step].copy()
    for y, x, p in patches:
        oy, ox = -(-y // step), -(-x // step)  # first decimated row/column inside the patch
        sub = p[oy * step - y :: step, ox * step - x :: step]
        out[oy : oy + sub.shape[0], ox : ox + sub.shape[1]] = sub
    return out


def _plain_base(doc: Document, layer: Layer) -> bool:
    if type(layer) is not PixelLayer or layer.mask is not None or not layer.visible:
        return False
    px = layer.pixels
    return (layer.offset == (0, 0) and px.shape[:2] == (doc.height, doc.width) and px.dtype == doc.dtype
            and layer.opacity >= 1.0 and BlendMode(layer.blend_mode) == BlendMode.NORMAL
            and px[..., 3].min() == np.iinfo(px.dtype).max)


def _content_rect(layer: Layer) -> Rect | None:
    """Where `layer` can change the composite (canvas coordinates); None when that is unknown."""
    if type(layer) is GroupLayer:
        rects = [_content_rect(child) for child in layer.children]
        if any(r is None for r in rects):
            return None
        out = Rect(0, 0, 0, 0)
        for r in rects:
            out = out.union(r)  # type: ignore[arg-type]
        return out
    if type(layer) not in (PixelLayer, ResultLayer):
        return None  # e.g. an adjustment layer changes everything below it
    if layer.mask is None:
        return layer.bounds
    box = content_box(layer.mask)
    if box is None:
        return Rect(0, 0, 0, 0)
    y0, x0, y1, x1 = box
    return Rect(layer.offset[0] + x0, layer.offset[1] + y0, x1 - x0, y1 - y0)
