"""Put an edited face crop back into the photo: colour-match, feathered face mask, inverse warp.

Why colour-match against the *reconstruction*: the generator rarely reproduces the photo's exact
colours, but an edit may change colour on purpose (hair, age). So the transfer is measured between
the unedited inversion and the photo crop over the face, then applied to the edited crop.
Outside the mask the photo is returned bit-identical (`np.where`, never a blend with weight 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from editor.infer.latent.align import Alignment, warp_back


def face_mask(al: Alignment, feather: float = 0.3, border: int = 2) -> np.ndarray:
    """A soft ellipse over the face (brow to chin) in crop coordinates, size×size float32 in [0, 1].

    Built from the three landmarks, so it follows the face whatever the generator's framing;
    it fades to 0 `border` pixels before the crop edge so the warped mask has no hard step.
    """
    s = al.size
    (e1, e2), m = al.to_crop(al.eyes), al.to_crop(al.mouth)[0]
    eye_avg = (e1 + e2) / 2
    e2e, e2m = e2 - e1, m - eye_avg
    ax_u = e2e / max(np.hypot(*e2e), 1e-6)
    ax_v = np.array([-ax_u[1], ax_u[0]])
    centre = eye_avg + 0.45 * e2m
    semi_u = 1.0 * np.hypot(*e2e)
    semi_v = 1.4 * max(abs(float(np.dot(e2m, ax_v))), 1e-6)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float64)
    du, dv = (xx - centre[0]), (yy - centre[1])
    r = np.sqrt(((du * ax_u[0] + dv * ax_u[1]) / semi_u) ** 2 + ((du * ax_v[0] + dv * ax_v[1]) / semi_v) ** 2)
    t = np.clip((1.0 - r) / feather + 0.5, 0.0, 1.0)
    mask = t * t * (3 - 2 * t)  # smoothstep
    return (mask * _edge_window(s, border)).astype(np.float32)


def colour_match(edited: np.ndarray, recon: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-channel mean/std transfer in Lab, measured recon → target over `mask`, applied to `edited`."""
    w = (mask > 0.5).astype(np.float64)
    if w.sum() < 16:
        return edited
    lab = [
        cv2.cvtColor(np.clip(a, 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab) for a in (edited, recon, target)
    ]
    out = lab[0].astype(np.float64)
    for c in range(3):
        r, t = lab[1][..., c], lab[2][..., c]
        mr, mt = np.average(r, weights=w), np.average(t, weights=w)
        sr = np.sqrt(np.average((r - mr) ** 2, weights=w)) + 1e-3
        st = np.sqrt(np.average((t - mt) ** 2, weights=w)) + 1e-3
        gain = float(np.clip(st / sr, 0.5, 2.0))
        out[..., c] = (out[..., c] - mr) * gain + mt
    rgb = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(rgb, 0.0, 1.0)


@dataclass
class Composite:
    image: np.ndarray  # the whole photo with the face replaced inside `mask`
    mask: np.ndarray  # photo-sized float32 blend weights (0 = untouched)
    rect: tuple[int, int, int, int]  # (x0, y0, x1, y1) where anything can differ


def composite(
    photo: np.ndarray,
    crop: np.ndarray,
    al: Alignment,
    crop_mask: np.ndarray | None = None,
    user_mask: np.ndarray | None = None,
    recon: np.ndarray | None = None,
) -> Composite:
    """Blend `crop` (size×size×3) into `photo` through the face mask (crop space) and/or the user's mask
    (photo space); alpha and every pixel with mask 0 stay bit-identical.

    With `recon` (the unedited inversion) only the *change* is pasted: photo + (edited − recon), which
    keeps the photo's own detail and colour where the edit does nothing (a 64 px generator would
    otherwise blur a 300 px face), at the cost of ghosting when an edit moves features a lot.
    """
    cmask = face_mask(al) if crop_mask is None else crop_mask.astype(np.float32)
    patch, (x0, y0, x1, y1) = warp_back(np.clip(crop, 0, 1), al, photo.shape)
    mpatch, _ = warp_back(cmask, al, photo.shape)
    mpatch = np.clip(mpatch, 0.0, 1.0)
    if user_mask is not None:
        um = np.clip(np.asarray(user_mask, np.float32)[y0:y1, x0:x1], 0, 1)
        window, _ = warp_back(_edge_window(al.size), al, photo.shape)
        mpatch = um * np.clip(window, 0, 1)
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[y0:y1, x0:x1] = mpatch
    out = photo.copy()
    region = out[y0:y1, x0:x1]
    m3 = mpatch[..., None]
    if recon is not None:
        base, _ = warp_back(np.clip(recon, 0, 1), al, photo.shape)
        blended = np.clip(region[..., :3] + (patch - base).astype(region.dtype) * m3, 0, 1)
    else:
        blended = region[..., :3] * (1 - m3) + patch.astype(region.dtype) * m3
    region[..., :3] = np.where(m3 > 0, blended, region[..., :3])
    return Composite(out, mask, (x0, y0, x1, y1))


def _edge_window(size: int, border: int = 2) -> np.ndarray:
    """1 inside the crop, ramping to 0 at its edge: where a warped crop has valid pixels."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    edge = np.minimum(np.minimum(xx, size - 1 - xx), np.minimum(yy, size - 1 - yy))
    return np.clip((edge - border) / max(border, 1), 0.0, 1.0)
