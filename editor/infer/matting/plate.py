"""Background-plate matting: a second photo of the scene without the subject makes matting easy.

After *Background Matting: The World is Your Green Screen* (Sengupta et al., CVPR 2020), done
classically: align the plate to the photo (ORB features + RANSAC homography, then ECC refinement on
the background), absorb the exposure change with a per-channel gain/offset fitted robustly on the
background, take the colour difference, turn it into a trimap with hysteresis and connectivity,
solve alpha in the unknown band with closed-form matting, and recover foreground colours from the
compositing equation with the known background: F = (I − (1 − α)B) / α.

Scene changes between the two shots (a door opened, a chair moved) look like foreground; the user
paints them as background in a trimap, which overrides the automatic one wherever it is not unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from editor.core.errors import LucidError
from editor.infer.matting.engines import estimate_alpha, estimate_foreground
from editor.infer.matting.trimap import BACKGROUND, FOREGROUND, UNKNOWN, apply_user_trimap

Stage = Callable[[float, str], None]
Check = Callable[[], None]

ALIGN_MAX_SIDE = 1024  # ECC runs on a copy this size: plenty for a global homography, much faster
HOLE_DIV = 500  # enclosed background islands smaller than 1/HOLE_DIV of the image are filled


@dataclass
class Alignment:
    """How the plate was mapped onto the photo (3×3 homography, plate → photo pixel coordinates)."""

    homography: np.ndarray
    method: str
    matches: int = 0
    inliers: int = 0
    ecc: float | None = None


@dataclass
class PlateMatte:
    alpha: np.ndarray  # float32 H×W
    foreground: np.ndarray  # float32 H×W×3, colours with the plate's background removed
    background: np.ndarray  # float32 H×W×3, the plate aligned and exposure-matched to the photo
    trimap: np.ndarray  # float32 H×W {0, 0.5, 1}, after the user's corrections
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def cutout(self) -> np.ndarray:
        return np.concatenate([self.foreground, self.alpha[..., None]], axis=2)


def _grey8(image: np.ndarray) -> np.ndarray:
    rgb = np.clip(image[..., :3] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _feature_homography(photo8: np.ndarray, plate8: np.ndarray) -> Alignment:
    """ORB + ratio test + RANSAC; identity when the images have too little texture to match."""
    orb = cv2.ORB_create(nfeatures=4000, fastThreshold=10)
    kp1, des1 = orb.detectAndCompute(plate8, None)
    kp2, des2 = orb.detectAndCompute(photo8, None)
    if des1 is None or des2 is None or len(kp1) < 8 or len(kp2) < 8:
        return Alignment(np.eye(3), "identity (too few features)")
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des1, des2, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < 12:
        return Alignment(np.eye(3), "identity (too few matches)", matches=len(good))
    src = np.float32([kp1[m.queryIdx].pt for m in good])
    dst = np.float32([kp2[m.trainIdx].pt for m in good])
    h, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 3.0)
    n_in = int(inliers.sum()) if inliers is not None else 0
    if h is None or n_in < 10:
        return Alignment(np.eye(3), "identity (no consistent homography)", matches=len(good), inliers=n_in)
    return Alignment(h / h[2, 2], "features", matches=len(good), inliers=n_in)


def _ecc_refine(
    photo8: np.ndarray, plate8: np.ndarray, align: Alignment, bg_mask: np.ndarray, motion: int
) -> Alignment:
    """Refine the plate → photo mapping by ECC with `motion` (a cv2.MOTION_* model) on a downscaled
    copy, counting only likely-background pixels."""
    h, w = photo8.shape
    s = min(1.0, ALIGN_MAX_SIDE / max(h, w))
    size = (max(round(w * s), 8), max(round(h * s), 8))
    scale = np.diag([s, s, 1.0])
    photo_s = cv2.resize(photo8, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    plate_s = cv2.resize(plate8, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    h_small = scale @ align.homography @ np.linalg.inv(scale)  # plate → photo, small coordinates
    warp = np.linalg.inv(h_small)  # ECC maps template (photo) → input (plate)
    warp /= warp[2, 2]
    # findTransformECC's mask lives in the input image's (the plate's) coordinates.
    mask_photo = cv2.resize(bg_mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_NEAREST)
    mask_plate = cv2.warpPerspective(mask_photo, np.linalg.inv(warp), size, flags=cv2.INTER_NEAREST)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6)
    init = warp if motion == cv2.MOTION_HOMOGRAPHY else warp[:2]
    try:
        cc, found = cv2.findTransformECC(
            photo_s, plate_s, init.astype(np.float32), motion, criteria, mask_plate, 5
        )
    except cv2.error:
        return replace(align, method=align.method + f" ({_MOTION_NAMES[motion]} ECC did not converge)")
    warp = np.vstack([found, [0.0, 0.0, 1.0]]) if found.shape[0] == 2 else found.astype(np.float64)
    h_full = np.linalg.inv(scale) @ np.linalg.inv(warp.astype(np.float64)) @ scale
    method = align.method + f" + {_MOTION_NAMES[motion]} ECC"
    return Alignment(h_full / h_full[2, 2], method, align.matches, align.inliers, float(cc))


_MOTION_NAMES = {cv2.MOTION_TRANSLATION: "translation", cv2.MOTION_HOMOGRAPHY: "homography"}


def _likely_background(
    photo8: np.ndarray, plate8: np.ndarray, homography: np.ndarray, prior: np.ndarray | None = None
) -> np.ndarray:
    """Pixels where the plate, mapped by `homography`, matches the photo (the subject differs).

    Without a `prior` (the plate may still be pixels off) the best-matching 60 % count. With the
    previous stage's mask as `prior`, the plate's exposure is matched on it first and pixels within a
    few noise levels count, then the subject is grown by a margin: a percentile cut would drop the
    textured background, where the remaining misalignment shows and which ECC needs most.
    """
    h, w = photo8.shape
    warped = cv2.warpPerspective(plate8, homography, (w, h), borderMode=cv2.BORDER_REPLICATE).astype(
        np.float32
    )
    photo = photo8.astype(np.float32)
    if prior is None or prior.sum() < 64:
        diff = cv2.GaussianBlur(np.abs(photo - warped), (0, 0), 2.0)
        return diff < max(np.percentile(diff, 60), 4)
    gain, offset = np.polyfit(warped[prior], photo[prior], 1)
    diff = cv2.GaussianBlur(np.abs(photo - (gain * warped + offset)), (0, 0), 2.0)
    subject = (diff > max(3.0 * np.median(diff[prior]), 4.0)).astype(np.uint8)
    margin = max(2, round(0.01 * max(h, w)))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    mask = cv2.dilate(subject, k) == 0
    return mask if mask.mean() > 0.05 else prior  # almost all "subject": keep the coarser mask


def align_plate(image: np.ndarray, plate: np.ndarray) -> tuple[np.ndarray, np.ndarray, Alignment]:
    """Warp `plate` onto `image`; return (aligned plate RGB, valid-pixel mask, alignment).

    Coarse to fine, so that a few-parameter model fixes the background mask before the eight-parameter
    homography sees it: the mask taken from a misaligned plate counts subject edges as background,
    and a homography fitted to those bends (scale, shear) to match them instead of the background.
    Without feature matches (small or low-texture photos) a translation-only ECC gives the start;
    each stage then takes its background mask from the previous stage's alignment.
    """
    photo8, plate8 = _grey8(image), _grey8(plate)
    h, w = photo8.shape
    align = _feature_homography(photo8, plate8)
    mask = _likely_background(photo8, plate8, align.homography)
    if align.method != "features":
        align = _ecc_refine(photo8, plate8, align, mask, cv2.MOTION_TRANSLATION)
    mask = _likely_background(photo8, plate8, align.homography, prior=mask)
    align = _ecc_refine(photo8, plate8, align, mask, cv2.MOTION_HOMOGRAPHY)
    flags = cv2.INTER_LINEAR
    aligned = cv2.warpPerspective(
        np.ascontiguousarray(plate[..., :3], dtype=np.float32),
        align.homography,
        (w, h),
        flags=flags,
        borderMode=cv2.BORDER_REPLICATE,
    )
    valid = (
        cv2.warpPerspective(np.ones((h, w), np.uint8), align.homography, (w, h), flags=cv2.INTER_NEAREST) > 0
    )
    return aligned, valid, align


def fit_exposure(
    image: np.ndarray, plate: np.ndarray, weights: np.ndarray, iterations: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel gain and offset with image ≈ gain·plate + offset, robust to the subject.

    Iteratively reweighted least squares with Tukey's biweight on a pixel sample: the subject's
    pixels (large residuals) get zero weight after the first rounds.
    """
    rng = np.random.default_rng(0)
    idx = np.flatnonzero(weights.reshape(-1))
    if idx.size < 64:
        return np.ones(3, np.float32), np.zeros(3, np.float32)
    idx = rng.choice(idx, size=min(idx.size, 200_000), replace=False)
    x = plate.reshape(-1, 3)[idx].astype(np.float64)
    y = image.reshape(-1, 3)[idx].astype(np.float64)
    gain, offset = np.ones(3), np.zeros(3)
    for c in range(3):
        wts = np.ones(idx.size)
        for _ in range(iterations):
            a = np.stack([x[:, c], np.ones(idx.size)], axis=1) * np.sqrt(wts)[:, None]
            (g, o), *_ = np.linalg.lstsq(a, y[:, c] * np.sqrt(wts), rcond=None)
            r = y[:, c] - (g * x[:, c] + o)
            scale = max(1.4826 * np.median(np.abs(r[wts > 0] - np.median(r[wts > 0]))), 1e-3)
            u = r / (4.685 * scale)
            wts = np.where(np.abs(u) < 1, (1 - u**2) ** 2, 0.0)
        gain[c], offset[c] = g, o
    return gain.astype(np.float32), offset.astype(np.float32)


def difference_key(image: np.ndarray, plate: np.ndarray, scale: float = 0.25) -> np.ndarray:
    """Plain difference keying `clip(‖I − P‖ / scale, 0, 1)`: the baseline plate matting must beat."""
    d = np.linalg.norm(image[..., :3].astype(np.float32) - plate[..., :3].astype(np.float32), axis=2)
    return np.clip(d / scale, 0.0, 1.0).astype(np.float32)


def _hysteresis(d: np.ndarray, low: float, high: float, min_area: int) -> np.ndarray:
    """Pixels above `low` that are connected to a pixel above `high`, in blobs of at least `min_area`."""
    weak = (d > low).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    strong_labels = np.unique(labels[d > high])
    keep = np.zeros(n, bool)
    keep[strong_labels] = True
    keep[0] = False
    keep &= stats[:, cv2.CC_STAT_AREA] >= min_area
    return keep[labels]


def _fill_small_holes(mask: np.ndarray, max_area: int) -> np.ndarray:
    """Fill background islands enclosed by the subject (its colours matched the plate there)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)
    small = stats[:, cv2.CC_STAT_AREA] < max_area
    small[0] = False  # label 0 is the subject itself
    return mask | small[labels]


def plate_trimap(
    image: np.ndarray, background: np.ndarray, noise: float, band_px: int
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Trimap from the colour difference to the (aligned, exposure-matched) plate; also the hard mask."""
    h, w = image.shape[:2]
    diff = cv2.GaussianBlur(image[..., :3] - background, (0, 0), 1.0)
    d = np.linalg.norm(diff, axis=2)
    low = max(6.0 * noise, 0.04)
    high = max(2.5 * low, 0.12)
    area = h * w
    mask = _hysteresis(d, low, high, min_area=max(16, area // 5000))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0
    mask = _fill_small_holes(mask, max_area=max(64, area // HOLE_DIV))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band_px + 1, 2 * band_px + 1))
    inner = cv2.erode(mask.astype(np.uint8), k) > 0
    outer = cv2.dilate(mask.astype(np.uint8), k) > 0
    trimap = np.full((h, w), UNKNOWN, np.float32)
    trimap[inner] = FOREGROUND
    trimap[~outer] = BACKGROUND
    return trimap, mask, {"threshold_low": low, "threshold_high": high}


def foreground_from_background(image: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """F = (I − (1 − α)B) / α, clamped; meaningful where α is not tiny."""
    a = np.maximum(alpha, 1e-3)[..., None]
    return np.clip((image[..., :3] - (1.0 - a) * background) / a, 0.0, 1.0).astype(np.float32)


def _noop_stage(_fraction: float, _text: str) -> None:
    pass


def plate_matte(
    image: np.ndarray,
    plate: np.ndarray,
    *,
    user_trimap: np.ndarray | None = None,
    engine: str = "cf",
    band_px: int | None = None,
    stage: Stage = _noop_stage,
    check: Check | None = None,
) -> PlateMatte:
    """Matte the subject of `image` (float32 RGB) given a clean `plate` of the same scene."""
    if image.shape[:2] != plate.shape[:2]:
        raise LucidError(
            f"The background plate is {plate.shape[1]}×{plate.shape[0]} but the photo is "
            f"{image.shape[1]}×{image.shape[0]}; take both shots at the same size."
        )
    image = np.ascontiguousarray(image[..., :3], dtype=np.float32)
    h, w = image.shape[:2]
    check = check or (lambda: None)
    stage(0.02, "Aligning the plate")
    aligned, valid, align = align_plate(image, plate)
    check()

    stage(0.15, "Matching exposure")
    rough = np.linalg.norm(cv2.GaussianBlur(image - aligned, (0, 0), 2.0), axis=2)
    gain, offset = fit_exposure(image, aligned, valid & (rough < np.percentile(rough[valid], 70)))
    background = np.clip(aligned * gain + offset, 0.0, 1.0).astype(np.float32)
    resid = (image - background)[valid & (rough < np.percentile(rough[valid], 50))]
    noise = float(1.4826 * np.median(np.abs(resid - np.median(resid, axis=0)))) if resid.size else 0.01
    check()

    stage(0.25, "Building the trimap")
    band = band_px if band_px is not None else max(2, round(0.004 * max(h, w)))
    trimap, _mask, thresholds = plate_trimap(image, background, noise, band)
    trimap = apply_user_trimap(trimap, user_trimap)
    info: dict[str, Any] = {
        "alignment": align.method,
        "feature_matches": align.matches,
        "feature_inliers": align.inliers,
        "ecc": align.ecc,
        "homography": align.homography.round(6).tolist(),
        "gain": gain.round(4).tolist(),
        "offset": offset.round(4).tolist(),
        "noise_sigma": round(noise, 5),
        "band_px": band,
        "unknown_fraction": round(float((trimap == UNKNOWN).mean()), 5),
        **{k: round(v, 4) for k, v in thresholds.items()},
    }
    check()

    stage(0.35, "Solving alpha")
    if not (trimap == FOREGROUND).any():
        raise LucidError(
            "No subject found: the photo matches the plate everywhere. Paint the subject as foreground."
        )
    if not (trimap == BACKGROUND).any():
        raise LucidError("The whole photo differs from the plate: check that the plate shows the same scene.")
    alpha = estimate_alpha(image, trimap, engine, check=check)
    check()

    stage(0.85, "Recovering colours")
    fg = foreground_from_background(image, alpha, background)
    # Where alpha is tiny the division amplifies noise; use the smooth multilevel estimate there.
    faint = alpha < 0.1
    if faint.any():
        fg_ml = estimate_foreground(image, alpha)
        fg[faint] = fg_ml[faint]
    stage(1.0, "Done")
    return PlateMatte(alpha=alpha, foreground=fg, background=background, trimap=trimap, info=info)
