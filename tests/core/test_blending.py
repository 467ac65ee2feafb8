"""Blend modes and compositing against the W3C Compositing and Blending Level 1 formulas."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from w3c_reference import source_over

from editor.core import blending
from editor.core.blend import BlendMode
from editor.core.compositor import composite
from editor.core.document import Document
from editor.core.layers import GroupLayer, PixelLayer

# Sample channel values (multiples of 1/255 so uint8 layers hold them exactly), including the branch
# points of the piecewise modes: 0, ≤0.25, 0.5, 1.
LEVELS = [0, 32, 64, 100, 128, 200, 255]


def _pairs():
    rng = np.random.default_rng(7)
    combos = list(itertools.product(LEVELS, LEVELS))
    cb = np.array([[a, b, a] for a, b in combos], np.uint8)
    cs = np.array([[b, a, 255 - a] for a, b in combos], np.uint8)
    extra_b = rng.integers(0, 256, (40, 3), dtype=np.uint8)
    extra_s = rng.integers(0, 256, (40, 3), dtype=np.uint8)
    return np.vstack([cb, extra_b]), np.vstack([cs, extra_s])


def _one_row_doc(cb8, ab8, cs8, as8, mode, opacity=1.0):
    n = len(cb8)
    doc = Document(n, 1)
    bottom = np.concatenate([cb8, ab8[:, None]], axis=1)[None].astype(np.uint8)
    top = np.concatenate([cs8, as8[:, None]], axis=1)[None].astype(np.uint8)
    doc.layers.append(PixelLayer("backdrop", bottom))
    doc.layers.append(PixelLayer("source", top, blend_mode=mode, opacity=opacity))
    return doc


@pytest.mark.parametrize("mode", list(BlendMode))
@pytest.mark.parametrize("alphas", [(255, 255), (255, 140), (90, 255), (90, 170)])
def test_every_mode_matches_w3c_formula(mode, alphas):
    cb8, cs8 = _pairs()
    n = len(cb8)
    ab8 = np.full(n, alphas[0], np.uint8)
    as8 = np.full(n, alphas[1], np.uint8)
    got = composite(_one_row_doc(cb8, ab8, cs8, as8, mode))[0]
    for i in range(n):
        color, alpha = source_over(tuple(cb8[i] / 255), ab8[i] / 255, tuple(cs8[i] / 255), as8[i] / 255,
                                   mode.value)
        np.testing.assert_allclose(got[i, 3], alpha, atol=2e-6, err_msg=f"{mode} alpha at sample {i}")
        np.testing.assert_allclose(got[i, :3], color, atol=2e-5, err_msg=f"{mode} colour at sample {i}")


def test_hand_computed_values():
    """A few results worked out by hand from the spec's formulas."""
    f = np.float32
    cb, cs = np.full(3, f(0.5)), np.full(3, f(0.4))
    np.testing.assert_allclose(blending.multiply(cb, cs), 0.2, rtol=1e-6)
    np.testing.assert_allclose(blending.screen(cb, cs), 0.7, rtol=1e-6)
    np.testing.assert_allclose(blending.color_dodge(np.float32([0.3]), np.float32([0.5])), [0.6], rtol=1e-6)
    np.testing.assert_allclose(blending.color_burn(np.float32([0.8]), np.float32([0.5])), [0.6], rtol=1e-6)
    # soft-light, Cs > 0.5 and Cb ≤ 0.25: D = ((16·0.16 − 12)·0.16 + 4)·0.16 = 0.398336
    got = blending.soft_light(np.float32([0.16]), np.float32([0.75]))
    np.testing.assert_allclose(got, [0.279168], rtol=1e-5)
    # luminosity of pure blue onto pure red: SetLum((1,0,0), 0.11) = ClipColor((0.81, −0.19, −0.19))
    red = np.float32([[1.0], [0.0], [0.0]])
    blue = np.float32([[0.0], [0.0], [1.0]])
    got = blending.luminosity(red, blue)[:, 0]
    np.testing.assert_allclose(got, [0.11 + 0.7 * 0.11 / 0.3, 0, 0], atol=1e-6)
    # hue of blue onto red: SetLum(SetSat(blue, 1), 0.3) = ClipColor((0.19, 0.19, 1.19))
    got = blending.hue(red, blue)[:, 0]
    lu = 0.3
    expect = [lu + (0.19 - lu) * (1 - lu) / (1.19 - lu)] * 2 + [lu + (1.19 - lu) * (1 - lu) / (1.19 - lu)]
    np.testing.assert_allclose(got, expect, atol=1e-6)
    assert abs(float(blending.lum(got[:, None])[0]) - 0.3) < 1e-6  # hue keeps the backdrop's luminosity


def test_opacity_scales_source_alpha():
    cb8 = np.array([[200, 100, 0]], np.uint8)
    cs8 = np.array([[0, 100, 255]], np.uint8)
    doc = _one_row_doc(cb8, np.array([255]), cs8, np.array([255]), BlendMode.NORMAL, opacity=0.25)
    got = composite(doc)[0, 0]
    np.testing.assert_allclose(got[:3], 0.75 * cb8[0] / 255 + 0.25 * cs8[0] / 255, atol=1e-6)
    assert got[3] == 1.0


def _solid(h, w, rgba, dtype=np.uint8):
    out = np.empty((h, w, 4), dtype)
    out[...] = rgba
    return out


def test_mask_multiplies_layer_alpha_and_zero_mask_leaves_backdrop():
    doc = Document(4, 1)
    doc.layers.append(PixelLayer("bg", _solid(1, 4, (255, 0, 0, 255))))
    mask = np.array([[0.0, 0.25, 1.0, 0.5]], np.float32)
    doc.layers.append(PixelLayer("top", _solid(1, 4, (0, 0, 255, 255)), mask=mask, opacity=0.8))
    got = composite(doc)[0]
    np.testing.assert_array_equal(got[0], [1, 0, 0, 1])
    for i, m in enumerate(mask[0]):
        a = 0.8 * m
        np.testing.assert_allclose(got[i], [1 - a, 0, a, 1], atol=1e-6)


def test_hidden_layers_are_skipped():
    doc = Document(2, 2)
    doc.layers.append(PixelLayer("bg", _solid(2, 2, (10, 20, 30, 255))))
    doc.layers.append(PixelLayer("hidden", _solid(2, 2, (250, 250, 250, 255)), visible=False))
    expect = np.broadcast_to(np.float32([10, 20, 30]) / 255, (2, 2, 3))
    np.testing.assert_allclose(composite(doc)[..., :3], expect)


def test_offsets_and_layers_larger_or_smaller_than_canvas():
    doc = Document(6, 4)
    big = np.zeros((10, 12, 4), np.uint8)
    big[..., 3] = 255
    big[..., 0] = np.arange(12, dtype=np.uint8)[None, :] * 10  # red encodes the layer column
    doc.layers.append(PixelLayer("big", big, offset=(-3, -2)))
    small = _solid(2, 2, (0, 255, 0, 255))
    doc.layers.append(PixelLayer("small", small, offset=(5, 3)))  # only its top-left pixel is on the canvas
    got = composite(doc)
    np.testing.assert_allclose(got[0, :, 0], (np.arange(6) + 3) * 10 / 255, atol=1e-6)
    np.testing.assert_array_equal(got[3, 5], [0, 1, 0, 1])
    np.testing.assert_allclose(got[3, 4, 0], 7 * 10 / 255, atol=1e-6)


def test_rect_argument_matches_full_composite():
    rng = np.random.default_rng(1)
    doc = Document(300, 280)
    doc.layers.append(PixelLayer("a", rng.integers(0, 256, (280, 300, 4), dtype=np.uint8)))
    doc.layers.append(PixelLayer("b", rng.integers(0, 256, (100, 120, 4), dtype=np.uint8), offset=(200, 190),
                                 blend_mode=BlendMode.OVERLAY))
    from editor.core.geometry import Rect

    full = composite(doc)
    part = composite(doc, Rect(150, 170, 140, 100))
    np.testing.assert_allclose(part, full[170:270, 150:290], atol=1e-6)


def test_isolated_vs_pass_through_group():
    """Multiply inside an isolated group sees only the group's transparent backdrop (so it acts as normal);
    inside a pass-through group at full opacity it multiplies with the layers below the group; a
    pass-through group below full opacity is rendered isolated, as OpenRaster specifies."""
    results = {}
    for isolated, opacity in ((True, 0.5), (False, 1.0), (False, 0.5)):
        doc = Document(1, 1)
        doc.layers.append(PixelLayer("bg", _solid(1, 1, (200, 100, 50, 255))))
        child = PixelLayer("mul", _solid(1, 1, (128, 128, 255, 255)), blend_mode=BlendMode.MULTIPLY)
        doc.layers.append(GroupLayer("g", [child], isolated=isolated, opacity=opacity))
        results[isolated, opacity] = composite(doc)[0, 0]
    bg = np.array([200, 100, 50]) / 255
    src = np.array([128, 128, 255]) / 255
    np.testing.assert_allclose(results[True, 0.5][:3], 0.5 * bg + 0.5 * src, atol=1e-6)
    np.testing.assert_allclose(results[False, 1.0][:3], bg * src, atol=1e-6)
    np.testing.assert_allclose(results[False, 0.5][:3], results[True, 0.5][:3], atol=1e-6)


def test_isolated_group_blend_mode_applies_to_the_group_result():
    doc = Document(1, 1)
    doc.layers.append(PixelLayer("bg", _solid(1, 1, (200, 100, 50, 255))))
    inner = [PixelLayer("a", _solid(1, 1, (255, 0, 0, 255))), PixelLayer("b", _solid(1, 1, (0, 0, 255, 128)))]
    doc.layers.append(GroupLayer("g", inner, blend_mode=BlendMode.SCREEN))
    a = 128 / 255
    group = np.array([1 - a, 0, a])  # b over a, normal, inside the group
    bg = np.array([200, 100, 50]) / 255
    np.testing.assert_allclose(composite(doc)[0, 0, :3], bg + group - bg * group, atol=1e-6)


def test_sixteen_bit_layers_composite_at_full_precision():
    doc = Document(1, 1, depth=16)
    doc.layers.append(PixelLayer("bg", _solid(1, 1, (1, 2, 65534, 65535), np.uint16)))
    got = composite(doc)[0, 0]
    np.testing.assert_allclose(got[:3], np.array([1, 2, 65534]) / 65535, rtol=1e-6)
