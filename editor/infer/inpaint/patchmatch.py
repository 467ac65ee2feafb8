"""Exemplar-based completion (Wexler et al. 2007; Barnes et al. 2009; Newson et al. 2017).

Coarse-to-fine: at the coarsest level the hole is a few pixels deep, so a smooth (Telea) fill is a
good start; at every level, EM alternates PatchMatch (each patch touching the hole finds its most
similar hole-free patch) with voting (each hole pixel becomes the weighted mean of what the patches
covering it say). The field is upsampled to seed the next level, which is what carries structure
from coarse to fine. Texture features (local mean of |∂x|, |∂y|) join the colour in the patch
distance, so a smooth patch is not taken as a match for a textured one (the "smearing" failure).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, no_progress
from editor.infer.device import numba_threads
from editor.infer.inpaint import _nnf
from editor.infer.inpaint.classical import diffuse


@dataclass(frozen=True)
class PatchMatchParams:
    patch: int = 9  # patch side (odd)
    feature_weight: float = 3.0  # weight of the texture features against colour
    feature_window: int = 5  # box window (pixels) over which |gradient| is averaged
    # Iteration counts chosen by measurement (tests/bench/bench_inpaint.py, 512² Places2 photos with
    # brush holes): from 10/3/4 to 6/2/2 the fill got 1.8x cheaper for -0.06 dB masked PSNR; one
    # sweep per EM iteration (scan direction alternating across iterations) cut another ~25 % of the
    # CPU time for -0.05 dB.
    em_coarse: int = 6  # EM iterations at the coarsest level
    em_fine: int = 2  # EM iterations at the finest level (linear in between)
    pm_iters: int = 1  # PatchMatch sweeps per EM iteration (each seeded by the previous iteration's field)
    coarsest_depth: float = 2.0  # stop going coarser once the hole is at most this many pixels deep
    min_side: int = 24  # never go coarser than this (pixels, shorter side)
    best_patch_final: bool = True  # finest level: take the best patch instead of the weighted mean
    # Early stops (measured on held-out photos, see tests/bench/bench_inpaint.py): a PatchMatch sweep
    # that improves fewer than `min_gain` of the matches ends the search, and an EM iteration whose
    # vote moves the hole's colours by less than `em_tol` (mean absolute, 0–1 scale) ends the level.
    min_gain: float = 0.02
    em_tol: float = 0.002
    # Structure/texture recombination (see `recombine`): Gaussian σ splitting the two bands, the gain
    # on the copied texture, and the depth ramp (pixels into the hole) over which the copied structure
    # takes over from the diffused one.
    structure_sigma: float = 3.0
    texture_gain: float = 1.25  # >1 makes up for the softening of voting (measured: texture ratio ≈ 0.9)
    ramp: tuple[float, float] = (8.0, 32.0)


def _features(rgb: np.ndarray, window: int, weight: float) -> np.ndarray:
    """Colour plus local texture energy, stacked as an H×W×5 float32 feature image."""
    grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    gx = np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)) * 0.25
    gy = np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)) * 0.25
    tex = np.stack([cv2.blur(gx, (window, window)), cv2.blur(gy, (window, window))], axis=-1)
    return np.concatenate([rgb, tex * weight], axis=-1).astype(np.float32)


def _downsample_hole(hole: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A coarse pixel is hole if any fine pixel under it is: known coarse pixels are truly known."""
    small = cv2.resize(hole.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return small > 1e-6


def _levels(hole: np.ndarray, prm: PatchMatchParams) -> int:
    depth = float(cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3).max())
    n = 1
    side = min(hole.shape)
    while depth > prm.coarsest_depth and side // 2 >= max(prm.min_side, prm.patch * 2 + 1):
        depth /= 2
        side //= 2
        n += 1
    return n


def _smooth_init(rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Telea on the coarsest level: a few pixels deep, so diffusion is a good guess there."""
    return diffuse(rgb, hole, "telea")


def _has_source(hole: np.ndarray, p: int) -> bool:
    k = 2 * p + 1
    touched = cv2.dilate(hole.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    return bool((~touched[p:-p, p:-p]).any()) if min(hole.shape) > 2 * p else False


class _Level:
    """Targets, sources and the field at one pyramid level."""

    def __init__(self, rgb: np.ndarray, hole: np.ndarray, p: int) -> None:
        h, w = hole.shape
        self.rgb, self.hole, self.p = rgb, hole, p
        k = 2 * p + 1
        touched = cv2.dilate(hole.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
        inner = np.zeros((h, w), bool)
        inner[p : h - p, p : w - p] = True
        self.src_ok = inner & ~touched
        tgt = inner & touched
        # Hole pixels within p of the border are covered by centres clamped inward.
        self.ty, self.tx = (a.astype(np.int32) for a in np.nonzero(tgt))
        self.tid = np.full((h, w), -1, np.int32)
        self.tid[self.ty, self.tx] = np.arange(self.ty.size, dtype=np.int32)
        self.sy, self.sx = (a.astype(np.int32) for a in np.nonzero(self.src_ok))
        # First target index of each row (targets are in raster order), for the row-parallel sweeps.
        self.rows = np.searchsorted(self.ty, np.arange(h + 1)).astype(np.int64)


def _weights(nnd: np.ndarray) -> np.ndarray:
    """Similarity weights exp(-d / 2σ²), σ² = the 75th percentile of the distances (Newson et al.)."""
    s2 = float(np.percentile(nnd, 75)) if nnd.size else 1.0
    return np.exp(-nnd.astype(np.float64) / (2.0 * max(s2, 1e-8)))


class _EM:
    """The field, its distances and the feature image at one level, with the two EM steps."""

    def __init__(self, lv: _Level, F: np.ndarray, nny: np.ndarray, nnx: np.ndarray, p: int) -> None:
        self.lv, self.p = lv, p
        self.F = np.ascontiguousarray(F, dtype=np.float32)
        self.k = self.F.shape[2]
        self.nny, self.nnx = np.ascontiguousarray(nny, np.int32), np.ascontiguousarray(nnx, np.int32)
        self.nnd = np.empty(lv.ty.size, np.float32)
        self.sweeps = 0
        self._measure()

    def _flat(self) -> np.ndarray:
        h, w, k = self.F.shape
        return self.F.reshape(h, w * k)

    def _measure(self) -> None:
        lv = self.lv
        _nnf.distances(self._flat(), self.k, lv.ty, lv.tx, self.nny, self.nnx, self.p, self.nnd)

    def search(self, sweeps: int, seed: int, min_gain: float) -> int:
        lv = self.lv
        done = _nnf.patchmatch(self._flat(), self.k, lv.ty, lv.tx, lv.tid, lv.rows, lv.src_ok,
                               self.nny, self.nnx, self.nnd, self.p, sweeps, seed, min_gain, self.sweeps)
        self.sweeps += done
        return done

    def vote(self, best: bool = False) -> float:
        """Re-estimate the hole from the field; return the mean absolute colour change there."""
        lv = self.lv
        if best:
            flat = _nnf.vote_best(self._flat(), self.k, lv.hole, lv.tid, self.nny, self.nnx, self.nnd, self.p)
        else:
            flat = _nnf.vote(self._flat(), self.k, lv.hole, lv.tid, self.nny, self.nnx, _weights(self.nnd),
                             self.p)
        new = flat.reshape(self.F.shape)
        change = float(np.abs(new[..., :3][lv.hole] - self.F[..., :3][lv.hole]).mean())
        self.F = new
        self._measure()
        return change


def fill(
    image: np.ndarray,
    hole: np.ndarray,
    *,
    seed: int = 0,
    params: PatchMatchParams | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Fill `hole` (bool H×W) in an H×W×3 float32 image; pixels outside the hole are returned unchanged.

    `threads`: numba threads for the kernels (default: the worker policy, cores − 1); any count gives
    the same result."""
    with numba_threads(threads):
        return _fill(image, hole, seed=seed, params=params, progress=progress, cancel=cancel)


def _fill(image: np.ndarray, hole: np.ndarray, *, seed: int, params: PatchMatchParams | None,
          progress: ProgressFn, cancel: CancelToken | None) -> np.ndarray:
    prm = params or PatchMatchParams()
    p = prm.patch // 2
    rgb0 = np.ascontiguousarray(image[..., :3], dtype=np.float32)
    hole = hole.astype(bool)
    if not hole.any():
        return rgb0.copy()
    while p > 1 and not _has_source(hole, p):  # small crops: shrink the patch until one fits
        p -= 1
    if not _has_source(hole, p):  # no whole patch left to copy from: diffusion is all there is
        return _smooth_init(rgb0, hole)
    rng = np.random.default_rng(seed)
    n = _levels(hole, prm)
    rgbs, holes = [rgb0], [hole]
    for _ in range(n - 1):
        h, w = holes[-1].shape
        shape = ((h + 1) // 2, (w + 1) // 2)
        coarse = _downsample_hole(holes[-1], shape)
        if not _has_source(coarse, p):  # a level with nothing to copy from is useless: start finer
            break
        rgbs.append(cv2.resize(rgbs[-1], (shape[1], shape[0]), interpolation=cv2.INTER_AREA))
        holes.append(coarse)
    n = len(holes)

    F = None
    prev: _Level | None = None
    prev_nn: tuple[np.ndarray, np.ndarray] | None = None
    for li in range(n - 1, -1, -1):
        if cancel is not None:
            cancel.check()
        step = n - 1 - li
        progress(Progress(step / n, f"Filling: scale {step + 1} of {n}"))
        lv = _Level(rgbs[li], holes[li], p)
        if lv.sy.size == 0:
            raise InferenceError("The hole covers nearly all of the area around it: nothing to copy from.")
        if F is None:
            F = _features(_smooth_init(lv.rgb, lv.hole), prm.feature_window, prm.feature_weight)
            pick = rng.integers(0, lv.sy.size, lv.ty.size)
            nny, nnx = lv.sy[pick].copy(), lv.sx[pick].copy()
        else:
            # Known pixels from this level's image; hole pixels (colour and features) from the coarser result.
            up = cv2.resize(F, (lv.hole.shape[1], lv.hole.shape[0]), interpolation=cv2.INTER_LINEAR)
            F = _features(lv.rgb, prm.feature_window, prm.feature_weight)
            F[lv.hole] = up[lv.hole]
            nny, nnx = _upsample_field(lv, prev, prev_nn, rng)
        em = _EM(lv, F, nny, nnx, p)
        if prev is not None:
            em.vote()
        frac = li / max(n - 1, 1)
        n_em = round(prm.em_fine + (prm.em_coarse - prm.em_fine) * frac)
        for it in range(n_em):
            em.search(prm.pm_iters, int(rng.integers(0, 2**31 - 1)), prm.min_gain)
            last = li == 0 and (it == n_em - 1)
            change = em.vote(best=last and prm.best_patch_final)
            if last:
                break
            if change < prm.em_tol and it + 1 < n_em:
                if li == 0 and prm.best_patch_final:  # converged: the finest level still ends on best-patch
                    em.vote(best=True)
                break
        F, nny, nnx = em.F, em.nny, em.nnx
        prev, prev_nn = lv, (nny, nnx)
    progress(Progress(1.0, "Filled"))
    out = rgb0.copy()
    out[hole] = F[..., :3][hole]
    return recombine(out, _smooth_init(rgb0, hole), hole, prm)


def recombine(
    copied: np.ndarray, diffused: np.ndarray, hole: np.ndarray, prm: PatchMatchParams
) -> np.ndarray:
    """Structure from diffusion near the hole's edge, copied structure deeper in, copied texture everywhere.

    Why: near the boundary a diffused fill predicts the low frequencies better than any copied patch
    (it interpolates the actual surrounding colours), while deep inside a hole diffusion smears and the
    copied structure is the better guess. High frequencies come only from the copied fill, so the hole
    keeps real texture instead of the blur that diffusion gives.
    """
    s = prm.structure_sigma
    low_c = cv2.GaussianBlur(copied, (0, 0), s)
    low_d = cv2.GaussianBlur(diffused, (0, 0), s)
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    d0, d1 = prm.ramp
    b = np.clip((depth - d0) / max(d1 - d0, 1e-6), 0.0, 1.0)[..., None]
    mixed = low_d + b * (low_c - low_d) + prm.texture_gain * (copied - low_c)
    out = copied.copy()
    out[hole] = np.clip(mixed[hole], 0.0, 1.0)
    return out


def _upsample_field(
    lv: _Level, prev: _Level | None, prev_nn: tuple[np.ndarray, np.ndarray] | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Seed this level's field from the coarser one: match (y, x) ↦ 2·match(y/2, x/2) + (y, x) mod 2."""
    assert prev is not None and prev_nn is not None
    cy = np.minimum(lv.ty // 2, prev.tid.shape[0] - 1)
    cx = np.minimum(lv.tx // 2, prev.tid.shape[1] - 1)
    j = prev.tid[cy, cx]
    pick = rng.integers(0, lv.sy.size, lv.ty.size)
    nny, nnx = lv.sy[pick].copy(), lv.sx[pick].copy()
    has = j >= 0
    h, w = lv.hole.shape
    p = lv.p
    uy = np.clip(prev_nn[0][j[has]] * 2 + (lv.ty[has] & 1), p, h - p - 1)
    ux = np.clip(prev_nn[1][j[has]] * 2 + (lv.tx[has] & 1), p, w - p - 1)
    ok = lv.src_ok[uy, ux]
    idx = np.nonzero(has)[0][ok]
    nny[idx], nnx[idx] = uy[ok], ux[ok]
    return nny.astype(np.int32), nnx.astype(np.int32)
