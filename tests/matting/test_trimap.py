"""Trimap helpers: snapping greys, building a band from a mask, user corrections, validation."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.errors import LucidError
from editor.infer.matting.trimap import apply_user_trimap, check_trimap, snap_trimap, trimap_from_mask


def test_snap_uint8_greys_to_nearest_level() -> None:
    grey = np.array([[0, 40, 63, 64, 128, 150, 191, 192, 255]], np.uint8)
    assert snap_trimap(grey).tolist() == [[0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0]]


def test_snap_uint16_and_float_and_rgb() -> None:
    assert snap_trimap(np.array([[0, 32768, 65535]], np.uint16)).tolist() == [[0.0, 0.5, 1.0]]
    assert snap_trimap(np.array([[0.1, 0.4, 0.8]], np.float32)).tolist() == [[0.0, 0.5, 1.0]]
    rgb = np.zeros((1, 2, 3), np.uint8)
    rgb[0, 1] = 255
    assert snap_trimap(rgb).tolist() == [[0.0, 1.0]]
    assert snap_trimap(rgb).dtype == np.float32


def test_trimap_from_mask_band_straddles_the_edge() -> None:
    mask = np.zeros((40, 40), np.float32)
    mask[:, :20] = 1.0
    t = trimap_from_mask(mask, band_px=3)
    row = t[20]
    assert (row[:17] == 1.0).all()
    assert (row[17:23] == 0.5).all()
    assert (row[23:] == 0.0).all()
    assert set(np.unique(t)) == {0.0, 0.5, 1.0}


def test_trimap_from_mask_zero_band_is_hard_and_negative_is_refused() -> None:
    mask = np.zeros((8, 8), np.float32)
    mask[2:6, 2:6] = 0.9
    np.testing.assert_array_equal(trimap_from_mask(mask, 0), (mask >= 0.5).astype(np.float32))
    with pytest.raises(LucidError):
        trimap_from_mask(mask, -1)


def test_user_trimap_overrides_only_where_painted() -> None:
    auto = np.full((4, 4), 0.5, np.float32)
    auto[0] = 1.0
    user = np.full((4, 4), 128, np.uint8)
    user[0, 0] = 0
    user[3, 3] = 255
    out = apply_user_trimap(auto, user)
    assert out[0, 0] == 0.0 and out[3, 3] == 1.0
    assert out[0, 1] == 1.0 and out[2, 2] == 0.5
    assert apply_user_trimap(auto, None) is auto
    with pytest.raises(LucidError, match="image is"):
        apply_user_trimap(auto, np.zeros((3, 4), np.uint8))


def test_check_trimap_messages() -> None:
    with pytest.raises(LucidError, match="same size"):
        check_trimap(np.zeros((4, 5), np.float32), (5, 4, 3))
    with pytest.raises(LucidError, match="no foreground"):
        check_trimap(np.zeros((4, 4), np.float32), (4, 4, 3))
    with pytest.raises(LucidError, match="no background"):
        check_trimap(np.ones((4, 4), np.float32), (4, 4, 3))
