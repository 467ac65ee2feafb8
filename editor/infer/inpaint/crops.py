"""High-resolution strategy: work on crops around the mask, never on the whole photo.

Each connected masked region gets a box with context margin; overlapping boxes merge; a box that
would leave the image is shifted inward rather than cut, and grown to the engine's size multiple.
A crop larger than the engine's working size is downscaled for the engine and its fill upscaled
back. The fill is colour-matched to the crop's known pixels and pasted back only where the mask
(plus a narrow feather) says so, so the cost follows the mask's area, not the photo's size, and
every pixel outside the feathered mask keeps its exact value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from editor.infer.api import CancelToken, Progress, ProgressFn, no_progress
from editor.infer.inpaint.classical import diffuse
from editor.infer.inpaint.colour import match_colour
from editor.infer.tiling import feather_mask, paste_masked

# fill(rgb_crop H×W×3 float32, hole H×W bool, seed, progress, cancel) -> filled rgb_crop
FillFn = Callable[[np.ndarray, np.ndarray, int, ProgressFn, CancelToken | None], np.ndarray]


@dataclass(frozen=True)
class Box:
    """Half-open pixel box [y0, y1) × [x0, x1)."""

    y0: int
    x0: int
    y1: int
    x1: int

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    def overlaps(self, o: Box) -> bool:
        return self.y0 < o.y1 and o.y0 < self.y1 and self.x0 < o.x1 and o.x0 < self.x1

    def union(self, o: Box) -> Box:
        return Box(min(self.y0, o.y0), min(self.x0, o.x0), max(self.y1, o.y1), max(self.x1, o.x1))


@dataclass(frozen=True)
class CropPolicy:
    working_size: int  # longest side the engine works at; bigger crops are downscaled
    multiple: int = 1  # crop sides are grown to a multiple of this where the image allows
    margin: float = 0.5  # context on each side, as a fraction of the region's longer side
    min_margin: int = 32  # … but at least this many pixels
    feather_px: float = 1.0  # outward feather of the pasted fill


def _fit_axis(a0: int, a1: int, size: int, multiple: int) -> tuple[int, int]:
    """Grow [a0, a1) to a multiple (if it fits), then shift it inside [0, size) without shrinking it."""
    length = min(a1 - a0, size)
    if multiple > 1:
        grown = -(-length // multiple) * multiple
        length = grown if grown <= size else length
    centre = (a0 + a1) // 2
    start = min(max(centre - length // 2, 0), size - length)
    return start, start + length


def plan_boxes(mask: np.ndarray, policy: CropPolicy) -> list[Box]:
    """Boxes (with margin, merged, inside the image) that together cover every pixel where `mask` > 0."""
    h, w = mask.shape
    rows, cols = np.flatnonzero(mask.max(axis=1) > 0), np.flatnonzero(mask.max(axis=0) > 0)
    if rows.size == 0:
        return []
    # Label components only inside the mask's bounding box: on a 24 MP photo with a small mask that
    # is the difference between most of a second and nothing.
    oy, ox = int(rows[0]), int(cols[0])
    sub = (mask[oy : rows[-1] + 1, ox : cols[-1] + 1] > 0).view(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(sub, connectivity=8)
    boxes: list[Box] = []
    for x, y, bw, bh, _area in stats[1:n]:
        x, y = x + ox, y + oy
        m = max(policy.min_margin, round(policy.margin * max(bw, bh)))
        boxes.append(Box(y - m, x - m, y + bh + m, x + bw + m))
    merged = True
    while merged:  # merge until stable: a union can newly overlap a third box
        merged = False
        out: list[Box] = []
        for b in boxes:
            for i, o in enumerate(out):
                if b.overlaps(o):
                    out[i] = o.union(b)
                    merged = True
                    break
            else:
                out.append(b)
        boxes = out
    fitted = []
    for b in boxes:
        y0, y1 = _fit_axis(b.y0, b.y1, h, policy.multiple)
        x0, x1 = _fit_axis(b.x0, b.x1, w, policy.multiple)
        fitted.append(Box(y0, x0, y1, x1))
    return fitted


def _resize(a: np.ndarray, shape: tuple[int, int], interp: int) -> np.ndarray:
    return cv2.resize(a, (shape[1], shape[0]), interpolation=interp)


def fill_crop(rgb: np.ndarray, hole: np.ndarray, fill: FillFn, policy: CropPolicy, seed: int,
              progress: ProgressFn, cancel: CancelToken | None) -> np.ndarray:
    """Fill one crop, at reduced size if it exceeds the working size; hole pixels matched in colour."""
    h, w = hole.shape
    scale = min(1.0, policy.working_size / max(h, w))
    if scale < 1.0:
        small = (max(1, round(h * scale)), max(1, round(w * scale)))
        rgb_s = _resize(rgb, small, cv2.INTER_AREA)
        hole_s = _resize(hole.astype(np.float32), small, cv2.INTER_AREA) > 1e-6
        out_s = fill(rgb_s, hole_s, seed, progress, cancel)
        out = _resize(out_s, (h, w), cv2.INTER_CUBIC)
    else:
        out = fill(rgb, hole, seed, progress, cancel)
    out = match_colour(out.astype(np.float32), rgb, hole)
    return np.where(hole[..., None], out, rgb).astype(np.float32)


def inpaint_crops(
    rgb: np.ndarray,
    mask: np.ndarray,
    fill: FillFn,
    policy: CropPolicy,
    *,
    seed: int = 0,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Fill every masked region of `rgb` (H×W×C float32) and paste it back through `mask` (float32).

    Channels after the third (alpha) are filled by diffusion: transparency has no texture to copy.
    """
    out = np.array(rgb, dtype=np.float32, copy=True)
    boxes = plan_boxes(mask, policy)
    for i, b in enumerate(boxes):
        if cancel is not None:
            cancel.check()

        def sub(p: Progress, _i: int = i) -> None:
            progress(Progress((_i + p.fraction) / len(boxes), p.stage, p.preview))

        region = out[b.y0 : b.y1, b.x0 : b.x1]
        m_crop = mask[b.y0 : b.y1, b.x0 : b.x1]
        h_crop = m_crop > 0
        filled = fill_crop(region[..., :3], h_crop, fill, policy, seed + i, sub, cancel)
        if region.shape[2] > 3:
            filled = np.concatenate([filled, diffuse(region[..., 3:], h_crop)], axis=-1)
        out[b.y0 : b.y1, b.x0 : b.x1] = paste_masked(region, filled, feather_mask(m_crop, policy.feather_px))
    progress(Progress(1.0, "Done"))
    return out
