"""W3C Compositing and Blending Level 1 blend functions B(Cb, Cs) on straight-alpha float32 colour.

Arrays are channel-first: shape (3, …) with R, G, B in axis 0, so that the per-pixel scalars of the
non-separable modes (Lum, Sat) broadcast against whole contiguous colour planes. Separable modes are
elementwise and accept any shape. Each function returns a new array and leaves its inputs alone.
Reference: https://www.w3.org/TR/compositing-1/#blending
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from editor.core.blend import BlendMode

BlendFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

_F = np.float32


# --- separable -------------------------------------------------------------------------------------------

def multiply(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return cb * cs


def screen(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    out = cb + cs
    out -= cb * cs
    return out


def hard_light(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    # Cs <= 0.5: Multiply(Cb, 2·Cs); else Screen(Cb, 2·Cs − 1)
    cs2 = cs + cs
    low = cb * cs2
    cs2 -= _F(1.0)
    high = screen(cb, cs2)
    return np.where(cs <= _F(0.5), low, high)


def overlay(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return hard_light(cs, cb)


def darken(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.minimum(cb, cs)


def lighten(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.maximum(cb, cs)


def color_dodge(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    # Cb == 0: 0; Cs == 1: 1; else min(1, Cb / (1 − Cs))
    denom = _F(1.0) - cs
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.minimum(_F(1.0), cb / denom)
    out = np.where(cs >= _F(1.0), _F(1.0), out)
    return np.where(cb <= _F(0.0), _F(0.0), out).astype(np.float32, copy=False)


def color_burn(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    # Cb == 1: 1; Cs == 0: 0; else 1 − min(1, (1 − Cb) / Cs)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _F(1.0) - np.minimum(_F(1.0), (_F(1.0) - cb) / cs)
    out = np.where(cs <= _F(0.0), _F(0.0), out)
    return np.where(cb >= _F(1.0), _F(1.0), out).astype(np.float32, copy=False)


def soft_light(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    # Cs <= 0.5: Cb − (1 − 2·Cs)·Cb·(1 − Cb); else Cb + (2·Cs − 1)·(D(Cb) − Cb)
    # D(Cb) = ((16·Cb − 12)·Cb + 4)·Cb if Cb <= 0.25 else sqrt(Cb)
    d = np.where(cb <= _F(0.25), ((_F(16.0) * cb - _F(12.0)) * cb + _F(4.0)) * cb, np.sqrt(cb))
    k = _F(2.0) * cs - _F(1.0)  # (2Cs − 1); the low branch is Cb + k·Cb·(1 − Cb)
    low = cb + k * cb * (_F(1.0) - cb)
    high = cb + k * (d - cb)
    return np.where(cs <= _F(0.5), low, high)


def difference(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.abs(cb - cs)


def exclusion(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    out = cb + cs
    out -= _F(2.0) * cb * cs
    return out


# --- non-separable (channel axis 0) -----------------------------------------------------------------------

def lum(c: np.ndarray) -> np.ndarray:
    """Lum(C) = 0.3·R + 0.59·G + 0.11·B."""
    return _F(0.3) * c[0] + _F(0.59) * c[1] + _F(0.11) * c[2]


def clip_color(c: np.ndarray) -> np.ndarray:
    """ClipColor: pull out-of-gamut colours back towards their luminosity, keeping it."""
    lu = lum(c)
    n = c.min(axis=0)
    x = c.max(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = lu + (c - lu) * lu / (lu - n)
        out = np.where(n < 0, low, c)
        high = lu + (out - lu) * (_F(1.0) - lu) / (x - lu)
        out = np.where(x > 1, high, out)
    return out.astype(np.float32, copy=False)


def set_lum(c: np.ndarray, lu: np.ndarray) -> np.ndarray:
    d = lu - lum(c)
    return clip_color(c + d)


def sat(c: np.ndarray) -> np.ndarray:
    return c.max(axis=0) - c.min(axis=0)


def set_sat(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """SetSat: Cmax → s, Cmid → (Cmid − Cmin)·s/(Cmax − Cmin), Cmin → 0; all 0 when Cmax == Cmin.

    One expression covers max, mid and min: (C − Cmin)·s / (Cmax − Cmin).
    """
    lo = c.min(axis=0)
    rng = c.max(axis=0) - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (c - lo) * (s / rng)
    return np.where(rng > 0, out, _F(0.0)).astype(np.float32, copy=False)


def hue(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return set_lum(set_sat(cs, sat(cb)), lum(cb))


def saturation(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return set_lum(set_sat(cb, sat(cs)), lum(cb))


def color(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return set_lum(cs, lum(cb))


def luminosity(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return set_lum(cb, lum(cs))


def normal(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return cs.copy()


BLEND_FUNCTIONS: dict[BlendMode, BlendFn] = {
    BlendMode.NORMAL: normal,
    BlendMode.MULTIPLY: multiply,
    BlendMode.SCREEN: screen,
    BlendMode.OVERLAY: overlay,
    BlendMode.DARKEN: darken,
    BlendMode.LIGHTEN: lighten,
    BlendMode.COLOR_DODGE: color_dodge,
    BlendMode.COLOR_BURN: color_burn,
    BlendMode.HARD_LIGHT: hard_light,
    BlendMode.SOFT_LIGHT: soft_light,
    BlendMode.DIFFERENCE: difference,
    BlendMode.EXCLUSION: exclusion,
    BlendMode.HUE: hue,
    BlendMode.SATURATION: saturation,
    BlendMode.COLOR: color,
    BlendMode.LUMINOSITY: luminosity,
}
"""B(Cb, Cs) for every blend mode (svg:plus is a compositing operator, handled by the compositor)."""
