"""Brush strokes: one undo step, dabs every `spacing × size`, capped accumulation, erase, colour."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.brush import Brush, Stroke, dab
from editor.core.document import Document
from editor.core.geometry import TILE, Rect
from editor.core.layers import PixelLayer


def _doc(w=300, h=200, mask_value: float | None = None, offset=(0, 0)):
    doc = Document(w, h)
    mask = None if mask_value is None else np.full((h, w), mask_value, np.float32)
    layer = PixelLayer("a", np.zeros((h, w, 4), np.uint8), mask=mask, offset=offset)
    doc.add_layer(layer)
    return doc, layer


def test_dab_is_round_antialiased_and_hardness_shapes_the_falloff():
    rect, hard = dab(50.0, 50.0, 20.0, 1.0)
    assert rect.x <= 40 and rect.right >= 60
    assert hard[50 - rect.y, 50 - rect.x] == 1.0
    assert abs(hard.sum() - np.pi * 10**2) < 2  # covered area of a 20 px disc
    edge = hard[(hard > 0) & (hard < 1)]
    assert edge.size > 0  # anti-aliased rim
    _, soft = dab(50.0, 50.0, 20.0, 0.0)
    assert soft.sum() < hard.sum() and soft[50 - rect.y, 50 - rect.x] > 0.99
    assert soft[50 - rect.y, 57 - rect.x] < hard[50 - rect.y, 57 - rect.x]


def test_dabs_follow_spacing_and_carry_the_remainder_across_segments():
    doc, layer = _doc()
    brush = Brush(size=20, spacing=0.25)  # one dab every 5 px
    with Stroke(doc, layer, "mask", brush) as stroke:
        for x in (10, 13, 30, 57, 110):
            stroke.add_point(x, 50)
    xs = [d[0] for d in stroke.dabs]
    np.testing.assert_allclose(xs, np.arange(10, 111, 5), atol=1e-9)
    doc2, layer2 = _doc()
    with Stroke(doc2, layer2, "mask", brush) as s2:
        s2.add_point(10, 50, pressure=1.0)
        s2.add_point(10, 90, pressure=0.5)
    sizes = [d[2] for d in s2.dabs]
    assert sizes[0] == 20 and sizes[-1] < 12  # pressure scales size


def test_stroke_is_one_undo_step_and_undo_is_exact():
    doc, layer = _doc(mask_value=1.0)
    before = layer.mask.copy()
    brush = Brush(size=30, hardness=0.5, erase=True)
    with Stroke(doc, layer, "mask", brush) as stroke:
        for i in range(20):
            stroke.add_point(20 + i * 10, 100 + (i % 3) * 5)
    assert doc.history.labels[-1] == "Erase" and doc.history.index == 2  # add layer + stroke
    assert layer.mask[100, 20] == 0.0 and layer.mask.min() == 0.0
    doc.history.undo()
    np.testing.assert_array_equal(layer.mask, before)
    doc.history.redo()
    assert layer.mask[100, 20] == 0.0


def test_painting_a_mask_caps_at_opacity_and_leaves_the_rest_bit_identical():
    doc, layer = _doc(mask_value=0.0)
    base = np.random.default_rng(0).random((200, 300), dtype=np.float32) * 0.2
    layer.mask[...] = base
    brush = Brush(size=24, hardness=0.8, opacity=0.5, flow=0.3, spacing=0.05)
    dirty = Rect(0, 0, 0, 0)
    with Stroke(doc, layer, "mask", brush) as stroke:
        for _ in range(3):  # scrub back and forth over the same place
            dirty = dirty.union(stroke.add_point(100, 100))
            dirty = dirty.union(stroke.add_point(160, 100))
    assert abs(float(layer.mask[100, 130]) - 0.5) < 1e-3  # built up to, never past, the opacity
    assert layer.mask.max() <= 0.5 + 1e-6
    changed = layer.mask != base
    ys, xs = np.nonzero(changed)
    assert Rect.from_bounds(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1).intersect(dirty) == \
        Rect.from_bounds(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    outside = np.ones_like(changed)
    outside[dirty.slices()] = False
    np.testing.assert_array_equal(layer.mask[outside], base[outside])  # bit-identical outside the dabs


def test_painting_colour_into_pixels_and_erasing_it():
    doc, layer = _doc(offset=(10, 5))
    red = Brush(size=10, hardness=1.0, color=(1.0, 0.0, 0.0))
    events = []
    doc.events.dirty.connect(events.append)
    with Stroke(doc, layer, "pixels", red) as stroke:
        rect = stroke.add_point(60, 45)  # canvas → layer pixel (50, 40)
    assert rect.x <= 55 and rect.right >= 65 and events and events[0] == rect
    np.testing.assert_array_equal(layer.pixels[40, 50], [255, 0, 0, 255])
    alpha = layer.pixels[..., 3]
    assert ((alpha > 0) & (alpha < 255)).sum() >= 8  # anti-aliased rim
    assert layer.pixels[40, 53, 3] == 255 and layer.pixels[40, 55, 3] == 0  # radius 5 around x = 50
    assert layer.pixels[:, :40].max() == 0 and layer.pixels[:30].max() == 0
    with Stroke(doc, layer, "pixels", Brush(size=30, erase=True, hardness=1.0)) as stroke:
        stroke.add_point(60, 45)
    assert layer.pixels[40, 50, 3] == 0
    assert doc.history.labels[-2:] == ["Brush", "Erase"]


def test_cancel_restores_and_records_nothing():
    doc, layer = _doc(mask_value=1.0)
    stroke = Stroke(doc, layer, "mask", Brush(size=40, erase=True))
    stroke.add_point(100, 100)
    assert layer.mask[100, 100] == 0.0
    stroke.cancel()
    assert layer.mask.min() == 1.0 and doc.history.index == 1
    with pytest.raises(RuntimeError):
        stroke.add_point(0, 0)


def test_a_dab_touches_only_its_tiles_on_a_big_mask():
    doc = Document(6000, 4000)
    layer = PixelLayer("big", np.zeros((4000, 6000, 4), np.uint8))
    doc.add_layer(layer)
    with Stroke(doc, layer, "mask", Brush(size=50, erase=True)) as stroke:
        stroke.add_point(3000.5, 2000.5)
    delta = doc.history.nbytes
    assert 0 < delta <= 2 * TILE * TILE * 4  # one float32 tile, before + after
