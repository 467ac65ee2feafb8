"""Run image-to-image models on overlapping tiles, and paste results back only where masked.

Why the tiles cannot show seams: along an edge shared with a neighbour, each tile discards the
outer quarter of the overlap (pixels that saw the tile's artificial border) and cross-fades the
middle half with a linear ramp. For a translation-equivariant model whose receptive field radius is
at most `overlap // 4`, the tiled output equals the untiled one up to float rounding. Along the
image's own border tiles keep every pixel, so they see exactly what the untiled model sees.
Tile origins are multiples of `multiple`, so models that downsample stay shift-equivariant.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, no_progress

TileFn = Callable[[np.ndarray], np.ndarray]

# Working memory per input pixel of a typical conv image model (64 fp32 feature maps, a few live at
# once) plus the output; calibrated loosely on RRDBNet, deliberately conservative.
_BYTES_PER_PIXEL = 64 * 4 * 6


def choose_tile_size(
    h: int,
    w: int,
    channels: int,
    scale: float,
    device: str,
    budget_bytes: int | None = None,
    *,
    multiple: int = 8,
    minimum: int = 64,
) -> int:
    """Largest square tile (a multiple of `multiple`) whose working memory fits the budget.

    The budget defaults to half of the device's free memory. Returns ≥ max(h, w) (rounded up to the
    multiple) when the whole image fits, meaning "no tiling needed".
    """
    if budget_bytes is None:
        from editor.infer.device import free_memory_bytes

        budget_bytes = free_memory_bytes(device) // 2
    per_px = _BYTES_PER_PIXEL + channels * 4 * (1 + scale * scale) * 2
    side = int(math.sqrt(max(budget_bytes, 0) / per_px))
    whole = _round_up(max(h, w), multiple)
    if side >= whole:
        return whole
    side = max(minimum, side // multiple * multiple)
    return max(multiple, side)


def _round_up(v: int, m: int) -> int:
    return -(-v // m) * m


def _reflect_pad(image: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    if not (top or bottom or left or right):
        return image
    pads = ((top, bottom), (left, right)) + ((0, 0),) * (image.ndim - 2)
    h, w = image.shape[:2]
    # np.pad "reflect" needs the pad to be smaller than the side; repeat edges for tiny images.
    if max(top, bottom) < h and max(left, right) < w:
        return np.pad(image, pads, mode="reflect")
    return np.pad(image, pads, mode="symmetric" if min(h, w) > 1 else "edge")


def _starts(length: int, tile: int, step: int, multiple: int) -> list[int]:
    if length <= tile:
        return [0]
    out = list(range(0, length - tile, step))
    out.append(length - tile)  # last tile flush with the border (a multiple: both sides are)
    return sorted(set(out))


def _weights_1d(n_out: int, s: float, lead_inner: bool, trail_inner: bool, overlap: int) -> np.ndarray:
    """Per-position weights of one tile axis in output pixels: 0 context, linear ramp, 1 core."""
    w = np.ones(n_out, np.float64)
    ctx = round(overlap // 4 * s)
    ramp = round((overlap - 2 * (overlap // 4)) * s)
    ramp_w = (np.arange(ramp, dtype=np.float64) + 1) / (ramp + 1)
    if lead_inner:
        w[:ctx] = 0
        w[ctx : ctx + ramp] = ramp_w[: max(0, min(ramp, n_out - ctx))]
    if trail_inner:
        end = n_out - ctx
        w[end:] = 0
        seg = w[max(0, end - ramp) : end]
        w[max(0, end - ramp) : end] = np.minimum(seg, ramp_w[::-1][ramp - len(seg) :])
    return w


def run_tiled(
    image: np.ndarray,
    fn: TileFn,
    *,
    scale: float = 1,
    tile: int,
    overlap: int,
    multiple: int = 1,
    border_pad: int = 0,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    stage: str = "Processing",
) -> np.ndarray:
    """Apply `fn` to overlapping tiles of `image` (float32 H×W×C) and blend them without seams.

    `fn` receives a float32 h×w×C tile and must return (h·scale)×(w·scale)×C'. `multiple`: the
    model's input size multiple; the image is reflect-padded up to it and the output cropped back.
    `border_pad`: extra reflection padding on all sides for models that behave badly at the image
    edge (0 keeps the output identical to running `fn` on the whole image).
    """
    if image.ndim != 3:
        raise InferenceError("run_tiled expects an H×W×C image.")
    if overlap < 0 or tile <= 0 or overlap >= tile:
        raise InferenceError(f"Invalid tiling: tile {tile}, overlap {overlap} (need 0 ≤ overlap < tile).")
    multiple = max(1, int(multiple))
    tile = max(multiple, tile // multiple * multiple)
    h0, w0 = image.shape[:2]
    # Border padding, then padding up to the model's multiple (bottom/right only).
    padded = _reflect_pad(image, border_pad, border_pad, border_pad, border_pad)
    ph, pw = padded.shape[:2]
    padded = _reflect_pad(padded, 0, _round_up(ph, multiple) - ph, 0, _round_up(pw, multiple) - pw)
    ph, pw = padded.shape[:2]
    th, tw = min(tile, ph), min(tile, pw)
    step = max(multiple, (tile - overlap) // multiple * multiple)
    if step > tile - 2 * (overlap // 4):
        raise InferenceError(f"Tile {tile} is too small for overlap {overlap} at input multiple {multiple}.")
    ys, xs = _starts(ph, th, step, multiple), _starts(pw, tw, step, multiple)
    n = len(ys) * len(xs)

    def out_len(v: int) -> int:
        return round(v * scale)

    acc: np.ndarray | None = None
    weight = np.zeros((out_len(ph), out_len(pw)), np.float64)
    done = 0
    for y in ys:
        wy = _weights_1d(out_len(th), scale, y > 0, y + th < ph, overlap)
        for x in xs:
            if cancel is not None:
                cancel.check()
            progress(Progress(done / n, f"{stage} (tile {done + 1} of {n})" if n > 1 else stage))
            out = np.asarray(fn(np.ascontiguousarray(padded[y : y + th, x : x + tw])), dtype=np.float32)
            if out.shape[:2] != (out_len(th), out_len(tw)):
                raise InferenceError(
                    f"Model output {out.shape[:2]} does not match tile {th}×{tw} at scale {scale}."
                )
            if out.ndim == 2:
                out = out[..., None]
            if acc is None:
                acc = np.zeros((out_len(ph), out_len(pw), out.shape[2]), np.float64)
            wx = _weights_1d(out_len(tw), scale, x > 0, x + tw < pw, overlap)
            wt = wy[:, None] * wx[None, :]
            oy, ox = out_len(y), out_len(x)
            acc[oy : oy + out.shape[0], ox : ox + out.shape[1]] += out * wt[..., None]
            weight[oy : oy + out.shape[0], ox : ox + out.shape[1]] += wt
            done += 1
    progress(Progress(1.0, stage))
    assert acc is not None
    if (weight <= 0).any():  # would mean a bug in the tile layout, never silently leave holes
        raise InferenceError("Internal tiling error: some pixels were not covered by any tile.")
    result = (acc / weight[..., None]).astype(np.float32)
    b = out_len(border_pad)
    return np.ascontiguousarray(result[b : b + out_len(h0), b : b + out_len(w0)])


def feather_mask(mask: np.ndarray, feather_px: float) -> np.ndarray:
    """The mask as painted (soft values kept) plus a linear ramp of `feather_px` pixels outward.

    Each unmasked pixel within reach gets `edge · (1 − d / (feather_px + 1))`, where `d` is its
    distance to the nearest masked pixel and `edge` that pixel's value, so a hard edge fades from 1
    and a soft edge never gains a brighter halo than the mask itself. Masked pixels keep their value.
    """
    m = np.clip(np.asarray(mask, np.float32), 0, 1)
    if feather_px <= 0 or not (m > 0).any():
        return m
    from scipy.ndimage import distance_transform_edt

    # Distance to, and position of, the nearest masked pixel (0 and itself for masked pixels).
    dist, (iy, ix) = distance_transform_edt(m <= 0, return_indices=True)
    ramp = np.clip(1.0 - dist / (feather_px + 1.0), 0.0, 1.0).astype(np.float32) * m[iy, ix]
    return np.maximum(m, ramp)


def paste_masked(
    base: np.ndarray,
    patch: np.ndarray,
    mask: np.ndarray,
    feather_px: float = 0,
    *,
    origin: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """Blend `patch` into a copy of `base` only where the feathered mask is > 0.

    `patch` and `mask` (H×W float32 [0,1]) cover the region of `base` starting at `origin` (y, x).
    Every pixel where the feathered mask is 0 — in particular everything outside the region — is
    bit-identical to `base`: the blend is selected with `np.where`, not computed everywhere.
    """
    y, x = origin
    h, w = patch.shape[:2]
    if mask.shape[:2] != (h, w):
        raise InferenceError(f"Mask {mask.shape[:2]} and patch {(h, w)} differ in size.")
    if y < 0 or x < 0 or y + h > base.shape[0] or x + w > base.shape[1]:
        raise InferenceError("The patch does not fit inside the image at the given origin.")
    if patch.shape[2:] != base.shape[2:]:
        raise InferenceError(f"Patch channels {patch.shape[2:]} differ from the image's {base.shape[2:]}.")
    alpha = feather_mask(mask, feather_px)
    out = base.copy()
    region = out[y : y + h, x : x + w]
    a = alpha[..., None] if region.ndim == 3 else alpha
    blended = (region.astype(np.float32) * (1 - a) + patch.astype(np.float32) * a).astype(base.dtype)
    out[y : y + h, x : x + w] = np.where(a > 0, blended, region)
    return out
