"""Boundary conversions: exact round trips for 8 and 16 bits, channel layouts, premultiplication."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.pixels import from_float, premultiply, to_float, to_rgba, unpremultiply


def test_uint16_round_trip_is_exact_for_every_value():
    values = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    f = to_float(values)
    assert f.dtype == np.float32
    assert f.min() == 0.0 and f.max() == 1.0
    back = from_float(f, np.uint16)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, values)


def test_uint8_round_trip_is_exact_for_every_value():
    values = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(from_float(to_float(values), np.uint8), values)


def test_from_float_rounds_and_clips():
    got = from_float(np.array([-0.5, 0.0, 0.5 / 255 + 1e-4, 0.4 / 255, 1.0, 3.0], np.float32), np.uint8)
    np.testing.assert_array_equal(got, [0, 0, 1, 0, 255, 255])


def test_to_rgba_layouts_keep_dtype():
    gray = np.array([[10, 20]], np.uint16)
    rgba = to_rgba(gray)
    assert rgba.dtype == np.uint16 and rgba.shape == (1, 2, 4)
    np.testing.assert_array_equal(rgba[0, 1], [20, 20, 20, 65535])
    ga = np.array([[[7, 100]]], np.uint8)
    np.testing.assert_array_equal(to_rgba(ga)[0, 0], [7, 7, 7, 100])
    rgb = np.array([[[1, 2, 3]]], np.uint8)
    np.testing.assert_array_equal(to_rgba(rgb)[0, 0], [1, 2, 3, 255])
    f = np.array([[[0.1, 0.2, 0.3]]], np.float32)
    np.testing.assert_allclose(to_rgba(f)[0, 0], [0.1, 0.2, 0.3, 1.0])
    with pytest.raises(ValueError):
        to_rgba(np.zeros((2, 2, 5), np.uint8))


def test_premultiply_and_back():
    rgba = np.array([[[0.8, 0.4, 0.2, 0.5], [0.3, 0.6, 0.9, 0.0]]], np.float32)
    pm = premultiply(rgba)
    np.testing.assert_allclose(pm[0, 0], [0.4, 0.2, 0.1, 0.5])
    np.testing.assert_allclose(pm[0, 1], [0, 0, 0, 0])
    back = unpremultiply(pm)
    np.testing.assert_allclose(back[0, 0], rgba[0, 0], rtol=1e-6)
    np.testing.assert_array_equal(back[0, 1], [0, 0, 0, 0])  # colour under zero alpha is undefined → 0
