"""Joint solve of two additive layers given their motions: the heart of reflection removal.

Model (Xue et al. 2015; Szeliski et al. 2000), in the reference frame's coordinates after the burst
is aligned on the background: A_k = B + V_k R + noise, where V_k resamples the reflection R by its
own homography. We minimise Σ_k ‖√w_k (A_k − B − V_k R)‖² subject to 0 ≤ B, R ≤ 1.

Why a global solve instead of per-pixel min/median rules: the split between B and R is decided by
how R moves relative to B, and for smooth (low-frequency) content that information is spread over
the whole image. Per-pixel bounds only move it a motion step per pass, so the background keeps the
reflection's smooth part (it comes out too bright, or too dark after a bias correction). A
coarse-to-fine pyramid lets the low frequencies converge cheaply at small sizes; accelerated
projected gradient (FISTA with adaptive restart) handles the box constraints at every level.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import scipy.sparse as sp

from editor.infer.api import CancelToken

# Pyramid: (scale, iterations). Small levels are cheap and carry the slow, low-frequency modes.
LEVELS: tuple[tuple[float, int], ...] = ((0.0625, 2000), (0.125, 1200), (0.25, 500), (0.5, 120), (1.0, 40))
MIN_SIDE = 24  # a level smaller than this has too few pixels to say anything about motion


def warp_matrix(hom: np.ndarray, h: int, w: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Sparse bilinear resampling: (M r)(x) = r(hom·x) for an h×w image; plus where hom·x is inside.

    A matrix (not cv2.warpPerspective) because the solver needs the exact adjoint Mᵀ.
    """
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    pts = np.stack([gx.ravel(), gy.ravel(), np.ones(h * w)])
    q = hom @ pts
    u, v = q[0] / q[2], q[1] / q[2]
    inside = (u >= 0) & (u <= w - 1) & (v >= 0) & (v <= h - 1)
    u, v = np.clip(u, 0, w - 1), np.clip(v, 0, h - 1)
    x0 = np.minimum(np.floor(u).astype(np.int64), w - 2)
    y0 = np.minimum(np.floor(v).astype(np.int64), h - 2)
    fx, fy = u - x0, v - y0
    rows = np.repeat(np.arange(h * w), 4)
    base = y0 * w + x0
    cols = np.stack([base, base + 1, base + w, base + w + 1], 1).ravel()
    vals = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], 1).ravel()
    m = sp.csr_matrix((vals.astype(np.float32), (rows, cols)), shape=(h * w, h * w))
    return m, inside.reshape(h, w)


class _Problem:
    """The quadratic data term at one pyramid level, flattened to N×C columns."""

    def __init__(self, stack: np.ndarray, weights: np.ndarray, mats: Sequence[sp.csr_matrix | None]):
        n = stack.shape[0]
        self.a = stack.reshape(n, -1, stack.shape[-1])
        self.w = weights.reshape(n, -1, 1)
        self.m = list(mats)
        self.mt = [None if m is None else m.T.tocsr() for m in mats]

    def grad(
        self, b: np.ndarray, r: np.ndarray, data: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of ½Σ w (A − B − M R)²; with `data` zero it is the Hessian applied to (b, r)."""
        a = self.a if data is None else data
        gb = np.zeros_like(b)
        gr = np.zeros_like(r)
        for k, (m, mt) in enumerate(zip(self.m, self.mt, strict=True)):
            wr = self.w[k] * (a[k] - b - (r if m is None else m @ r))
            gb -= wr
            gr -= wr if mt is None else mt @ wr
        return gb, gr

    def lipschitz(self, iters: int = 12) -> float:
        """Largest Hessian eigenvalue by power iteration (step size of the gradient method)."""
        rng = np.random.default_rng(0)
        b = rng.standard_normal(self.a.shape[1:]).astype(np.float32)
        r = rng.standard_normal(self.a.shape[1:]).astype(np.float32)
        zero = np.zeros_like(self.a)
        lam = 1.0
        for _ in range(iters):
            norm = float(np.sqrt((b * b).sum() + (r * r).sum())) + 1e-12
            gb, gr = self.grad(b / norm, r / norm, zero)
            lam = float(np.sqrt((gb * gb).sum() + (gr * gr).sum()))
            b, r = gb, gr
        return 1.05 * lam + 1e-6


def _fista(
    prob: _Problem, b: np.ndarray, r: np.ndarray, iters: int, cancel: CancelToken | None
) -> tuple[np.ndarray, np.ndarray]:
    """Projected accelerated gradient on [0, 1]² with O'Donoghue–Candès restart."""
    step = 1.0 / prob.lipschitz()
    yb, yr, t = b.copy(), r.copy(), 1.0
    for it in range(iters):
        if cancel is not None and it % 50 == 0:
            cancel.check()
        gb, gr = prob.grad(yb, yr)
        nb = np.clip(yb - step * gb, 0.0, 1.0)
        nr = np.clip(yr - step * gr, 0.0, 1.0)
        if float(((yb - nb) * (nb - b)).sum() + ((yr - nr) * (nr - r)).sum()) > 0:
            t = 1.0  # momentum overshot: restart
        tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
        yb = nb + (t - 1) / tn * (nb - b)
        yr = nr + (t - 1) / tn * (nr - r)
        b, r, t = nb, nr, tn
    return b, r


def _resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    shrink = img.shape[1] > w
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def solve_layers(
    stack: np.ndarray,
    weights: np.ndarray,
    motions: Sequence[np.ndarray | None],
    background: np.ndarray,
    reflection: np.ndarray,
    *,
    levels: Sequence[tuple[float, int]] = LEVELS,
    cancel: CancelToken | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Background and reflection (H×W×3, reference coordinates) from an aligned N×H×W×3 stack.

    `motions[k]` maps a pixel of aligned frame k to the reflection's pixel in the reference
    (None: the same pixel, as for the reference itself); `weights` (N×H×W) says how much each
    sample is trusted (0 = unseen or unusable). `background`/`reflection` start the coarsest level.
    """
    n, h, w, _ = stack.shape
    b, r = background, reflection
    for scale, iters in levels:
        hs, ws = round(h * scale), round(w * scale)
        if min(hs, ws) < MIN_SIDE and scale < 1.0:
            continue
        s = np.diag([ws / w, hs / h, 1.0])
        a = stack if scale == 1.0 else np.stack([_resize(f, ws, hs) for f in stack])
        wl = (weights if scale == 1.0 else np.stack([_resize(x, ws, hs) for x in weights])).astype(np.float32)
        mats: list[sp.csr_matrix | None] = []
        for k in range(n):
            if motions[k] is None:
                mats.append(None)
                continue
            m, inside = warp_matrix(s @ motions[k] @ np.linalg.inv(s), hs, ws)
            mats.append(m)
            wl[k] = wl[k] * inside
        prob = _Problem(a, wl, mats)
        c = a.shape[-1]
        b0 = _resize(b, ws, hs).reshape(-1, c)
        r0 = _resize(r, ws, hs).reshape(-1, c)
        bf, rf = _fista(prob, b0, r0, iters, cancel)
        b, r = bf.reshape(hs, ws, c), rf.reshape(hs, ws, c)
    return b.astype(np.float32), r.astype(np.float32)
