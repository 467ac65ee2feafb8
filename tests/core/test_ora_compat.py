"""Non-OpenRaster blend modes are found, and baking them keeps the picture while making it portable."""

from __future__ import annotations

import numpy as np

from editor.core.blend import BlendMode
from editor.core.compositor import composite
from editor.core.document import Document
from editor.core.layers import GroupLayer, PixelLayer
from editor.core.ora_compat import ORA_OPS, bake_non_ora_layers, non_ora_layers


def _doc() -> Document:
    rng = np.random.default_rng(7)
    doc = Document(30, 20)
    bg = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    bg[..., 3] = 255
    doc.layers.append(PixelLayer("bg", bg))
    doc.layers.append(PixelLayer("ex", rng.integers(0, 256, (10, 12, 4), dtype=np.uint8), offset=(4, 3),
                                 blend_mode=BlendMode.EXCLUSION, opacity=0.8,
                                 mask=rng.random((10, 12), dtype=np.float32)))
    inner = PixelLayer("ex in pass", rng.integers(0, 256, (8, 8, 4), dtype=np.uint8), offset=(18, 9),
                       blend_mode=BlendMode.EXCLUSION)
    doc.layers.append(GroupLayer("pass", [PixelLayer("m", rng.integers(0, 256, (20, 30, 4), np.uint8),
                                                     blend_mode=BlendMode.MULTIPLY), inner], isolated=False))
    doc.layers.append(PixelLayer("hidden ex", bg.copy(), blend_mode=BlendMode.EXCLUSION, visible=False))
    doc.layers.append(PixelLayer("top", rng.integers(0, 256, (5, 5, 4), np.uint8), offset=(6, 6)))
    return doc


def test_only_exclusion_is_outside_openraster():
    assert {m.value for m in BlendMode} - ORA_OPS == {"svg:exclusion"}


def test_visible_exclusion_layers_are_found():
    doc = _doc()
    assert [layer.name for layer in non_ora_layers(doc)] == ["ex", "ex in pass"]


def test_baking_keeps_the_picture_and_leaves_only_openraster_modes():
    doc = _doc()
    before = composite(doc)
    baked = bake_non_ora_layers(doc)
    assert [b.name for b in baked] == ["ex (baked)", "ex in pass (baked)"]
    assert non_ora_layers(doc) == []
    assert all(b.blend_mode == BlendMode.NORMAL for b in baked)
    np.testing.assert_allclose(composite(doc), before, atol=1.5 / 255)
    # as other programs would show it unbaked (exclusion read as normal) it is far off: the bake matters
    doc.history.undo()
    for layer in non_ora_layers(doc):
        layer.blend_mode = BlendMode.NORMAL
    assert np.abs(composite(doc) - before).max() > 0.2


def test_baking_is_one_undo_step():
    doc = _doc()
    names = [layer.name for layer in doc.all_layers()]
    bake_non_ora_layers(doc)
    doc.history.undo()
    assert [layer.name for layer in doc.all_layers()] == names
