"""Pixel conversions at the file boundary: storage dtypes (uint8/uint16) ⇄ float32 [0, 1], channel
layouts ⇄ RGBA, straight ⇄ premultiplied alpha.

Why here: every reader, writer and tool converts the same way, so a 16-bit file survives a round trip
bit for bit (k / 65535 in float32, times 65535, rounded, is k again for every uint16 k).
"""

from __future__ import annotations

import numpy as np

_MAX = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def dtype_max(dtype: np.dtype | type) -> float:
    """Value that means "full" in `dtype`: 255, 65535, or 1.0 for floats."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return 1.0
    try:
        return _MAX[dt]
    except KeyError:
        raise ValueError(f"unsupported pixel dtype {dt} (use uint8, uint16 or float)") from None


def to_float(arr: np.ndarray) -> np.ndarray:
    """uint8/uint16 → float32 in [0, 1]; float input is cast to float32 (values are kept, not clipped)."""
    arr = np.asarray(arr)
    if arr.dtype.kind == "f":
        return arr.astype(np.float32, copy=False)
    scale = np.float32(1.0 / dtype_max(arr.dtype))
    return np.multiply(arr, scale, dtype=np.float32)


def from_float(arr: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """float [0, 1] → `dtype`, clipped and rounded to nearest (float dtypes: clipped only)."""
    dt = np.dtype(dtype)
    arr = np.asarray(arr, dtype=np.float32)
    if dt.kind == "f":
        return np.clip(arr, 0.0, 1.0).astype(dt, copy=False)
    top = dtype_max(dt)
    out = np.multiply(arr, np.float32(top))
    np.clip(out, 0.0, top, out=out)
    np.rint(out, out=out)
    return out.astype(dt)


def to_rgba(arr: np.ndarray) -> np.ndarray:
    """Gray (H×W or H×W×1), gray+alpha, RGB or RGBA → H×W×4 RGBA of the same dtype (opaque where no alpha)."""
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected gray, gray+alpha, RGB or RGBA pixels, got shape {arr.shape}")
    channels = arr.shape[2]
    if channels == 4:
        return arr
    out = np.empty((*arr.shape[:2], 4), arr.dtype)
    if channels in (1, 2):
        out[..., :3] = arr[..., :1]
    else:
        out[..., :3] = arr
    if channels == 2:
        out[..., 3] = arr[..., 1]
    else:
        out[..., 3] = dtype_max(arr.dtype)
    return out


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """Straight float RGBA (…×4) → premultiplied (colour times alpha)."""
    rgba = np.asarray(rgba, dtype=np.float32)
    out = rgba.copy()
    out[..., :3] *= rgba[..., 3:4]
    return out


def unpremultiply(rgba: np.ndarray) -> np.ndarray:
    """Premultiplied float RGBA (…×4) → straight; colour is 0 where alpha is 0."""
    rgba = np.asarray(rgba, dtype=np.float32)
    out = rgba.copy()
    alpha = rgba[..., 3:4]
    np.divide(rgba[..., :3], alpha, out=out[..., :3], where=alpha > 0)
    out[..., :3] = np.where(alpha > 0, out[..., :3], 0.0)
    return out


def layer_pixels(image: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """Float (or integer) gray/RGB/RGBA → C-contiguous H×W×4 of `dtype`, as a layer stores its pixels.

    Already H×W×4 of `dtype` → returned as it is (e.g. converted on the inference worker already)."""
    arr = np.asarray(image)
    if arr.dtype == np.dtype(dtype) and arr.ndim == 3 and arr.shape[2] == 4:
        return np.ascontiguousarray(arr)
    if arr.dtype.kind != "f":
        arr = to_float(arr)
    return np.ascontiguousarray(from_float(to_rgba(arr.astype(np.float32, copy=False)), dtype))
