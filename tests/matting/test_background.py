"""Replace background: composite a cut-out over a colour, an image, or the blurred original."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.errors import LucidError
from editor.infer.matting.background import blurred, parse_color, replace_background


def _cutout() -> np.ndarray:
    rgba = np.zeros((6, 8, 4), np.float32)
    rgba[..., 0] = 1.0
    rgba[..., 3] = np.linspace(0, 1, 8, dtype=np.float32)[None, :]
    return rgba


def test_over_colour_blends_by_alpha() -> None:
    out = replace_background(_cutout(), (0.0, 0.0, 1.0))
    a = np.linspace(0, 1, 8, dtype=np.float32)
    np.testing.assert_allclose(out[0, :, 0], a, atol=1e-6)
    np.testing.assert_allclose(out[0, :, 2], 1 - a, atol=1e-6)
    assert out.shape == (6, 8, 3)


def test_over_image_and_blur() -> None:
    rng = np.random.default_rng(0)
    bg = rng.random((6, 8, 3)).astype(np.float32)
    out = replace_background(_cutout(), bg)
    np.testing.assert_allclose(out[:, 0], bg[:, 0])  # alpha 0: the new background exactly
    np.testing.assert_allclose(out[:, -1], np.broadcast_to([1.0, 0, 0], (6, 3)))  # alpha 1: the subject
    soft = replace_background(_cutout(), "blur", original=bg, blur_sigma=2.0)
    np.testing.assert_allclose(soft[:, 0], blurred(bg, 2.0)[:, 0], atol=1e-6)
    assert blurred(bg, 2.0).std() < bg.std()


def test_errors() -> None:
    with pytest.raises(LucidError, match="match"):
        replace_background(_cutout(), np.zeros((5, 8, 3), np.float32))
    with pytest.raises(LucidError, match="original"):
        replace_background(_cutout(), "blur")
    with pytest.raises(LucidError, match="RGBA"):
        replace_background(np.zeros((6, 8, 3), np.float32), (0, 0, 0))


def test_parse_color() -> None:
    assert parse_color("#ff0080") == pytest.approx((1.0, 0.0, 128 / 255))
    assert parse_color("#fff") == (1.0, 1.0, 1.0)
    assert parse_color("0, 255, 0") == (0.0, 1.0, 0.0)
    assert parse_color("White") == (1.0, 1.0, 1.0)
    for bad in ("#12345", "300,0,0", "mauve-ish", "1,2"):
        with pytest.raises(LucidError, match="not a colour"):
            parse_color(bad)
