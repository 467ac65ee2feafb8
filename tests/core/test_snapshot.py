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
    assert sa.pixels is a.pixels and sb.mask is b.mask and sa.id == a.id and snap.active_layer is sb
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
