"""Adjustment maths: pure numpy functions on planar straight-alpha float32 RGB, shape (3, …), in [0, 1].

Planar like `core.blending`, so the compositor hands its working planes over without reshuffling.
Per-channel tone operations (exposure, contrast, levels, curves, white balance) are tabulated once as
65,536-entry lookup tables: a 16-bit value k/65535 indexes entry k exactly, so 16-bit photos are
evaluated at their own levels (no banding) and a full-resolution pass costs one gather per channel.
Cross-channel operations (highlights/shadows, hue/saturation/vibrance, black & white) work on the planes.
"""

from __future__ import annotations

import numpy as np

_F = np.float32
LUT_SIZE = 65536
GRID = np.arange(LUT_SIZE, dtype=np.float64) / (LUT_SIZE - 1)
LUMA = (0.2126, 0.7152, 0.0722)  # Rec. 709 / sRGB luma weights
NEUTRAL_KELVIN = 6500.0

# linear sRGB ← CIE XYZ (D65), IEC 61966-2-1
_XYZ_TO_RGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                        [-0.9692660, 1.8760108, 0.0415560],
                        [0.0556434, -0.2040259, 1.0572252]])


# --- transfer functions ------------------------------------------------------------------------------------

def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """The sRGB decoding function (IEC 61966-2-1), elementwise, in float64 for table building."""
    x = np.asarray(x, np.float64)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(np.asarray(x, np.float64), 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055)


# --- tone curves: functions of one channel value, tabulated ------------------------------------------------

def exposure_curve(ev: float) -> np.ndarray:
    """Exposure in linear light: decode, multiply by 2^EV, clip at white, encode."""
    return linear_to_srgb(srgb_to_linear(GRID) * 2.0 ** float(ev))


def contrast_curve(amount: float) -> np.ndarray:
    """A symmetric S-curve about mid-grey that keeps black and white fixed; amount in [−100, 100]."""
    a = 2.0 ** (float(amount) / 60.0)
    num = GRID ** a
    return num / (num + (1.0 - GRID) ** a)


def levels_curve(black: float, grey: float, white: float) -> np.ndarray:
    """Photoshop-style input levels: black and white points in [0, 1], grey as a gamma (1 = neutral)."""
    span = max(float(white) - float(black), 1e-6)
    t = np.clip((GRID - float(black)) / span, 0.0, 1.0)
    return t ** (1.0 / max(float(grey), 1e-3))


def curve_points(points) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, de-duplicated (x, y) control points clipped to [0, 1]; at least two are needed."""
    pts = np.clip(np.asarray(points, np.float64).reshape(-1, 2), 0.0, 1.0)
    xs, idx = np.unique(pts[:, 0], return_index=True)
    if len(xs) < 2:
        raise ValueError("a curve needs at least two points with different x")
    return xs, pts[idx, 1]


def spline_curve(points) -> np.ndarray:
    """A monotone cubic (PCHIP) through the points, flat beyond the first and last point."""
    from scipy.interpolate import PchipInterpolator  # imported here: 0.3 s every command that saves pays

    xs, ys = curve_points(points)
    return PchipInterpolator(xs, ys)(np.clip(GRID, xs[0], xs[-1]))


def kelvin_to_xy(kelvin: float) -> tuple[float, float]:
    """Chromaticity of the Planckian locus (Kim et al. 2002 cubic approximation, 1667–25000 K)."""
    t = float(np.clip(kelvin, 1667.0, 25000.0))
    if t <= 4000:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return x, y


def _white_rgb(kelvin: float) -> np.ndarray:
    x, y = kelvin_to_xy(kelvin)
    return _XYZ_TO_RGB @ np.array([x / y, 1.0, (1.0 - x - y) / y])


def white_balance_gains(temperature: float, tint: float) -> np.ndarray:
    """Linear-light channel gains that make light of `temperature` kelvin neutral (6500 K: none), then
    shift green↔magenta by `tint` (−100…100, + is magenta); grey keeps its luminance."""
    gains = _white_rgb(NEUTRAL_KELVIN) / _white_rgb(temperature)
    gains[1] *= 2.0 ** (-float(tint) / 200.0)
    return gains / float(np.dot(LUMA, gains))


def white_balance_curves(temperature: float, tint: float) -> np.ndarray:
    gains = white_balance_gains(temperature, tint)
    lin = srgb_to_linear(GRID)
    return np.stack([linear_to_srgb(lin * g) for g in gains])


def white_balance_from_grey(rgb: tuple[float, float, float]) -> tuple[float, float]:
    """(temperature, tint) that turn the sampled sRGB colour `rgb` (values in [0, 1]) neutral grey."""
    from scipy.optimize import least_squares

    lin = srgb_to_linear(np.clip(np.asarray(rgb, np.float64), 1e-4, 1.0))

    def residual(p: np.ndarray) -> np.ndarray:
        out = white_balance_gains(p[0] * 1000.0, p[1]) * lin
        return np.log(out / out.mean())

    fit = least_squares(residual, x0=[6.5, 0.0], bounds=([2.0, -100.0], [12.0, 100.0]))
    return round(float(fit.x[0]) * 1000.0, 1), round(float(fit.x[1]), 2)


# --- applying tables ---------------------------------------------------------------------------------------

def to_lut(curve: np.ndarray) -> np.ndarray:
    return np.clip(curve, 0.0, 1.0).astype(_F)


def apply_luts(rgb: np.ndarray, luts: np.ndarray) -> np.ndarray:
    """Look each channel up in its table: `luts` is (65536,) for all channels or (3, 65536)."""
    idx = rgb * _F(LUT_SIZE - 1)
    idx += _F(0.5)  # truncation below rounds to nearest; clipping keeps the index inside the table
    np.clip(idx, _F(0.0), _F(LUT_SIZE - 0.5), out=idx)
    index = idx.astype(np.uint16)
    out = np.empty(rgb.shape, _F)
    for c in range(3):
        np.take(luts if luts.ndim == 1 else luts[c], index[c], out=out[c], mode="clip")  # clip: no checks
    return out


# --- cross-channel operations ------------------------------------------------------------------------------

def luma(rgb: np.ndarray) -> np.ndarray:
    return _F(LUMA[0]) * rgb[0] + _F(LUMA[1]) * rgb[1] + _F(LUMA[2]) * rgb[2]


def highlights_shadows(rgb: np.ndarray, highlights: float, shadows: float) -> np.ndarray:
    """Lift (+) or deepen (−) the shadows and brighten (+) or recover (−) the highlights, amounts in
    [−100, 100]. A per-pixel luminance shift weighted towards dark or bright tones keeps black and white
    fixed and stays monotone, so it works tile by tile without seams."""
    y = np.clip(luma(rgb), _F(0.0), _F(1.0))
    inv = _F(1.0) - y
    shift = _F(float(shadows) / 100.0 * 2.0) * y * inv * inv * inv
    shift += _F(float(highlights) / 100.0 * 2.0) * y * y * y * inv
    return np.clip(rgb + shift, _F(0.0), _F(1.0))


def hue_rotation_matrix(degrees: float) -> np.ndarray:
    """W3C Filter Effects `hueRotate` matrix (rotation about the grey axis, luminance-preserving)."""
    a = np.deg2rad(float(degrees))
    c, s = np.cos(a), np.sin(a)
    return np.array([
        [0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928],
        [0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.140, 0.072 - c * 0.072 - s * 0.283],
        [0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072],
    ])


def mix_channels(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    m = np.asarray(matrix, _F)
    out = np.empty(rgb.shape, _F)
    for r in range(3):
        np.multiply(rgb[0], m[r, 0], out=out[r])
        out[r] += m[r, 1] * rgb[1]
        out[r] += m[r, 2] * rgb[2]
    return np.clip(out, _F(0.0), _F(1.0), out=out)


def hue_saturation(rgb: np.ndarray, hue: float, saturation: float, vibrance: float) -> np.ndarray:
    """Hue rotation in degrees, then saturation and vibrance in [−100, 100] about each pixel's luma.
    Vibrance acts most on weakly saturated colours, so skin and skies do not go garish."""
    out = mix_channels(rgb, hue_rotation_matrix(hue)) if hue else rgb.astype(_F, copy=True)
    y = luma(out)
    factor = np.full(y.shape, _F(1.0 + float(saturation) / 100.0), _F)
    if vibrance:
        chroma = out.max(axis=0) - out.min(axis=0)
        factor *= _F(1.0) + _F(float(vibrance) / 100.0) * (_F(1.0) - np.clip(chroma, 0.0, 1.0))
    out -= y
    out *= factor
    out += y
    return np.clip(out, _F(0.0), _F(1.0), out=out)


def black_white(rgb: np.ndarray, red: float, green: float, blue: float) -> np.ndarray:
    """Grey from a channel mix in percent (30/59/11 is the classic luminance mix)."""
    grey = np.clip((_F(red) * rgb[0] + _F(green) * rgb[1] + _F(blue) * rgb[2]) * _F(0.01), _F(0.0), _F(1.0))
    return np.broadcast_to(grey, rgb.shape).astype(_F)
