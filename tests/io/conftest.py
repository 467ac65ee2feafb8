"""Small documents for io tests."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.blend import BlendMode
from editor.core.document import Document
from editor.core.layers import GroupLayer, PixelLayer, ResultLayer
from editor.core.recipe import Recipe


def make_doc(depth: int = 8, seed: int = 0) -> Document:
    """Background, a non-isolated group with a hidden locked layer, a masked result layer on top."""
    rng = np.random.default_rng(seed)
    dtype = np.uint16 if depth == 16 else np.uint8
    top = 65535 if depth == 16 else 255
    doc = Document(40, 30, depth=depth)
    bg = PixelLayer("background", rng.integers(0, top + 1, (30, 40, 4), dtype=dtype))
    inner = PixelLayer("inner <&> ünï", rng.integers(0, top + 1, (8, 9, 4), dtype=dtype), visible=False,
                       locked=True, offset=(-3, 4))
    group = GroupLayer("group", [inner], isolated=False, opacity=0.75, blend_mode=BlendMode.SCREEN)
    mask = rng.random((10, 12)).astype(np.float32)
    result = ResultLayer("inpaint", rng.integers(0, top + 1, (10, 12, 4), dtype=dtype), mask,
                         Recipe(task="inpaint", params={"radius": 3}, model_id="lama", seed=7,
                                source_layer_ids=[bg.id]),
                         offset=(5, 6), opacity=0.5, blend_mode=BlendMode.MULTIPLY)
    doc.root.children += [bg, group, result]
    doc.active_layer = result
    doc.selection[3:5, 3:9] = 0.5
    doc.modified = False
    return doc


@pytest.fixture
def doc8() -> Document:
    return make_doc(8)


@pytest.fixture
def doc16() -> Document:
    return make_doc(16, seed=1)
