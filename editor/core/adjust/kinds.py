"""The adjustment kinds: defaults (which are also the neutral values), validation and the function each
parameter set stands for. Parameters are plain JSON-able dicts, so layers, `.ora` files and `lucid edit
--preset` files share one format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from editor.core.adjust import ops
from editor.core.errors import LucidError

AdjustFn = Callable[[np.ndarray], np.ndarray]  # planar straight float32 RGB (3, …) → same shape
CHANNELS = ("master", "r", "g", "b")
IDENTITY_CURVE = [[0.0, 0.0], [1.0, 1.0]]


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    defaults: dict[str, Any]
    ranges: dict[str, tuple[float, float]]  # scalar parameters and their limits


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("exposure", "Exposure", {"ev": 0.0}, {"ev": (-5.0, 5.0)}),
    Kind("contrast", "Contrast", {"amount": 0.0}, {"amount": (-100.0, 100.0)}),
    Kind("highlights_shadows", "Highlights / Shadows", {"highlights": 0.0, "shadows": 0.0},
         {"highlights": (-100.0, 100.0), "shadows": (-100.0, 100.0)}),
    Kind("levels", "Levels", {c: [0.0, 1.0, 1.0] for c in CHANNELS}, {}),
    Kind("curves", "Curves", {c: IDENTITY_CURVE for c in CHANNELS}, {}),
    Kind("white_balance", "White Balance", {"temperature": ops.NEUTRAL_KELVIN, "tint": 0.0},
         {"temperature": (2000.0, 12000.0), "tint": (-100.0, 100.0)}),
    Kind("hue_saturation", "Hue / Saturation", {"hue": 0.0, "saturation": 0.0, "vibrance": 0.0},
         {"hue": (-180.0, 180.0), "saturation": (-100.0, 100.0), "vibrance": (-100.0, 100.0)}),
    Kind("black_white", "Black & White", {"red": 30.0, "green": 59.0, "blue": 11.0},
         {"red": (-200.0, 300.0), "green": (-200.0, 300.0), "blue": (-200.0, 300.0)}),
)}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise LucidError(f"Unknown adjustment “{name}” (one of {', '.join(KINDS)}).") from None


def normalise(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults filled in, values checked and clamped; unknown keys are an error (a typo in a preset must
    not pass silently)."""
    k = kind(name)
    params = dict(params or {})
    unknown = set(params) - set(k.defaults)
    if unknown:
        raise LucidError(f"{k.label}: unknown setting(s) {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(k.defaults)}).")
    out: dict[str, Any] = {}
    for key, default in k.defaults.items():
        value = params.get(key, default)
        try:
            if name == "levels":
                out[key] = _levels(value)
            elif name == "curves":
                out[key] = _curve(value)
            else:
                lo, hi = k.ranges[key]
                out[key] = float(min(hi, max(lo, float(value))))
        except (TypeError, ValueError) as exc:
            raise LucidError(f"{k.label}: invalid {key} {value!r} ({exc}).") from None
    return out


def _levels(value: Any) -> list[float]:
    black, grey, white = (float(v) for v in value)
    if not (0.0 <= black <= 1.0 and 0.0 <= white <= 1.0):
        raise ValueError("black and white points are fractions 0…1, e.g. 0.02,1.1,0.97")
    if white <= black:
        raise ValueError("the white point must be above the black point")
    return [black, float(min(max(grey, 0.1), 9.99)), white]


def _curve(value: Any) -> list[list[float]]:
    xs, ys = ops.curve_points(value)
    return [[float(x), float(y)] for x, y in zip(xs, ys, strict=True)]


def is_neutral(name: str, params: dict[str, Any]) -> bool:
    """True when the adjustment changes nothing (black & white always changes colour)."""
    if name == "black_white":
        return False
    if name == "curves":
        return all(all(abs(x - y) < 1e-12 for x, y in params[c]) for c in CHANNELS)
    return params == kind(name).defaults


def build(name: str, params: dict[str, Any]) -> AdjustFn | None:
    """The function these parameters stand for, or None when they are neutral (skip: bit-identical)."""
    if is_neutral(name, params):
        return None
    p = params
    if name == "highlights_shadows":
        return lambda rgb: ops.highlights_shadows(rgb, p["highlights"], p["shadows"])
    if name == "hue_saturation":
        return lambda rgb: ops.hue_saturation(rgb, p["hue"], p["saturation"], p["vibrance"])
    if name == "black_white":
        return lambda rgb: ops.black_white(rgb, p["red"], p["green"], p["blue"])
    luts = ops.to_lut(tone_curves(name, p))
    return lambda rgb: ops.apply_luts(rgb, luts)


def tone_curves(name: str, p: dict[str, Any]) -> np.ndarray:
    """(3, 65536) float64 per-channel curves of a tone adjustment."""
    if name == "exposure":
        one = ops.exposure_curve(p["ev"])
    elif name == "contrast":
        one = ops.contrast_curve(p["amount"])
    elif name == "white_balance":
        return ops.white_balance_curves(p["temperature"], p["tint"])
    elif name in ("levels", "curves"):
        make = ops.levels_curve if name == "levels" else ops.spline_curve

        def channel(c: str) -> np.ndarray:
            return make(*p[c]) if name == "levels" else make(p[c])

        master = channel("master")
        chans = []
        for c in ("r", "g", "b"):
            # per-channel first, then master (Photoshop's order for both levels and curves)
            table = channel(c)
            chans.append(np.interp(table, ops.GRID, master))
        return np.stack(chans)
    else:
        raise LucidError(f"“{name}” is not a tone adjustment.")
    return np.stack([one, one, one])
