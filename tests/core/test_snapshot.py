"""Autosave snapshots: no pixel copies when taken, and never changed by later edits (copy-on-write)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from editor.core.brush import Brush, Stroke
from editor.core.document import Document
from editor.core.geometry import Rect
from editor.core.layers import PixelLayer
from editor.core.snapshot import freeze_document


@pytest.fixture
def doc() -> Document:
    d = Document(64, 48)
    d.root.children.append(PixelLayer("a", np.full((48, 64, 4), 100, np.uint8)))
    mask = np.ones((48, 64), np.float32)
    d.root.children.append(PixelLayer("b", np.full((48, 64, 4), 50, np.uint8), mask=mask))
    d.active_layer = d.layers[1]
    return d


def test_snapshot_shares_buffers_and_edits_copy_on_write(doc):
    a, b = doc.layers
    snap = freeze_document(doc)
    sa, sb = snap.layers
    assert np.shares_memory(sa.pixels, a.pixels) and np.shares_memory(sb.mask, b.mask)
    assert sa.id == a.id and snap.active_layer is sb
    doc.paste(a, "pixels", Rect(0, 0, 4, 4), np.zeros((4, 4, 4), np.uint8), "paint")
    with Stroke(doc, b, "mask", Brush(size=10, hardness=1.0, erase=True)) as stroke:
        stroke.add_point(20, 20)
    doc.select_rect(Rect(1, 1, 5, 5))
    assert a.pixels[0, 0, 0] == 0 and b.mask[20, 20] < 1 and doc.selection[2, 2] == 1
    assert sa.pixels[0, 0, 0] == 100 and sb.mask[20, 20] == 1 and snap.selection.max() == 0
    doc.history.undo()
    doc.history.undo()
    doc.history.undo()
    assert a.pixels[0, 0, 0] == 100 and b.mask[20, 20] == 1


def test_snapshot_refused_while_a_stroke_is_open(doc):
    stroke = Stroke(doc, doc.layers[0], "pixels", Brush(size=4))
    with pytest.raises(RuntimeError):
        freeze_document(doc)
    stroke.end()
    freeze_document(doc)


def test_snapshot_of_a_large_document_is_cheap():
    big = Document(6000, 4000)
    for i in range(4):
        big.root.children.append(PixelLayer(str(i), np.zeros((4000, 6000, 4), np.uint8)))
    start = time.perf_counter()
    freeze_document(big)
    assert time.perf_counter() - start < 0.016  # ≤ 16 ms on the GUI thread: 4 × 96 MB, no copies


def test_lazy_renders_of_a_region_are_the_whole_render_cropped_and_ignore_later_edits():
    from editor.core.blend import BlendMode
    from editor.core.compositor import composite
    from editor.core.layers import GroupLayer
    from editor.core.pixels import to_float
    from editor.core.snapshot import (
        layer_mask_later,
        render_layer_later,
        render_layers_later,
        selection_later,
    )

    rng = np.random.default_rng(3)
    d = Document(600, 300)
    base = rng.integers(0, 256, (300, 600, 4), dtype=np.uint8)
    base[..., 3] = 255
    d.root.children.append(PixelLayer("photo", base))
    over = PixelLayer("over", rng.integers(0, 256, (90, 120, 4), dtype=np.uint8), offset=(250, 130),
                      mask=rng.random((90, 120), dtype=np.float32), blend_mode=BlendMode.MULTIPLY,
                      opacity=0.7)
    d.root.children.append(GroupLayer("group", [over]))
    d.select_rect(Rect(10, 20, 30, 40))
    comp = render_layers_later(d, d.layers)
    plain = render_layer_later(d, over, channels=3)
    sel = selection_later(d)
    mask = layer_mask_later(d, over)
    full = composite(d)  # the canvas compositor's own whole render
    d.paste(d.layers[0], "pixels", Rect(0, 0, 600, 300), np.zeros((300, 600, 4), np.uint8), "wipe")
    d.clear_selection()
    region = Rect(200, 100, 300, 150)  # across tile borders and the offset layer's edges
    assert np.array_equal(comp.render(), full)
    assert np.array_equal(comp.render(region), full[region.slices()])
    assert plain.render(region).shape == (150, 300, 3)
    assert np.array_equal(plain.render(region)[30:120, 50:170], to_float(over.pixels[..., :3]))
    assert plain.render(region)[:30].max() == 0
    assert sel.render().sum() == 1200 and sel.render(Rect(0, 0, 20, 30)).sum() == 100
    assert np.array_equal(mask.render(region)[30:120, 50:170], over.mask)
    assert mask.render(region)[:30].max() == 0


def test_a_buffer_is_copied_on_edit_only_while_a_snapshot_still_holds_it(doc):
    """Copy-on-write copies 96 MB for a 24 MP layer; once the snapshot is gone the edit writes in place."""
    a = doc.layers[0]
    buffer = a.pixels
    snap = freeze_document(doc)
    doc.paste(a, "pixels", Rect(0, 0, 2, 2), np.zeros((2, 2, 4), np.uint8), "paint")
    assert a.pixels is not buffer and snap.layers[0].pixels[0, 0, 0] == 100  # the snapshot lives: copied
    import gc

    from editor.core.snapshot import render_layers_later, selection_later

    del snap
    gc.collect()  # a whole frozen Document is freed by the collector (its signals form cycles)
    buffer, selection = a.pixels, doc.selection
    image, mask = render_layers_later(doc, doc.layers), selection_later(doc)  # what a job takes
    assert not buffer.flags.writeable and not selection.flags.writeable
    image.render(), mask.render()
    del image, mask  # the worker has rendered what it needed and dropped them
    doc.paste(a, "pixels", Rect(4, 4, 2, 2), np.zeros((2, 2, 4), np.uint8), "paint")
    doc.select_rect(Rect(1, 1, 5, 5), "add")
    assert a.pixels is buffer and a.pixels[4, 4, 0] == 0  # no copy: nothing else reads the buffer
    assert doc.selection is selection and doc.selection[2, 2] == 1
    shared = np.full((48, 64, 4), 7, np.uint8)
    shared.flags.writeable = False  # read-only for another reason (an .ora member two layers share)
    other = PixelLayer("shared", shared, shared=True)
    assert other.own_pixels() is not shared and not shared.flags.writeable
