"""Numba kernels for patch-based completion: nearest-neighbour fields (PatchMatch) and voting.

Why numba: PatchMatch's propagation is a sequential scan (each pixel reuses its already-updated
neighbours' matches), which numpy cannot vectorise. The kernels are small and few so the cold
compile stays short, and `cache=True` keeps it a one-time cost per installation.

Conventions for every kernel: `F` is an H×W×K float32 feature image (colour plus texture features);
patches are (2p+1)² squares addressed by their centre; centres lie in [p, H-p-1]×[p, W-p-1].
Targets are the centres of patches that touch the hole (listed in raster order in `ty`, `tx`, with
`tid[y, x]` their index or -1); sources are centres of patches that hold no hole pixel (`src_ok`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _dist(F, ty, tx, sy, sx, p, cutoff):
    """Sum of squared differences between two patches; stops early once past `cutoff`."""
    k = F.shape[2]
    d = 0.0
    for dy in range(-p, p + 1):
        for dx in range(-p, p + 1):
            for c in range(k):
                e = F[ty + dy, tx + dx, c] - F[sy + dy, sx + dx, c]
                d += e * e
        if d >= cutoff:
            return d
    return d


@njit(cache=True, nogil=True)
def distances(F, ty, tx, nny, nnx, p, out):
    """Distance of every target patch to its current match."""
    for k in range(ty.shape[0]):
        out[k] = _dist(F, ty[k], tx[k], nny[k], nnx[k], p, np.inf)


@njit(cache=True, nogil=True)
def patchmatch(F, ty, tx, tid, src_ok, nny, nnx, nnd, p, iters, seed):
    """Improve the field in place: alternating-scan propagation plus exponentially shrinking random search."""
    np.random.seed(seed)
    h, w = src_ok.shape
    n = ty.shape[0]
    for it in range(iters):
        if it % 2 == 0:
            start, stop, step, dlt = 0, n, 1, -1
        else:
            start, stop, step, dlt = n - 1, -1, -1, 1
        for k in range(start, stop, step):
            y = ty[k]
            x = tx[k]
            by = nny[k]
            bx = nnx[k]
            bd = nnd[k]
            # Propagation: the already-visited neighbour's match, shifted back by one pixel.
            for axis in range(2):
                j = tid[y, x + dlt] if axis == 0 else tid[y + dlt, x]
                if j < 0:
                    continue
                cy = nny[j] - dlt * axis
                cx = nnx[j] - dlt * (1 - axis)
                if cy < p or cy >= h - p or cx < p or cx >= w - p or not src_ok[cy, cx]:
                    continue
                if cy == by and cx == bx:
                    continue
                d = _dist(F, y, x, cy, cx, p, bd)
                if d < bd:
                    by, bx, bd = cy, cx, d
            # Random search around the best match, radius halving down to one pixel.
            r = max(h, w)
            while r >= 1:
                cy = by + np.random.randint(-r, r + 1)
                cx = bx + np.random.randint(-r, r + 1)
                cy = min(max(cy, p), h - p - 1)
                cx = min(max(cx, p), w - p - 1)
                if src_ok[cy, cx] and not (cy == by and cx == bx):
                    d = _dist(F, y, x, cy, cx, p, bd)
                    if d < bd:
                        by, bx, bd = cy, cx, d
                r //= 2
            nny[k] = by
            nnx[k] = bx
            nnd[k] = bd


@njit(cache=True, nogil=True)
def vote(F, hole, ty, tx, nny, nnx, wt, p):
    """Rebuild hole pixels as the weighted mean of what every overlapping patch's match says."""
    h, w, kk = F.shape
    acc = np.zeros((h, w, kk), np.float64)
    ws = np.zeros((h, w), np.float64)
    for k in range(ty.shape[0]):
        wk = wt[k]
        for dy in range(-p, p + 1):
            qy = ty[k] + dy
            sy = nny[k] + dy
            for dx in range(-p, p + 1):
                qx = tx[k] + dx
                if not hole[qy, qx]:
                    continue
                sx = nnx[k] + dx
                for c in range(kk):
                    acc[qy, qx, c] += wk * F[sy, sx, c]
                ws[qy, qx] += wk
    out = F.copy()
    for y in range(h):
        for x in range(w):
            if hole[y, x] and ws[y, x] > 0:
                for c in range(kk):
                    out[y, x, c] = acc[y, x, c] / ws[y, x]
    return out


@njit(cache=True, nogil=True)
def vote_best(F, hole, ty, tx, nny, nnx, nnd, p):
    """Rebuild hole pixels from the single best-matching patch that covers each (no averaging blur)."""
    h, w, kk = F.shape
    best = np.full((h, w), np.inf)
    out = F.copy()
    for k in range(ty.shape[0]):
        d = nnd[k]
        for dy in range(-p, p + 1):
            qy = ty[k] + dy
            for dx in range(-p, p + 1):
                qx = tx[k] + dx
                if hole[qy, qx] and d < best[qy, qx]:
                    best[qy, qx] = d
                    for c in range(kk):
                        out[qy, qx, c] = F[nny[k] + dy, nnx[k] + dx, c]
    return out
