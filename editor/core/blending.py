"""W3C Compositing and Blending Level 1 blend functions B(Cb, Cs) on straight-alpha float32 colour.

Arrays are channel-first: shape (3, …) with R, G, B in axis 0, so that the per-pixel scalars of the
non-separable modes (Lum, Sat) broadcast against whole contiguous colour planes. Separable modes are
elementwise and accept any shape. The blend functions return a new array and leave their inputs alone.
Reference: https://www.w3.org/TR/compositing-1/#blending
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from editor.core.blend import BlendMode

BlendFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

_F = np.float32
_TINY = np.float32(1e-30)  # divisor floor: x / tiny is huge but finite, and 0 / tiny is 0


# --- separable -------------------------------------------------------------------------------------------

def multiply(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return cb * cs


def screen(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    out = cb + cs
    out -= cb * cs
    return out


def hard_light(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    # Spec: Cs <= 0.5: Multiply(Cb, 2·Cs); else Screen(Cb, 2·Cs − 1). With t = 2·Cs − 1 both branches are
    # Cb + max(t, 0) − Cb·|t|, which avoids np.where (slow on large arrays).
    t = cs * _F(2.0)
    t -= _F(1.0)
    out = np.maximum(t, _F(0.0))
    out += cb
    np.abs(t, out=t)
    t *= cb
    out -= t
    return out


def overlay(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return hard_light(cs, cb)


def darken(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.minimum(cb, cs)


def lighten(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.maximum(cb, cs)


def color_dodge(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    # Spec: Cb == 0: 0; Cs == 1: 1; else min(1, Cb / (1 − Cs)). Dividing by max(1 − Cs, tiny) gives all
    # three cases: 0 / tiny = 0, Cb / tiny ≫ 1 → 1.
    denom = _F(1.0) - cs
    np.maximum(denom, _TINY, out=denom)
    out = cb / denom
    return np.minimum(out, _F(1.0), out=out)


def color_burn(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    # Spec: Cb == 1: 1; Cs == 0: 0; else 1 − min(1, (1 − Cb) / Cs); the same division trick as dodge.
    out = _F(1.0) - cb
    out /= np.maximum(cs, _TINY)
    np.minimum(out, _F(1.0), out=out)
    return np.subtract(_F(1.0), out, out=out)


def soft_light(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    # Spec: Cs <= 0.5: Cb − (1 − 2·Cs)·Cb·(1 − Cb); else Cb + (2·Cs − 1)·(D(Cb) − Cb),
    # D(Cb) = ((16·Cb − 12)·Cb + 4)·Cb if Cb <= 0.25 else sqrt(Cb).
    # With k = 2·Cs − 1: Cb + min(k, 0)·Cb·(1 − Cb) + max(k, 0)·(D(Cb) − Cb).
    k = cs * _F(2.0)
    k -= _F(1.0)
    low = _F(1.0) - cb
    low *= cb
    low *= np.minimum(k, _F(0.0))
    d = _d_minus_cb(cb)
    d *= np.maximum(k, _F(0.0), out=k)
    d += low
    d += cb
    return d


def _d_minus_cb(cb: np.ndarray) -> np.ndarray:
    """D(Cb) − Cb for soft-light, choosing the polynomial or the square root per element."""
    small = cb <= _F(0.25)
    poly = None
    if small.any():
        poly = cb * _F(16.0)
        poly -= _F(12.0)
        poly *= cb
        poly += _F(3.0)
        poly *= cb  # ((16·Cb − 12)·Cb + 4)·Cb − Cb
        if small.all():
            return poly
    root = np.sqrt(cb)
    root -= cb
    if poly is None:
        return root
    poly -= root
    poly *= small
    root += poly
    return root


def difference(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    out = cb - cs
    return np.abs(out, out=out)


def exclusion(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    out = cb + cs
    out -= _F(2.0) * cb * cs
    return out


# --- non-separable (channel axis 0) -----------------------------------------------------------------------

def lum(c: np.ndarray) -> np.ndarray:
    """Lum(C) = 0.3·R + 0.59·G + 0.11·B."""
    out = c[0] * _F(0.3)
    out += _F(0.59) * c[1]
    out += _F(0.11) * c[2]
    return out


def _cmin(c: np.ndarray) -> np.ndarray:
    return np.minimum(np.minimum(c[0], c[1]), c[2])


def _cmax(c: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(c[0], c[1]), c[2])


def clip_color(c: np.ndarray) -> np.ndarray:
    """ClipColor: pull out-of-gamut colours back towards their luminosity, keeping it.

    Both spec steps scale C − L about L, so they fold into one per-pixel factor s:
    n < 0: s = L / (L − n); then, with x' = L + (x − L)·s, x' > 1: s ·= (1 − L) / (x' − L).
    """
    n, x = _cmin(c), _cmax(c)
    under, over = n < _F(0.0), x > _F(1.0)
    if not (under.any() or over.any()):
        return c
    lu = lum(c)
    s = np.ones_like(lu)
    if under.any():
        low = lu / np.maximum(lu - n, _TINY)
        low -= _F(1.0)
        low *= under
        s += low  # L / (L − n) where n < 0, else 1
        x = lu + (x - lu) * s
        over = x > _F(1.0)
    if over.any():
        high = (_F(1.0) - lu) / np.maximum(x - lu, _TINY)
        high -= _F(1.0)
        high *= over
        high += _F(1.0)
        s *= high
    out = c - lu
    out *= s
    out += lu
    return out


def set_lum(c: np.ndarray, lu: np.ndarray) -> np.ndarray:
    d = lu - lum(c)
    return clip_color(c + d)


def sat(c: np.ndarray) -> np.ndarray:
    return _cmax(c) - _cmin(c)


def set_sat(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """SetSat: Cmax → s, Cmid → (Cmid − Cmin)·s/(Cmax − Cmin), Cmin → 0; all 0 when Cmax == Cmin.

    One expression covers max, mid and min: (C − Cmin)·s / (Cmax − Cmin); for grey pixels C − Cmin is 0,
    so dividing by max(range, tiny) gives the spec's 0 without a branch.
    """
    lo = _cmin(c)
    factor = s / np.maximum(_cmax(c) - lo, _TINY)
    out = c - lo
    out *= factor
    return out


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
