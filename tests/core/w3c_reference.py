"""Scalar W3C Compositing and Blending Level 1 formulas, transcribed from the spec's pseudo-code
(https://www.w3.org/TR/compositing-1/) in plain Python floats, as an independent reference for tests."""

from __future__ import annotations


def _sep(fn):
    return lambda cb, cs: tuple(fn(b, s) for b, s in zip(cb, cs, strict=True))


def _multiply(b, s):
    return b * s


def _screen(b, s):
    return b + s - b * s


def _hard_light(b, s):
    return _multiply(b, 2 * s) if s <= 0.5 else _screen(b, 2 * s - 1)


def _color_dodge(b, s):
    if b == 0:
        return 0.0
    if s == 1:
        return 1.0
    return min(1.0, b / (1 - s))


def _color_burn(b, s):
    if b == 1:
        return 1.0
    if s == 0:
        return 0.0
    return 1 - min(1.0, (1 - b) / s)


def _soft_light(b, s):
    if s <= 0.5:
        return b - (1 - 2 * s) * b * (1 - b)
    d = ((16 * b - 12) * b + 4) * b if b <= 0.25 else b**0.5
    return b + (2 * s - 1) * (d - b)


def lum(c):
    return 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]


def clip_color(c):
    lu, n, x = lum(c), min(c), max(c)
    if n < 0:
        c = tuple(lu + (ch - lu) * lu / (lu - n) for ch in c)
    if x > 1:
        c = tuple(lu + (ch - lu) * (1 - lu) / (x - lu) for ch in c)
    return c


def set_lum(c, lu):
    d = lu - lum(c)
    return clip_color(tuple(ch + d for ch in c))


def sat(c):
    return max(c) - min(c)


def set_sat(c, s):
    order = sorted(range(3), key=lambda i: c[i])
    i_min, i_mid, i_max = order
    out = [0.0, 0.0, 0.0]
    if c[i_max] > c[i_min]:
        out[i_mid] = (c[i_mid] - c[i_min]) * s / (c[i_max] - c[i_min])
        out[i_max] = s
    return tuple(out)


BLEND = {
    "svg:src-over": lambda cb, cs: tuple(cs),
    "svg:multiply": _sep(_multiply),
    "svg:screen": _sep(_screen),
    "svg:overlay": _sep(lambda b, s: _hard_light(s, b)),
    "svg:darken": _sep(min),
    "svg:lighten": _sep(max),
    "svg:color-dodge": _sep(_color_dodge),
    "svg:color-burn": _sep(_color_burn),
    "svg:hard-light": _sep(_hard_light),
    "svg:soft-light": _sep(_soft_light),
    "svg:difference": _sep(lambda b, s: abs(b - s)),
    "svg:exclusion": _sep(lambda b, s: b + s - 2 * b * s),
    "svg:hue": lambda cb, cs: set_lum(set_sat(cs, sat(cb)), lum(cb)),
    "svg:saturation": lambda cb, cs: set_lum(set_sat(cb, sat(cs)), lum(cb)),
    "svg:color": lambda cb, cs: set_lum(cs, lum(cb)),
    "svg:luminosity": lambda cb, cs: set_lum(cb, lum(cs)),
}


def source_over(cb, ab, cs, as_, mode):
    """Straight-alpha result (C, α) of `cs`/`as_` blended with `mode` over `cb`/`ab`."""
    if mode == "svg:plus":
        co = [min(1.0, s * as_ + b * ab) for b, s in zip(cb, cs, strict=True)]
        ao = min(1.0, as_ + ab)
    else:
        bl = BLEND[mode](cb, cs)
        mixed = [(1 - ab) * s + ab * x for s, x in zip(cs, bl, strict=True)]
        co = [as_ * m + (1 - as_) * ab * b for m, b in zip(mixed, cb, strict=True)]
        ao = as_ + ab * (1 - as_)
    return tuple(c / ao if ao > 0 else 0.0 for c in co), ao
