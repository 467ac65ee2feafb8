"""Stage 1 — align every frame to the reference on the background layer.

A dominant homography (SIFT features + RANSAC) takes out camera rotation and the mean plane; a
dense DIS optical flow on top of it follows parallax. The flow is smoothed with its own
forward–backward confidence as weights, so thin high-contrast obstructions (fence wires) that
move differently cannot drag the background warp along with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from editor.infer.api import CancelToken, Progress, ProgressFn, no_progress

FEATURE_SIDE = 960  # features are found on a copy no larger than this: enough for a homography
FLOW_SIDE = 512  # dense flow works at this size; parallax is smooth, so this loses little


@dataclass
class Alignment:
    """Frames resampled into the reference's coordinates.

    `warped[k]` is frame k seen from the reference; `valid[k]` is 1 where frame k covers the pixel;
    `confidence[k]` in [0, 1] says how much the flow there can be trusted (1 for the reference).
    `maps[k]` is the H×W×2 float32 sampling map (reference pixel → frame-k pixel), kept so later
    stages can re-warp other images (a per-frame mask, say) the same way.
    """

    warped: np.ndarray
    valid: np.ndarray
    confidence: np.ndarray
    maps: np.ndarray
    homographies: list[np.ndarray]
    reference: int
    frames: np.ndarray | None = None  # the unaligned burst, so a later stage can re-warp with a better map


def gray8(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def resize_to(img: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, side / max(img.shape[:2]))
    if scale == 1.0:
        return img, 1.0
    size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA), scale


def rescaled(hom: np.ndarray, s: float) -> np.ndarray:
    """A homography between full-size images expressed on copies scaled by `s` (`1 / s`: back again)."""
    scale = np.diag([s, s, 1.0])
    return scale @ hom @ np.linalg.inv(scale)


def motion_candidates(ref_gray: np.ndarray, frame_gray: np.ndarray, max_layers: int = 3) -> list[np.ndarray]:
    """Homographies (reference → frame) of the strongest feature motions, by sequential RANSAC.

    Features alone cannot say which motion is the background: a fence has more corners than the
    scene behind it. So every well-supported motion is returned and `estimate_homography` decides.
    """
    sift = cv2.SIFT_create(nfeatures=4000)
    kr, dr = sift.detectAndCompute(ref_gray, None)
    kf, df = sift.detectAndCompute(frame_gray, None)
    if dr is None or df is None or len(kr) < 8 or len(kf) < 8:
        return []
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(dr, df, k=2)
    good = [m for m, *rest in pairs if rest and m.distance < 0.8 * rest[0].distance]
    src = np.float32([kr[m.queryIdx].pt for m in good])
    dst = np.float32([kf[m.trainIdx].pt for m in good])
    found: list[np.ndarray] = []
    while len(src) >= 12 and len(found) < max_layers:
        h, inliers = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 1.5, maxIters=5000, confidence=0.999)
        if h is None or inliers is None or int(inliers.sum()) < max(10, 0.1 * len(good)):
            break
        found.append(h)
        keep = inliers.ravel() == 0
        src, dst = src[keep], dst[keep]
    return found


def flow_candidates(ref_gray: np.ndarray, frame_gray: np.ndarray, max_layers: int = 2) -> list[np.ndarray]:
    """Homographies fitted by sequential RANSAC to a dense DIS flow: motions ranked by *area*.

    Dense flow gives every pixel a vote, so the layer covering most of the image wins even when
    a repetitive fence confuses feature matching.
    """
    a, s = resize_to(ref_gray, FLOW_SIDE // 2)
    b, _ = resize_to(frame_gray, FLOW_SIDE // 2)
    flow = _dis().calc(a, b, None)
    gy, gx = np.mgrid[2 : a.shape[0] - 2 : 3, 2 : a.shape[1] - 2 : 3]
    src = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    dst = src + flow[gy.ravel(), gx.ravel()]
    found: list[np.ndarray] = []
    while len(src) >= 50 and len(found) < max_layers:
        h, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 0.5, maxIters=2000)
        if h is None or inliers is None or int(inliers.sum()) < 0.15 * gx.size:
            break
        found.append(rescaled(h, 1 / s))
        keep = inliers.ravel() == 0
        src, dst = src[keep], dst[keep]
    return found


def translation_peaks(a: np.ndarray, b: np.ndarray, count: int = 3) -> list[tuple[float, float]]:
    """The strongest peaks of the phase correlation: one global shift per moving layer."""
    fa = np.fft.fft2(a.astype(np.float32) * np.outer(np.hanning(a.shape[0]), np.hanning(a.shape[1])))
    fb = np.fft.fft2(b.astype(np.float32) * np.outer(np.hanning(b.shape[0]), np.hanning(b.shape[1])))
    cross = fb * np.conj(fa)
    corr = np.fft.fftshift(np.real(np.fft.ifft2(cross / (np.abs(cross) + 1e-6))))
    corr = cv2.GaussianBlur(corr.astype(np.float32), (0, 0), 1.0)
    cy, cx = corr.shape[0] // 2, corr.shape[1] // 2
    peaks = []
    for _ in range(count):
        y, x = np.unravel_index(int(np.argmax(corr)), corr.shape)
        peaks.append((float(x - cx), float(y - cy)))
        corr[max(0, y - 3) : y + 4, max(0, x - 3) : x + 4] = -np.inf
    return peaks


def shift_candidates(ref_gray: np.ndarray, frame_gray: np.ndarray) -> list[np.ndarray]:
    """Homographies grown (ECC) from each phase-correlation peak, so every layer gets a proposal."""
    a, s = resize_to(ref_gray, FLOW_SIDE // 2)
    b, _ = resize_to(frame_gray, FLOW_SIDE // 2)
    af, bf = a.astype(np.float32) / 255, b.astype(np.float32) / 255
    found = []
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)
    for dx, dy in translation_peaks(a, b):
        # ECC's warp maps template (reference) coordinates into the input (frame): the same direction as ours.
        init = np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float32)
        try:
            _, h = cv2.findTransformECC(af, bf, init, cv2.MOTION_HOMOGRAPHY, crit, None, 3)
        except cv2.error:
            h = init
        found.append(rescaled(h.astype(np.float64), 1 / s))
    return found


def _agreement(ref_gray: np.ndarray, frame_gray: np.ndarray, hom: np.ndarray) -> float:
    """Share of reference pixels that the frame, warped by `hom`, reproduces (within a few grey levels)."""
    warped = cv2.warpPerspective(
        frame_gray, hom, ref_gray.shape[::-1], flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=-1.0
    )
    inside = warped >= 0
    close = np.abs(warped - ref_gray.astype(np.float32)) < 10.0
    return float((close & inside).sum() / max(1, inside.sum()))


def suppress_thin(gray: np.ndarray) -> np.ndarray:
    """Median-filter away thin structures (wires, mesh, droplets) so the background drives alignment.

    A median wider than a wire replaces it with what surrounds it, while the background's larger
    shapes survive: the background then owns the image for features, flow and correlation alike.
    """
    k = int(np.clip(max(gray.shape) / 25, 5, 15)) | 1
    return cv2.medianBlur(gray, k)


PEAK_RATIO = 3.0  # a spectral bin this many times stronger than its neighbourhood is a periodic component


def suppress_periodic(gray: np.ndarray, ratio: float = PEAK_RATIO, keep_radius: int = 4) -> np.ndarray:
    """Take out regular patterns (fences, stripes, tiles, zebras) so they cannot decide the motion.

    Why: a periodic layer matches itself at every shift of one period, so features, flow and the
    agreement score all find aliases of it; its energy sits in isolated spectral peaks, while an
    ordinary scene's spectrum is smooth. Each peak is lowered to its neighbourhood's level (phase
    kept); the lowest frequencies (the scene's layout) are never touched.
    """
    f = gray.astype(np.float32)
    mean = float(f.mean())
    spec = np.fft.fftshift(np.fft.fft2(f - mean))
    logm = np.log1p(np.abs(spec)).astype(np.float32)
    # Median of the log-magnitude over a 9×9 neighbourhood (medianBlur needs 8-bit: 1/16 steps).
    local = cv2.medianBlur(np.clip(logm * 16, 0, 255).astype(np.uint8), 9).astype(np.float32) / 16
    peak = logm - local > np.log(ratio)
    yy, xx = np.ogrid[: f.shape[0], : f.shape[1]]
    peak &= (yy - f.shape[0] // 2) ** 2 + (xx - f.shape[1] // 2) ** 2 > keep_radius**2
    peak = cv2.dilate(peak.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    spec = np.where(peak, spec * np.exp(local - logm), spec)
    out = np.real(np.fft.ifft2(np.fft.ifftshift(spec))) + mean
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _refine_ecc(ref_gray: np.ndarray, frame_gray: np.ndarray, hom: np.ndarray) -> np.ndarray:
    """Polish a homography by ECC (direct photometric alignment); keep the start if ECC fails."""
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
    start = (hom / hom[2, 2]).astype(np.float32)
    try:
        _, h = cv2.findTransformECC(
            ref_gray.astype(np.float32) / 255,
            frame_gray.astype(np.float32) / 255,
            start,
            cv2.MOTION_HOMOGRAPHY,
            crit,
            None,
            5,
        )
    except cv2.error:
        return hom
    before = _agreement(ref_gray, frame_gray.astype(np.float32), hom)
    after = _agreement(ref_gray, frame_gray.astype(np.float32), h.astype(np.float64))
    return h.astype(np.float64) if after >= before else hom


def estimate_homography(
    ref_gray: np.ndarray, frame_gray: np.ndarray, *, thin: bool = True, periodic: bool = False
) -> np.ndarray:
    """Background homography mapping reference pixels to frame pixels (identity if nothing matches).

    With `thin` (opaque obstructions), thin structures are filtered out first (`suppress_thin`); a
    reflection is not thin, and filtering would erase the background's own fine detail (text).
    Then features, dense flow and phase correlation each propose motions (several layers each),
    the one that reproduces most of the (filtered) reference wins, and ECC polishes it.
    With `periodic`, a view without regular patterns (`suppress_periodic`) adds its proposals and
    is the one that judges and polishes, so a fence or stripes cannot win by matching themselves
    one period away (opt-in: see issue 17's note; the default path is unchanged).
    """
    small_ref, s = resize_to(ref_gray, FEATURE_SIDE)
    small_frame, _ = resize_to(frame_gray, FEATURE_SIDE)
    views = []
    if thin:
        views.append((suppress_thin(small_ref), suppress_thin(small_frame)))
    if periodic:
        views.append((suppress_periodic(small_ref), suppress_periodic(small_frame)))
    if not views:
        views.append((small_ref, small_frame))
    candidates = []
    for a, b in views:
        candidates += motion_candidates(a, b) + flow_candidates(a, b) + shift_candidates(a, b)
    small_ref, small_frame = views[-1]  # the periodic-free view judges and polishes, when there is one
    if not candidates:
        return np.eye(3)
    frame_f = small_frame.astype(np.float32)
    best = max(candidates, key=lambda h: _agreement(small_ref, frame_f, h))
    best = _refine_ecc(small_ref, small_frame, best)
    return rescaled(best, 1 / s)


def flow_homography(
    a: np.ndarray, b: np.ndarray, keep: np.ndarray, *, step: int = 4, tol: float = 1.0, least: int = 20
) -> np.ndarray | None:
    """Homography (pixel of `a` → pixel of `b`) fitted by RANSAC to the dense DIS flow at `keep` pixels.

    Flow vectors are local, so what is left out of `keep` (an obstruction, a faint layer's clutter)
    cannot pull the fit, and RANSAC drops the wrong vectors; None with fewer than `least` inliers.
    """
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(a, b, None)
    gy, gx = np.mgrid[2 : a.shape[0] - 2 : step, 2 : a.shape[1] - 2 : step]
    use = keep[gy, gx]
    if use.sum() < least:
        return None
    src = np.stack([gx[use], gy[use]], axis=1).astype(np.float32)
    hom, inl = cv2.findHomography(src, src + flow[gy[use], gx[use]], cv2.RANSAC, tol, maxIters=2000)
    if hom is None or inl is None or inl.sum() < least:
        return None
    return hom


def _dis() -> cv2.DISOpticalFlow:
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    dis.setUseSpatialPropagation(True)
    return dis


ZERO_PRIOR = 0.3


def _smooth_flow(flow: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: a weighted Gaussian average that fills unreliable spots from neighbours.

    `ZERO_PRIOR` is the weight of "no residual motion": where the flow is unreliable over a whole
    neighbourhood the homography alone decides, instead of an average of wrong vectors.
    """
    w = weight.astype(np.float32)
    num = cv2.GaussianBlur(flow * w[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(w, (0, 0), sigma) + ZERO_PRIOR
    return num / den[..., None]


def _flow_helps(a: np.ndarray, b: np.ndarray, flow: np.ndarray, sigma: float) -> np.ndarray:
    """Soft 0…1 map of where warping `b` by `flow` matches `a` better than not warping it at all.

    The flow is only trusted where it measurably improves the (thin-structure-free) match, so it
    follows real parallax but cannot make a good homography alignment worse.
    """
    sh, sw = a.shape
    gx, gy = np.meshgrid(np.arange(sw, dtype=np.float32), np.arange(sh, dtype=np.float32))
    moved = cv2.remap(
        b, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    af = a.astype(np.float32)
    err_flow = cv2.GaussianBlur(np.abs(moved.astype(np.float32) - af), (0, 0), sigma / 2)
    err_none = cv2.GaussianBlur(np.abs(b.astype(np.float32) - af), (0, 0), sigma / 2)
    gain = (err_none - err_flow) / (err_none + 1.0)
    return np.clip(gain / 0.2, 0.0, 1.0).astype(np.float32)


def dense_refinement(
    ref_gray: np.ndarray,
    moved_gray: np.ndarray,
    *,
    smooth: float = 0.02,
    ignore: np.ndarray | None = None,
    thin: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Residual flow (reference → pre-aligned frame) and its confidence, both at full size.

    Confidence is forward–backward consistency: following the flow there and back should land
    where it started. `ignore` (H×W, 1 = obstruction) removes pixels from the smoothing weights.
    `smooth` is the smoothing sigma as a fraction of the image diagonal.
    """
    h, w = ref_gray.shape
    a, s = resize_to(ref_gray, FLOW_SIDE)
    b, _ = resize_to(moved_gray, FLOW_SIDE)
    if thin:
        a, b = suppress_thin(a), suppress_thin(b)
    dis = _dis()
    fwd = dis.calc(a, b, None)
    bwd = dis.calc(b, a, None)
    sh, sw = a.shape
    gx, gy = np.meshgrid(np.arange(sw, dtype=np.float32), np.arange(sh, dtype=np.float32))
    back = cv2.remap(
        bwd, gx + fwd[..., 0], gy + fwd[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    err = np.linalg.norm(fwd + back, axis=2)
    tol = 0.5 + 0.05 * np.linalg.norm(fwd, axis=2)
    conf = np.exp(-((err / tol) ** 2)).astype(np.float32)
    weight = conf
    if ignore is not None:
        small_ignore = cv2.resize(ignore.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
        weight = conf * (1.0 - np.clip(small_ignore * 2, 0, 1))
    sigma = max(1.0, smooth * float(np.hypot(sh, sw)))
    flow = _smooth_flow(fwd, weight, sigma)
    used = _flow_helps(a, b, flow, sigma)
    flow = flow * used[..., None]
    # Where the flow is used, trust it as far as it is forward–backward consistent; where the
    # homography alone aligns, the flow's doubts do not apply (temporal consistency judges there).
    conf = 1.0 - used * (1.0 - cv2.GaussianBlur(conf, (0, 0), 2.0))
    flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) / s
    conf = cv2.resize(conf, (w, h), interpolation=cv2.INTER_LINEAR)
    return flow.astype(np.float32), np.clip(conf, 0, 1)


def sampling_map(h_ref_to_frame: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Reference pixel x → frame pixel H(x + flow(x)), as one map so frames are interpolated once."""
    hgt, wid = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(wid, dtype=np.float32), np.arange(hgt, dtype=np.float32))
    pts = np.stack([gx + flow[..., 0], gy + flow[..., 1]], axis=2)
    return (
        cv2.perspectiveTransform(pts.reshape(-1, 1, 2), h_ref_to_frame)
        .reshape(hgt, wid, 2)
        .astype(np.float32)
    )


def warp_with_map(img: np.ndarray, smap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Resample `img` at the map; returns the warped image and a 0/1 coverage mask."""
    out = cv2.remap(img, smap[..., 0], smap[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    h, w = img.shape[:2]
    inside = (smap[..., 0] >= 0) & (smap[..., 0] <= w - 1) & (smap[..., 1] >= 0) & (smap[..., 1] <= h - 1)
    return out, inside.astype(np.float32)


def align_burst(
    frames: np.ndarray,
    reference: int,
    *,
    use_flow: bool = True,
    thin: bool = True,
    ignore: np.ndarray | None = None,
    homographies: list[np.ndarray] | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    span: tuple[float, float] = (0.0, 1.0),
) -> Alignment:
    """Align N×H×W×3 frames to `frames[reference]` on the background.

    `ignore` (N×H×W in reference coordinates, 1 = obstruction) lets a second pass keep known
    obstruction pixels out of the flow, reusing the first pass's `homographies`. `thin` says the
    obstruction is made of thin structures (fences, wires, drops) that alignment should filter out.
    Progress is reported inside `span` of the job.
    """
    n, h, w, _ = frames.shape
    ref_gray = gray8(frames[reference])
    warped = np.empty_like(frames)
    valid = np.ones((n, h, w), np.float32)
    conf = np.ones((n, h, w), np.float32)
    maps = np.empty((n, h, w, 2), np.float32)
    identity = sampling_map(np.eye(3), np.zeros((h, w, 2), np.float32))
    homs: list[np.ndarray] = []
    lo, hi = span
    for k in range(n):
        if cancel is not None:
            cancel.check()
        progress(Progress(lo + (hi - lo) * k / n, f"Aligning frame {k + 1} of {n}"))
        if k == reference:
            warped[k], maps[k] = frames[k], identity
            homs.append(np.eye(3))
            continue
        hom = (
            homographies[k]
            if homographies is not None
            else estimate_homography(ref_gray, gray8(frames[k]), thin=thin)
        )
        homs.append(hom)
        flow = np.zeros((h, w, 2), np.float32)
        if use_flow:
            pre, _ = warp_with_map(frames[k], sampling_map(hom, flow))
            ign = None
            if ignore is not None:
                ign = np.maximum(ignore[k], ignore[reference])
            flow, conf[k] = dense_refinement(ref_gray, gray8(pre), ignore=ign, thin=thin)
        maps[k] = sampling_map(hom, flow)
        warped[k], valid[k] = warp_with_map(frames[k], maps[k])
    progress(Progress(hi, "Aligned"))
    return Alignment(warped, valid, conf, maps, homs, reference, frames)
