"""The joint two-layer solve on its own: known motions in, both layers out, constraints kept."""

from __future__ import annotations

import numpy as np
import pytest
from synth import texture

from editor.core.metrics import psnr
from editor.infer.api import Cancelled, CancelToken
from editor.infer.obstruction.layer_solve import solve_layers, warp_matrix

H, W = 72, 96
SHIFTS = [(0.0, 0.0), (5.0, 1.5), (-4.0, 3.0), (2.5, -5.0), (-3.0, -2.0)]


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    b = 0.8 * texture(H, W, 7)
    r = 0.3 * texture(H, W, 8)
    motions = [None] + [_translation(dx, dy) for dx, dy in SHIFTS[1:]]
    stack, weights = [], []
    for m in motions:
        if m is None:
            moved, inside = r, np.ones((H, W), bool)
        else:
            mat, inside = warp_matrix(m, H, W)
            moved = (mat @ r.reshape(-1, 3)).reshape(H, W, 3)
        stack.append(b + moved + rng.normal(0, 0.005, b.shape).astype(np.float32))
        weights.append(inside.astype(np.float32))
    return np.stack(stack), np.stack(weights), motions, b, r


def test_warp_matrix_samples_at_the_homography():
    img = np.arange(H * W, dtype=np.float32).reshape(H, W)
    mat, inside = warp_matrix(_translation(2.0, 1.0), H, W)
    out = (mat @ img.ravel()).reshape(H, W)
    assert np.allclose(out[10:20, 10:20], img[11:21, 12:22])
    assert not inside[:, -2:].any() and not inside[-1].any() and inside[: H - 1, : W - 2].all()


def test_solve_recovers_both_layers_from_a_biased_start(problem):
    stack, weights, motions, b, r = problem
    start = stack.min(axis=0)  # the low-percentile guess: too bright by the reflection's smooth part
    gb, gr = solve_layers(stack, weights, motions, start, np.clip(stack[0] - start, 0, 1))
    inner = (slice(8, -8), slice(8, -8))
    # Measured: background 28.3 dB (start 18.7), reflection 28.3 dB, bias +0.035 (start +0.109).
    assert psnr(gb[inner], b[inner]) > psnr(start[inner], b[inner]) + 8.0
    assert psnr(gb[inner], b[inner]) > 26.0 and psnr(gr[inner], r[inner]) > 26.0
    bias, start_bias = float((gb - b)[inner].mean()), float((start - b)[inner].mean())
    assert abs(bias) < 0.4 * start_bias  # most of the brightness bias of the start is gone
    assert gb.min() >= 0.0 and gr.min() >= 0.0 and gb.max() <= 1.0 and gr.max() <= 1.0


def test_solve_stops_when_cancelled(problem):
    stack, weights, motions, b, _ = problem
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        solve_layers(stack, weights, motions, b, b, cancel=token)
