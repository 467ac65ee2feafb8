"""Canvas geometry: non-destructive crop (widen it again after an .ora round trip), exact quarter turns and
flips, canvas size, Lanczos image size in 16 bits, straighten and the drawn-horizon angle, undo."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from editor.core import transform
from editor.core.adjust.edits import add_adjustment
from editor.core.compositor import composite
from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.geometry import Rect
from editor.core.layers import PixelLayer
from editor.core.pixels import from_float
from editor.io.ora import load_project, save_project

RNG = np.random.default_rng(150)


def doc16(w: int = 64, h: int = 48) -> tuple[Document, np.ndarray]:
    px = RNG.integers(0, 65536, (h, w, 4), dtype=np.uint16)
    px[..., 3] = 65535
    doc = Document(w, h, depth=16)
    doc.add_layer(PixelLayer("photo", px))
    return doc, px


def pixels(doc: Document) -> np.ndarray:
    return from_float(composite(doc), doc.dtype)


def test_crop_is_offsets_and_widening_after_ora_brings_pixels_back(tmp_path):
    doc, px = doc16()
    adj = add_adjustment(doc, "exposure", {"ev": 0.5})
    full = pixels(doc)
    transform.crop(doc, Rect(10, 8, 30, 20))
    assert (doc.width, doc.height) == (30, 20)
    assert np.array_equal(pixels(doc), full[8:28, 10:40])
    assert doc.layers[0].pixels is px  # nothing was cut
    save_project(doc, tmp_path / "c.ora")
    again = load_project(tmp_path / "c.ora")
    assert again.layers[0].offset == (-10, -8) and again.layers[1].params == adj.params
    transform.crop(again, Rect(-10, -8, 64, 48))  # widen back to the original frame
    assert np.array_equal(pixels(again), full)


def test_crop_undo_and_canvas_size_anchor():
    doc, _px = doc16()
    before = pixels(doc)
    transform.crop(doc, Rect(3, 4, 20, 10))
    doc.history.undo()
    assert (doc.width, doc.height) == (64, 48) and np.array_equal(pixels(doc), before)
    transform.canvas_size(doc, 80, 50, "bottom-right")
    out = pixels(doc)
    assert np.array_equal(out[2:, 16:], before)
    assert out[0, 0, 3] == 0  # the new area is transparent
    with pytest.raises(LucidError, match="anchor"):
        transform.canvas_size(doc, 10, 10, "middle")


@pytest.mark.parametrize("op,ref", [
    ("rotate90", lambda a: np.rot90(a, -1)), ("rotate180", lambda a: np.rot90(a, 2)),
    ("rotate270", lambda a: np.rot90(a, 1)), ("flip_h", lambda a: a[:, ::-1]), ("flip_v", lambda a: a[::-1]),
])
def test_quarter_turns_and_flips_are_exact_with_offset_layers(op, ref):
    doc, _px = doc16()
    small = RNG.integers(0, 65536, (7, 11, 4), dtype=np.uint16)
    doc.add_layer(PixelLayer("spot", small, offset=(50, 3)))  # partly outside the canvas
    transform.crop(doc, Rect(2, 0, 60, 40))
    before = pixels(doc)
    transform.reorient(doc, op)
    assert np.array_equal(pixels(doc), ref(before))
    doc.history.undo()
    assert np.array_equal(pixels(doc), before)


def test_image_size_is_lanczos_in_16_bits_and_undoable():
    x = np.linspace(0, 1, 200)
    grad = np.zeros((100, 200, 4), np.uint16)
    grad[..., :3] = np.round(np.outer(np.ones(100), x)[..., None] * 65535)
    grad[..., 3] = 65535
    doc = Document(200, 100, depth=16)
    doc.add_layer(PixelLayer("g", grad))
    transform.image_size(doc, 400, 200)
    out = pixels(doc)
    assert out.shape == (200, 400, 4) and out.dtype == np.uint16
    assert len(np.unique(out[100, :, 0])) > 390  # 16-bit detail, not 8-bit steps
    ref = cv2.resize(grad[..., :3].astype(np.float32) / 65535, (400, 200), interpolation=cv2.INTER_LANCZOS4)
    assert np.abs(out[..., :3] / 65535 - np.clip(ref, 0, 1)).max() < 2 / 65535
    doc.history.undo()
    assert np.array_equal(pixels(doc), grad)


def _tilted_horizon(w: int, h: int, degrees: float) -> np.ndarray:
    """Sky over sea with a straight horizon tilted `degrees` clockwise, anti-aliased by supersampling."""
    s = 4
    yy, xx = np.mgrid[0:h * s, 0:w * s] / s
    slope = math.tan(math.radians(degrees))
    below = (yy - h / 2) > (xx - w / 2) * slope
    img = np.where(below, 0.2, 0.8).reshape(h, s, w, s).mean(axis=(1, 3))
    out = np.zeros((h, w, 4), np.uint16)
    out[..., :3] = np.round(img[..., None] * 65535)
    out[..., 3] = 65535
    return out


def _measured_tilt(gray: np.ndarray) -> float:
    """Angle of the brightest-to-darkest edge, from sub-pixel edge rows fitted over the middle columns."""
    h, w = gray.shape
    cols = np.arange(w // 5, 4 * w // 5)
    ys = []
    for c in cols:
        col = gray[:, c]
        ys.append(np.interp(0.5, -col, np.arange(h)))  # where the column crosses mid-grey
    slope = np.polyfit(cols, ys, 1)[0]
    return math.degrees(math.atan(slope))


def test_straighten_by_a_drawn_horizon_recovers_the_angle():
    tilt = 3.7
    img = _tilted_horizon(400, 300, tilt)
    doc = Document(400, 300, depth=16)
    doc.add_layer(PixelLayer("sea", img))
    gray = img[..., 1] / 65535.0
    # a hand-drawn line: roughly along the horizon, a degree and a few pixels off
    slope = math.tan(math.radians(tilt + 1.0))
    p0, p1 = (60.0, 150 + (60 - 200) * slope + 2), (340.0, 150 + (340 - 200) * slope + 3)
    assert abs(transform.line_angle(p0, p1) - tilt) > 1.0  # the drawn line alone is well off
    a, b = transform.refine_line(gray, p0, p1)
    assert abs(transform.line_angle(a, b) - tilt) < 0.1
    transform.straighten(doc, -transform.line_angle(a, b))
    out = pixels(doc)[..., 1] / 65535.0
    assert abs(_measured_tilt(out)) < 0.1
    assert out[..., None].shape[0] < 300 and (pixels(doc)[..., 3] == 65535).all()  # auto-cropped, no corners
    doc.history.undo()
    assert (doc.width, doc.height) == (400, 300) and np.array_equal(pixels(doc), img)


def test_straighten_keeps_the_rotated_corners_in_the_layer():
    doc, _ = doc16(80, 60)
    transform.straighten(doc, 10)
    layer = doc.layers[0]
    assert layer.width > 80 and layer.offset[0] < 0  # the whole rotated image is kept
    assert transform.inscribed_size(80, 60, 0) == pytest.approx((80, 60))
    with pytest.raises(LucidError, match="45"):
        transform.straighten(doc, 60)
