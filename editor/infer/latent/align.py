"""FFHQ-style face alignment from two eyes and the mouth, and the inverse warp back into the photo.

Why these three points: the user can click them on any photo without a landmark model, and they are
exactly what the FFHQ recipe (NVlabs/ffhq-dataset, `recreate_aligned_images`) uses: an oriented square
from the eye-to-eye and eye-to-mouth vectors. The framing differs per generator (FFHQ keeps hair and
shoulders, BEGAN's CelebA crops are brow-to-chin), so scale and centre come from `CropSpec`.
No torch here: numpy + OpenCV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from editor.core.errors import LucidError
from editor.infer.latent.generator import FFHQ_CROP, CropSpec


@dataclass(frozen=True)
class Alignment:
    """Where a crop came from: `matrix` maps photo (x, y) to crop pixels; the crop is size×size."""

    quad: np.ndarray  # (4, 2) photo coords: top-left, bottom-left, bottom-right, top-right of the crop
    size: int
    matrix: np.ndarray  # 2×3 photo → crop
    eyes: np.ndarray  # (2, 2) photo coords, image-left eye first
    mouth: np.ndarray  # (2,)

    def to_crop(self, pts: np.ndarray) -> np.ndarray:
        """Photo points (pixel-edge coordinates, like the clicks) → crop pixel-centre coordinates."""
        pts = np.asarray(pts, np.float64).reshape(-1, 2) - 0.5
        return pts @ self.matrix[:, :2].T + self.matrix[:, 2]

    def bounds(self, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the quad in the photo, clipped to it (half-open, pixel indices)."""
        h, w = shape[:2]
        lo = np.floor(self.quad.min(0)).astype(int) - 1
        hi = np.ceil(self.quad.max(0)).astype(int) + 2
        return max(lo[0], 0), max(lo[1], 0), min(hi[0], w), min(hi[1], h)


def order_eyes(eyes: Sequence[float], mouth: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Eyes as (image-left, image-right) for an upright face: the mouth lies 'below' the eye line."""
    e = np.asarray(eyes, np.float64).reshape(2, 2)
    m = np.asarray(mouth, np.float64).reshape(2)
    e2e = e[1] - e[0]
    down = np.array([-e2e[1], e2e[0]])
    if np.dot(down, m - e.mean(0)) < 0:
        e = e[::-1].copy()
    return e, m


def face_quad(eyes: Sequence[float], mouth: Sequence[float], crop: CropSpec = FFHQ_CROP) -> np.ndarray:
    """The FFHQ oriented square (TL, BL, BR, TR) around a face, scaled/shifted by `crop`."""
    e, m = order_eyes(eyes, mouth)
    eye_avg = e.mean(0)
    eye_to_eye = e[1] - e[0]
    eye_to_mouth = m - eye_avg
    if np.hypot(*eye_to_eye) < 2 or np.hypot(*eye_to_mouth) < 2:
        raise LucidError(
            "The eyes and mouth are too close together: click the two eye centres and the mouth centre."
        )
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8) * crop.scale
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * crop.shift
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def alignment_for(
    eyes: Sequence[float], mouth: Sequence[float], size: int, crop: CropSpec = FFHQ_CROP
) -> Alignment:
    quad = face_quad(eyes, mouth, crop)
    dst = np.array([[0, 0], [0, size], [size, size]], np.float32)
    # Pixel centres: the quad's corners are pixel *edges*, cv2 maps pixel centres; shift by half a pixel.
    matrix = cv2.getAffineTransform(quad[:3].astype(np.float32), dst) - np.array([[0, 0, 0.5], [0, 0, 0.5]])
    matrix[:, 2] += matrix[:, :2] @ np.array([0.5, 0.5])
    e, m = order_eyes(eyes, mouth)
    return Alignment(quad=quad, size=size, matrix=matrix.astype(np.float64), eyes=e, mouth=m)


def align_face(photo: np.ndarray, al: Alignment) -> np.ndarray:
    """The aligned crop (size×size×3 float32), anti-aliased when the face is larger than the crop."""
    rgb = np.ascontiguousarray(photo[..., :3], dtype=np.float32)
    shrink = float(np.hypot(*(al.quad[3] - al.quad[0]))) / al.size
    h, w = rgb.shape[:2]
    pad = int(np.ceil(3 * shrink)) + 2
    x0, y0, x1, y1 = al.bounds(rgb.shape)
    lo_x, lo_y = max(x0 - pad, 0), max(y0 - pad, 0)
    hi_x, hi_y = min(x1 + pad, w), min(y1 + pad, h)
    if hi_x <= lo_x or hi_y <= lo_y:
        raise LucidError("The face lies outside the image: check the eye and mouth points.")
    region = rgb[lo_y:hi_y, lo_x:hi_x]
    if shrink > 1.0:
        region = cv2.GaussianBlur(region, (0, 0), sigmaX=0.5 * (shrink - 1.0) + 1e-3)
    m = al.matrix.copy()
    m[:, 2] += m[:, :2] @ np.array([lo_x, lo_y], np.float64)
    return cv2.warpAffine(
        region, m, (al.size, al.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


def warp_back(
    crop_img: np.ndarray, al: Alignment, shape: tuple[int, ...]
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Warp a crop-space image (H×W or H×W×C) into the photo, over the quad's clipped bounding box only.

    Returns (patch, (x0, y0, x1, y1)); outside the quad the patch is 0 (constant border).
    """
    x0, y0, x1, y1 = al.bounds(shape)
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    # warpAffine wants dst→src: crop ← photo, i.e. the forward matrix applied to shifted photo coords.
    fwd = (np.vstack([al.matrix, [0, 0, 1]]) @ np.linalg.inv(shift))[:2]
    img = np.ascontiguousarray(crop_img, dtype=np.float32)
    out = cv2.warpAffine(
        img,
        fwd,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return out, (x0, y0, x1, y1)
