"""Layer operations and selection helpers: each one undo step, each keeps the composite it should."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.blend import BlendMode
from editor.core.compositor import composite
from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.geometry import Rect
from editor.core.layers import GroupLayer, PixelLayer, ResultLayer
from editor.core.recipe import Recipe


def _rand_layer(rng, h, w, name="L", **kw):
    return PixelLayer(name, rng.integers(0, 256, (h, w, 4), dtype=np.uint8), **kw)


def test_flatten_keeps_the_composite_and_undoes():
    rng = np.random.default_rng(0)
    doc = Document(300, 200)
    doc.add_layer(_rand_layer(rng, 200, 300, "a"))
    doc.add_layer(_rand_layer(rng, 80, 90, "b", offset=(40, 30), blend_mode=BlendMode.OVERLAY))
    before = composite(doc)
    layers = list(doc.layers)
    flat = doc.flatten()
    assert doc.layers == [flat] and doc.history.labels[-1] == "Flatten image"
    np.testing.assert_allclose(composite(doc), before, atol=0.51 / 255)  # one rounding to 8 bits
    doc.history.undo()
    assert doc.layers == layers


def test_merge_down_normal_layers_keeps_the_look():
    doc = Document(20, 10)
    lower = PixelLayer("lower", np.full((10, 20, 4), (200, 100, 0, 255), np.uint8))
    upper_px = np.zeros((4, 4, 4), np.uint8)
    upper_px[...] = (0, 0, 255, 128)
    upper = PixelLayer("upper", upper_px, offset=(18, 8), opacity=0.5)  # hangs off the canvas
    doc.add_layer(lower)
    doc.add_layer(upper)
    before = composite(doc)
    merged = doc.merge_down(upper)
    assert doc.layers == [merged] and merged.name == "lower"
    assert merged.bounds == Rect(0, 0, 22, 12)
    np.testing.assert_allclose(composite(doc), before, atol=0.51 / 255)
    assert doc.history.labels[-1] == "Merge down “upper”"
    doc.history.undo()
    assert doc.layers == [lower, upper]
    with pytest.raises(LucidError):
        doc.merge_down(lower)  # nothing below


def test_duplicate_is_a_deep_copy_above_the_original():
    doc = Document(10, 10)
    res = ResultLayer("r", np.zeros((10, 10, 4), np.uint8), np.ones((10, 10), np.float32), Recipe("inpaint"))
    doc.add_layer(res)
    dup = doc.duplicate_layer(res)
    assert doc.layers == [res, dup] and isinstance(dup, ResultLayer) and dup.id != res.id
    assert dup.name == "r copy" and dup.recipe == res.recipe and dup.recipe is not res.recipe
    dup.pixels[0, 0] = 9
    assert res.pixels[0, 0, 0] == 0


def test_move_into_group_and_refuse_cycles():
    doc = Document(10, 10)
    a = PixelLayer("a", np.zeros((10, 10, 4), np.uint8))
    g = GroupLayer("g")
    doc.add_layer(a)
    doc.add_layer(g)
    doc.move_layer(a, 0, g)
    assert doc.layers == [g] and g.children == [a]
    with pytest.raises(LucidError):
        doc.move_layer(g, 0, g)
    doc.history.undo()
    assert doc.layers == [a, g] and g.children == []


def test_locked_layer_refuses_pixel_edits_and_wrong_depth_is_refused():
    doc = Document(10, 10)
    a = PixelLayer("a", np.zeros((10, 10, 4), np.uint8))
    doc.add_layer(a)
    doc.set_property(a, "locked", True)
    with pytest.raises(LucidError, match="locked"):
        doc.paste(a, "pixels", Rect(0, 0, 1, 1), np.ones((1, 1, 4), np.uint8), "p")
    with pytest.raises(LucidError, match=r"16-bit|uint16"):
        doc.add_layer(PixelLayer("deep", np.zeros((2, 2, 4), np.uint16)))


def test_paste_float_into_uint16_and_clip_to_layer():
    doc = Document(10, 10, depth=16)
    a = PixelLayer("a", np.zeros((10, 10, 4), np.uint16))
    doc.add_layer(a)
    patch = np.full((4, 4, 4), 0.5, np.float32)
    doc.paste(a, "pixels", Rect(8, 8, 4, 4), patch, "paste")
    assert (a.pixels[8:, 8:] == 32768).all() and a.pixels[:8].max() == 0 and a.pixels[:, :8].max() == 0


def test_selection_helpers_are_undo_steps():
    doc = Document(100, 80)
    doc.select_rect(Rect(10, 10, 30, 20))
    assert doc.selection[10:30, 10:40].min() == 1.0 and doc.selection.sum() == 600
    doc.select_rect(Rect(30, 10, 30, 20), "add")
    assert doc.selection.sum() == 1000
    doc.select_rect(Rect(0, 0, 100, 15), "subtract")
    assert doc.selection.sum() == 750
    doc.select_polygon([(50, 40), (90, 40), (90, 70), (50, 70)], "replace")
    assert abs(doc.selection.sum() - 1200) < 1.0 and doc.selection[0:39].max() == 0
    doc.invert_selection()
    assert abs(doc.selection.sum() - (8000 - 1200)) < 1.0
    doc.invert_selection()
    doc.grow_selection(5)
    grown = doc.selection.sum()
    assert abs(grown - (50 * 40 - (4 - np.pi) * 25)) < 8  # 40×30 grown by 5 px, round corners
    doc.grow_selection(-5)
    assert abs(doc.selection.sum() - 1200) < 60
    doc.feather_selection(6)
    assert 0 < doc.selection[40, 48] < 1  # soft edge now
    doc.clear_selection()
    assert doc.selection.max() == 0
    assert doc.history.labels == [
        "Select rectangle", "Select rectangle", "Select rectangle", "Select polygon", "Invert selection",
        "Invert selection", "Grow selection", "Shrink selection", "Feather selection", "Select none"]
    doc.history.jump(1)
    assert doc.selection.sum() == 600


def test_selection_edit_emits_selection_not_dirty():
    doc = Document(50, 50)
    seen, dirty = [], []
    doc.events.selection.connect(seen.append)
    doc.events.dirty.connect(dirty.append)
    doc.select_rect(Rect(5, 5, 10, 10))
    assert seen == [Rect(5, 5, 10, 10)] and dirty == []


def test_clear_selection_touches_only_selected_tiles_and_undoes_exactly():
    doc = Document(700, 530)  # partial tiles at the right and bottom edges
    rng = np.random.default_rng(0)
    doc.select_rect(Rect(600, 500, 100, 30))
    doc.select_rect(Rect(5, 5, 20, 20), "add")
    doc.selection[300:310, 300:310] = rng.random((10, 10), dtype=np.float32)  # a soft patch
    before = doc.selection.copy()
    recorded = doc.history.nbytes
    doc.clear_selection()
    assert not doc.selection.any()
    # before + after copies of the 4 tiles holding a selection (two of them clipped), not of all 9
    tile_px = 256 * 256 * 2 + 188 * 256 + 188 * 18
    assert doc.history.nbytes - recorded == tile_px * 4 * 2
    doc.history.undo()
    assert np.array_equal(doc.selection, before)
    doc.clear_selection(within=Rect(0, 0, 256, 256))  # the caller knows nothing is selected elsewhere
    assert not doc.selection[:256, :256].any() and doc.selection[500:, 600:].all()
