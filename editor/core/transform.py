"""Canvas geometry: crop, canvas size, rotate 90°/180°, flip, image size and straighten, each one undo step.

Crop and canvas size are not pixel edits: the canvas rectangle moves and every layer's offset shifts, so
pixels outside the crop stay in their layers (OpenRaster layer offsets) and a later, wider crop brings them
back. Rotations by quarter turns and flips are exact (numpy index permutations). Image size and straighten
resample with OpenCV's Lanczos in premultiplied float32, then return to the document's 8 or 16 bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from editor.core.adjust.layer import AdjustmentLayer
from editor.core.errors import LucidError
from editor.core.geometry import Rect
from editor.core.layers import Layer, PixelLayer
from editor.core.pixels import dtype_max, from_float, to_float

if TYPE_CHECKING:
    from editor.core.document import Document

MAX_SIDE = 65_535
LANCZOS_REACH = 4  # cv2's Lanczos kernel spans 8×8 source pixels
_F = np.float32


@dataclass(frozen=True)
class LayerGeometry:
    """Where a layer sits and the arrays that geometry touches (pixels of pixel layers, masks, sizes)."""

    offset: tuple[int, int]
    pixels: np.ndarray | None
    mask: np.ndarray | None
    size: tuple[int, int]

    @classmethod
    def of(cls, layer: Layer) -> LayerGeometry:
        pixels = layer.pixels if isinstance(layer, PixelLayer) else None
        size = (layer.width, layer.height)  # type: ignore[attr-defined]
        return cls(layer.offset, pixels, getattr(layer, "mask", None), size)

    @property
    def rect(self) -> Rect:
        return Rect(self.offset[0], self.offset[1], *self.size)


@dataclass(eq=False)
class GeometryChange:
    """One undoable canvas change: document size and selection, and every leaf layer's geometry."""

    doc: Document
    layers: list[Layer]
    before: list[LayerGeometry]
    after: list[LayerGeometry]
    old_size: tuple[int, int]
    new_size: tuple[int, int]
    old_selection: np.ndarray
    new_selection: np.ndarray

    @property
    def nbytes(self) -> int:
        old = {id(a) for g in self.before for a in (g.pixels, g.mask) if a is not None}
        new = [a for g in self.after for a in (g.pixels, g.mask) if a is not None and id(a) not in old]
        return sum(a.nbytes for a in new) + self.new_selection.nbytes

    def _apply(self, states: list[LayerGeometry], size: tuple[int, int], selection: np.ndarray) -> None:
        doc = self.doc
        for layer, state in zip(self.layers, states, strict=True):
            if isinstance(layer, PixelLayer) and state.pixels is not None:
                layer.pixels = state.pixels
            elif isinstance(layer, AdjustmentLayer):
                layer.size = state.size
            if hasattr(layer, "mask"):
                layer.mask = state.mask  # type: ignore[attr-defined]
            layer.offset = state.offset
            layer.events.pixels.emit(Rect(0, 0, *state.size))
            layer.events.mask.emit(Rect(0, 0, *state.size))
        doc.width, doc.height = size
        doc.selection = selection
        doc.events.canvas.emit(size)
        doc.events.selection.emit(doc.rect)
        doc.events.dirty.emit(None)

    def redo(self) -> None:
        self._apply(self.after, self.new_size, self.new_selection)

    def undo(self) -> None:
        self._apply(self.before, self.old_size, self.old_selection)


def _leaves(doc: Document) -> list[Layer]:
    return [layer for layer in doc.root.walk() if isinstance(layer, PixelLayer | AdjustmentLayer)]


def _commit(doc: Document, label: str, layers: list[Layer], after: list[LayerGeometry],
            size: tuple[int, int], selection: np.ndarray) -> None:
    w, h = size
    if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE):
        raise LucidError(f"The new canvas would be {w}×{h} pixels; sides must be 1…{MAX_SIDE}.")
    before = [LayerGeometry.of(layer) for layer in layers]
    cmd = GeometryChange(doc, layers, before, after, (doc.width, doc.height), (int(w), int(h)),
                         doc.selection, np.ascontiguousarray(selection, dtype=np.float32))
    cmd.redo()
    doc.history.record(cmd, label)


# --- crop and canvas size (offsets only) -------------------------------------------------------------------

def crop(doc: Document, rect: Rect, label: str = "Crop") -> None:
    """Make canvas rectangle `rect` the new canvas. It may reach outside the current canvas (that widens
    it); layers keep every pixel, only their offsets change."""
    if rect.empty:
        raise LucidError("The crop rectangle is empty.")
    if rect == doc.rect:
        return
    layers = _leaves(doc)
    after = []
    for layer in layers:
        g = LayerGeometry.of(layer)
        if isinstance(layer, AdjustmentLayer):
            g = _extend_adjustment(g, rect)
        after.append(LayerGeometry((g.offset[0] - rect.x, g.offset[1] - rect.y), g.pixels, g.mask, g.size))
    selection = np.zeros((rect.h, rect.w), np.float32)
    inside = rect.intersect(doc.rect)
    if not inside.empty:
        selection[inside.translated(-rect.x, -rect.y).slices()] = doc.selection[inside.slices()]
    _commit(doc, label, layers, after, (rect.w, rect.h), selection)


def _extend_adjustment(g: LayerGeometry, canvas: Rect) -> LayerGeometry:
    """An adjustment layer grows to cover a larger canvas (its mask is padded with "show")."""
    grown = g.rect.union(canvas)
    if grown == g.rect:
        return g
    mask = None
    if g.mask is not None:
        mask = np.ones((grown.h, grown.w), np.float32)
        mask[g.rect.translated(-grown.x, -grown.y).slices()] = g.mask
    return LayerGeometry((grown.x, grown.y), None, mask, (grown.w, grown.h))


ANCHORS = {"top-left": (0, 0), "top": (0.5, 0), "top-right": (1, 0), "left": (0, 0.5), "center": (0.5, 0.5),
           "right": (1, 0.5), "bottom-left": (0, 1), "bottom": (0.5, 1), "bottom-right": (1, 1)}


def canvas_size(doc: Document, width: int, height: int, anchor: str = "center") -> None:
    """Change the canvas size keeping the image at `anchor` (one of `ANCHORS`); no pixel is resampled."""
    try:
        ax, ay = ANCHORS[anchor]
    except KeyError:
        raise LucidError(f"Unknown anchor “{anchor}” (one of {', '.join(ANCHORS)}).") from None
    x = round((doc.width - width) * ax)
    y = round((doc.height - height) * ay)
    crop(doc, Rect(x, y, int(width), int(height)), "Canvas size")


# --- exact quarter turns and flips -------------------------------------------------------------------------

_DIHEDRAL = {
    "rotate90": lambda a: np.rot90(a, -1),  # clockwise, as the Image menu and `lucid edit --rotate 90` mean
    "rotate180": lambda a: a[::-1, ::-1],
    "rotate270": lambda a: np.rot90(a, 1),
    "flip_h": lambda a: a[:, ::-1],
    "flip_v": lambda a: a[::-1],
}
_LABELS = {"rotate90": "Rotate 90° clockwise", "rotate180": "Rotate 180°",
           "rotate270": "Rotate 90° counter-clockwise",
           "flip_h": "Flip horizontal", "flip_v": "Flip vertical"}


def _map_rect(op: str, r: Rect, w: int, h: int) -> Rect:
    if op == "rotate90":
        return Rect(h - r.bottom, r.x, r.h, r.w)
    if op == "rotate270":
        return Rect(r.y, w - r.right, r.h, r.w)
    if op == "rotate180":
        return Rect(w - r.right, h - r.bottom, r.w, r.h)
    if op == "flip_h":
        return Rect(w - r.right, r.y, r.w, r.h)
    return Rect(r.x, h - r.bottom, r.w, r.h)


def reorient(doc: Document, op: str) -> None:
    """Rotate by a quarter turn or flip the whole image (every layer, mask and the selection) exactly."""
    if op not in _DIHEDRAL:
        raise LucidError(f"Unknown orientation change “{op}” (one of {', '.join(_DIHEDRAL)}).")
    fn = _DIHEDRAL[op]
    layers = _leaves(doc)
    after = []
    for layer in layers:
        g = LayerGeometry.of(layer)
        r = _map_rect(op, g.rect, doc.width, doc.height)
        pixels = None if g.pixels is None else np.ascontiguousarray(fn(g.pixels))
        mask = None if g.mask is None else np.ascontiguousarray(fn(g.mask))
        after.append(LayerGeometry((r.x, r.y), pixels, mask, (r.w, r.h)))
    turned = op in ("rotate90", "rotate270")
    size = (doc.height, doc.width) if turned else (doc.width, doc.height)
    _commit(doc, _LABELS[op], layers, after, size, np.ascontiguousarray(fn(doc.selection)))


def rotate(doc: Document, degrees: int) -> None:
    """Rotate clockwise by 90, 180 or 270 degrees."""
    if int(degrees) % 360 not in (90, 180, 270):
        raise LucidError(f"Rotation must be 90, 180 or 270 degrees, not {degrees}.")
    reorient(doc, f"rotate{int(degrees) % 360}")


def flip(doc: Document, axis: str) -> None:
    """Flip horizontally ('h', mirror left↔right) or vertically ('v')."""
    if axis not in ("h", "v"):
        raise LucidError(f"Flip must be 'h' or 'v', not {axis!r}.")
    reorient(doc, f"flip_{axis}")


# --- resampling: image size and straighten -----------------------------------------------------------------

def _to_premultiplied(pixels: np.ndarray) -> tuple[np.ndarray, bool]:
    """Float32 RGBA premultiplied, and whether alpha was full everywhere (then nothing to un-premultiply)."""
    opaque = int(pixels[..., 3].min()) == int(dtype_max(pixels.dtype))
    rgba = to_float(pixels)
    if not opaque:
        rgba[..., :3] *= rgba[..., 3:4]
    return rgba, opaque


def _from_premultiplied(rgba: np.ndarray, dtype, opaque: bool) -> np.ndarray:
    np.clip(rgba, 0.0, 1.0, out=rgba)
    if opaque:
        rgba[..., 3] = 1.0
    else:
        alpha = rgba[..., 3:4]
        np.divide(rgba[..., :3], alpha, out=rgba[..., :3], where=alpha > 1e-6)
        rgba[..., :3] *= alpha > 1e-6
    return from_float(rgba, dtype)


def resample(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """RGBA pixels resized with Lanczos (area-averaged first when shrinking more than 2×), same dtype."""
    rgba, opaque = _to_premultiplied(pixels)
    h, w = rgba.shape[:2]
    if width * 2 < w or height * 2 < h:
        rgba = cv2.resize(rgba, (max(width * 2, 1) if width * 2 < w else w, max(height * 2, 1)
                                 if height * 2 < h else h), interpolation=cv2.INTER_AREA)
    out = cv2.resize(rgba, (width, height), interpolation=cv2.INTER_LANCZOS4)
    return _from_premultiplied(out, pixels.dtype, opaque)


def _resize_gray(array: np.ndarray, width: int, height: int) -> np.ndarray:
    out = cv2.resize(array, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def image_size(doc: Document, width: int, height: int) -> None:
    """Resample the whole image (every layer, mask and the selection) to width×height."""
    width, height = int(width), int(height)
    if width <= 0 or height <= 0 or width > MAX_SIDE or height > MAX_SIDE:
        raise LucidError(f"Image size {width}×{height} is not possible; sides must be 1…{MAX_SIDE}.")
    if (width, height) == (doc.width, doc.height):
        return
    sx, sy = width / doc.width, height / doc.height
    layers = _leaves(doc)
    after = []
    for layer in layers:
        g = LayerGeometry.of(layer)
        x0, y0 = round(g.rect.x * sx), round(g.rect.y * sy)
        nw = max(1, round(g.rect.right * sx) - x0)
        nh = max(1, round(g.rect.bottom * sy) - y0)
        pixels = None if g.pixels is None else resample(g.pixels, nw, nh)
        mask = None if g.mask is None else _resize_gray(g.mask, nw, nh)
        after.append(LayerGeometry((x0, y0), pixels, mask, (nw, nh)))
    _commit(doc, "Image size", layers, after, (width, height), _resize_gray(doc.selection, width, height))


def long_edge_size(width: int, height: int, long_edge: int) -> tuple[int, int]:
    """The size whose longer side is `long_edge`, keeping the aspect ratio."""
    scale = long_edge / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _rotation(angle: float) -> np.ndarray:
    """2×2 rotation by `angle` degrees, clockwise on screen (y points down)."""
    a = math.radians(angle)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def _warp(g: LayerGeometry, rot: np.ndarray, centre: np.ndarray, border_mask: float) -> LayerGeometry:
    """One layer rotated about the canvas centre into its own rotated bounding box (nothing is cut)."""
    r = g.rect
    corners = np.array([[r.x, r.y], [r.right, r.y], [r.x, r.bottom], [r.right, r.bottom]], float)
    moved = (corners - centre) @ rot.T + centre
    x0, y0 = np.floor(moved.min(axis=0)).astype(int)
    x1, y1 = np.ceil(moved.max(axis=0)).astype(int)
    size = (int(x1 - x0), int(y1 - y0))
    # index coordinates (pixel i's centre at i) from layer-local to the new box's local coordinates
    shift = rot @ (np.array([r.x, r.y]) + 0.5 - centre) + centre - np.array([x0, y0]) - 0.5
    matrix = np.hstack([rot, shift[:, None]])
    pixels = mask = None
    if g.pixels is not None:
        rgba, _opaque = _to_premultiplied(g.pixels)
        out = cv2.warpAffine(rgba, matrix, size, flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_CONSTANT,
                             borderValue=(0, 0, 0, 0))
        pixels = _from_premultiplied(out, g.pixels.dtype, False)
    if g.mask is not None:
        mask = cv2.warpAffine(g.mask, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=border_mask)
        mask = np.clip(mask, 0.0, 1.0).astype(np.float32)
    return LayerGeometry((int(x0), int(y0)), pixels, mask, size)


def inscribed_size(width: float, height: float, angle: float) -> tuple[float, float]:
    """Largest axis-aligned rectangle of the same centre inside a width×height rectangle rotated by `angle`
    (the closed form for the maximal-area inscribed rectangle)."""
    if width <= 0 or height <= 0:
        return 0.0, 0.0
    a = math.radians(angle)
    sin_a, cos_a = abs(math.sin(a)), abs(math.cos(a))
    long_side, short_side = max(width, height), min(width, height)
    if short_side <= 2.0 * sin_a * cos_a * long_side or abs(sin_a - cos_a) < 1e-10:
        x = 0.5 * short_side
        wr, hr = (x / sin_a, x / cos_a) if width >= height else (x / cos_a, x / sin_a)
    else:
        cos_2a = cos_a * cos_a - sin_a * sin_a
        wr, hr = (width * cos_a - height * sin_a) / cos_2a, (height * cos_a - width * sin_a) / cos_2a
    return wr, hr


def straighten_crop(width: int, height: int, angle: float) -> Rect:
    """The crop that `straighten` applies after rotating a width×height canvas by `angle`."""
    wr, hr = inscribed_size(width, height, angle)
    inset = 2 * LANCZOS_REACH if angle else 0  # edge pixels whose kernel reached past the rotated image
    w, h = max(1, math.floor(wr + 1e-6) - inset), max(1, math.floor(hr + 1e-6) - inset)
    return Rect((width - w) // 2, (height - h) // 2, w, h)


def straighten(doc: Document, angle: float, *, auto_crop: bool = True) -> None:
    """Rotate the image by `angle` degrees (clockwise positive, ±45) about the canvas centre with Lanczos,
    then (by default) crop to the largest upright rectangle inside it. Layers keep the rotated corners."""
    angle = float(angle)
    if not -45.0 <= angle <= 45.0:
        raise LucidError(f"Straighten angle must be within ±45°, not {angle:g}°.")
    if angle == 0.0:
        return
    rot = _rotation(angle)
    centre = np.array([doc.width / 2.0, doc.height / 2.0])
    layers = _leaves(doc)
    after = [_warp(LayerGeometry.of(layer), rot, centre, 1.0 if isinstance(layer, AdjustmentLayer) else 0.0)
             for layer in layers]
    sel_matrix = np.hstack([rot, (rot @ (0.5 - centre) + centre - 0.5)[:, None]])
    selection = cv2.warpAffine(doc.selection, sel_matrix, (doc.width, doc.height), flags=cv2.INTER_LINEAR)
    with doc.group(f"Straighten {angle:+.2f}°"):
        _commit(doc, "Straighten", layers, after, (doc.width, doc.height), np.clip(selection, 0.0, 1.0))
        if auto_crop:
            crop(doc, straighten_crop(doc.width, doc.height, angle), "Straighten crop")


# --- the horizon ----------------------------------------------------------------------------------------

def line_angle(p0: tuple[float, float], p1: tuple[float, float]) -> float:
    """Tilt of a drawn line in degrees (clockwise positive), folded into ±45° so that a line along a
    horizon or along a vertical edge both give the correction that makes it level or plumb."""
    a = math.degrees(math.atan2(p1[1] - p0[1], p1[0] - p0[0]))
    while a > 45.0:
        a -= 90.0
    while a <= -45.0:
        a += 90.0
    return a


def refine_line(gray: np.ndarray, p0: tuple[float, float], p1: tuple[float, float],
                band: float = 12.0) -> tuple[tuple[float, float], tuple[float, float]]:
    """Snap a hand-drawn line to the strongest straight edge within `band` pixels of it.

    Along the line, each perpendicular profile's gradient peak is located to sub-pixel precision; a robust
    line fit (cv2.fitLine, Huber) through the peaks gives the edge. Returns the refined end points (the
    drawn line itself when no edge is found)."""
    g = np.asarray(gray, np.float32)
    p0a, p1a = np.asarray(p0, float), np.asarray(p1, float)
    length = float(np.hypot(*(p1a - p0a)))
    if length < 4:
        return p0, p1
    along = (p1a - p0a) / length
    normal = np.array([-along[1], along[0]])
    ts = np.arange(0.0, length, 1.0)
    offsets = np.arange(-band, band + 1.0, 1.0)
    pts = p0a + ts[:, None, None] * along + offsets[None, :, None] * normal  # (n, m, 2), pixel-centre coords
    map_x = (pts[..., 0] - 0.5).astype(np.float32)
    map_y = (pts[..., 1] - 0.5).astype(np.float32)
    profile = cv2.remap(g, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    grad = np.abs(np.diff(profile, axis=1))
    peak = grad.argmax(axis=1)
    ok = (peak > 0) & (peak < grad.shape[1] - 1) & (grad.max(axis=1) > 1e-3)
    if ok.sum() < 4:
        return p0, p1
    i = np.nonzero(ok)[0]
    k = peak[i]
    left, mid, right = grad[i, k - 1], grad[i, k], grad[i, k + 1]
    denom = left - 2 * mid + right
    frac = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    pos = offsets[0] + k + 0.5 + frac  # the difference between samples k and k+1 sits half-way
    points = p0a + ts[i, None] * along + pos[:, None] * normal
    vx, vy, x, y = cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    direction = np.array([vx, vy]) * (1 if np.dot([vx, vy], along) >= 0 else -1)
    centre = np.array([x, y])
    a = centre + np.dot(p0a - centre, direction) * direction
    b = centre + np.dot(p1a - centre, direction) * direction
    return (float(a[0]), float(a[1])), (float(b[0]), float(b[1]))
