"""Groups follow OpenRaster: pass-through groups with opacity < 1 or a non-normal op render isolated.

Checked against tests/core/ora_reference.py, a per-pixel renderer written from the spec's rules."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.blend import BlendMode
from editor.core.compositor import composite, renders_isolated
from editor.core.document import Document
from editor.core.layers import GroupLayer, PixelLayer
from tests.core.ora_reference import render


def _px(rng, h, w, opaque=False):
    px = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    if opaque:
        px[..., 3] = 255
    return px


def _doc(seed: int, group_opacity: float, group_mode: BlendMode, isolated: bool) -> Document:
    rng = np.random.default_rng(seed)
    doc = Document(12, 9)
    doc.layers.append(PixelLayer("bg", _px(rng, 9, 12, opaque=True)))
    doc.layers.append(PixelLayer("half", _px(rng, 6, 7), offset=(3, 2), opacity=0.8))
    inner = [PixelLayer("dodge", _px(rng, 9, 12), blend_mode=BlendMode.COLOR_DODGE),
             PixelLayer("mul", _px(rng, 5, 6), offset=(-2, 4), blend_mode=BlendMode.MULTIPLY,
                        mask=rng.random((5, 6), dtype=np.float32)),
             GroupLayer("nested pass", [PixelLayer("hue", _px(rng, 9, 12), blend_mode=BlendMode.HUE)],
                        isolated=False, opacity=0.7)]
    doc.layers.append(GroupLayer("g", inner, isolated=isolated, opacity=group_opacity, blend_mode=group_mode))
    return doc


CASES = [(1.0, BlendMode.NORMAL, False), (0.6, BlendMode.NORMAL, False), (1.0, BlendMode.SCREEN, False),
         (0.6, BlendMode.OVERLAY, False), (0.6, BlendMode.NORMAL, True), (1.0, BlendMode.DIFFERENCE, True)]


@pytest.mark.parametrize(("opacity", "mode", "isolated"), CASES)
def test_groups_match_the_spec_reference(opacity, mode, isolated):
    doc = _doc(3, opacity, mode, isolated)
    expected = np.array(render(doc), np.float64)
    got = composite(doc).astype(np.float64)
    prem = lambda a: np.concatenate([a[..., :3] * a[..., 3:], a[..., 3:]], axis=-1)  # noqa: E731
    np.testing.assert_allclose(prem(got), prem(expected), atol=2e-5)


def test_pass_through_at_opacity_differs_from_mixing_with_the_backdrop():
    """The old rule (composite pass-through, then mix with the backdrop by opacity) is not the spec's."""
    doc = _doc(4, 0.6, BlendMode.NORMAL, False)
    spec = np.array(render(doc), np.float64)
    group = doc.layers[-1]
    group.opacity = 1.0
    full = composite(doc).astype(np.float64)
    group.visible = False
    below = composite(doc).astype(np.float64)
    old = below + 0.6 * (full - below)  # opaque backdrop: straight = premultiplied
    assert np.abs(old - spec).max() > 0.1


def test_renders_isolated_rule():
    assert renders_isolated(GroupLayer("a", isolated=True))
    assert not renders_isolated(GroupLayer("b", isolated=False))
    assert renders_isolated(GroupLayer("c", isolated=False, opacity=0.99))
    assert renders_isolated(GroupLayer("d", isolated=False, blend_mode=BlendMode.MULTIPLY))
