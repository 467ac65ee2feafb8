"""Sub-pixel background registration and the composite's per-frame cover (issue 17, round 3).

A diamond fence over a textured background with its own 45° stripes: the registration must recover
the background's motion from 4 px off to a fraction of a pixel, and only because both images'
fences are left out (with the fence kept in, it follows the fence or slides along the stripes).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from synth import grid_burst, stripes, texture

from editor.core.metrics import psnr
from editor.infer.obstruction import remove_obstruction
from editor.infer.obstruction.register import _fence_like, _gray, robust_search, turned_search

W, H, M = 200, 160, 24
OFF = np.array([[1.004, 0.003, 2.37], [-0.002, 0.997, -1.61], [1e-5, 0, 1]])  # ~4 px off, not a pure shift


def _burst(seed: int):
    canvas = texture(H + 2 * M, W + 2 * M, seed) * stripes(H + 2 * M, W + 2 * M, 9, 45)
    return grid_burst(canvas, M, pitch=20, thickness=4, angle=30, pattern="diamond", bg_motion=8, seed=seed)


def _error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest displacement between two homographies over the image's interior."""
    ys, xs = np.mgrid[16 : H - 16 : 8, 16 : W - 16 : 8]
    p = np.float32(np.stack([xs.ravel(), ys.ravel()], 1)).reshape(-1, 1, 2)
    d = cv2.perspectiveTransform(p, a) - cv2.perspectiveTransform(p, b)
    return float(np.linalg.norm(d, axis=-1).max())


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_registration_recovers_the_background_motion_behind_a_fence(seed):
    b = _burst(seed)
    k, true = 0, b.homographies[0]
    start = OFF @ true
    clear = b.alpha < 0.05  # the reference's background
    cover = _cover(b, k)  # the frame's fence
    ref, frame = _gray(b.frames[b.reference]), _gray(b.frames[k])
    assert _error(start, true) > 3.5
    assert _error(robust_search(ref, frame, start, clear, cover), true) < 0.3
    # The same search with the fences kept in ends far off.
    assert _error(robust_search(ref, frame, start, np.ones_like(clear)), true) > 1.0


def _cover(b, k: int) -> np.ndarray:
    """Frame k's own fence (frame pixels), a pixel wider."""
    cover = cv2.warpPerspective(b.alpha, b.obstruction_homographies[k], (W, H))
    return cv2.dilate((cover > 0.05).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 3, 4])
def test_wide_search_recovers_a_motion_many_pixels_off_behind_a_thick_grid(seed):
    """A thick square grid (6 px of 20) hides a third of the texture; the layer search's motion
    ~15 px off (an alias): the search near it stays 5–9 px off, the wide one must land < 0.3 px."""
    canvas = texture(H + 2 * M, W + 2 * M, seed)
    b = grid_burst(canvas, M, pitch=20, thickness=6, angle=20, bg_motion=8, seed=seed)
    true = b.homographies[0]
    start = np.array([[1, 0, 11.3], [0, 1, -9.6], [0, 0, 1]]) @ true
    ref, frame, clear = _gray(b.frames[b.reference]), _gray(b.frames[0]), b.alpha < 0.05
    assert _error(start, true) > 14
    assert _error(robust_search(ref, frame, start, clear, _cover(b, 0)), true) > 3
    assert _error(turned_search(ref, frame, start, clear, _cover(b, 0)), true) < 0.3


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_search_afresh_finds_a_turned_background_behind_a_thick_grid(seed):
    """A 6 px square grid of pitch 22 (half the pixels hidden; DEV case 11's grid), the camera turned 2°
    and moved 12 px; the layer search's candidates on such bursts are shifts, many px off. From such a
    start (the true shift at the centre plus an alias 11 px off, no turn) the search near it stays
    > 2 px off; the masked search over turns must land < 1 px (measured on seeds 0-5: 0.10-0.48 px).
    The round-3 wide search (shifts only, on quarter-size copies) on seeds 0-5: 5.6, 1.2, 5.6, 0.2,
    6.0, 12.2 px (these seeds are three where it fails)."""
    b = grid_burst(texture(H + 2 * M, W + 2 * M, seed), M, pitch=22, thickness=6, angle=40, bg_motion=12,
                   rotation=2.0, seed=seed)
    true = b.homographies[0]
    centre = cv2.perspectiveTransform(np.float32([[[W / 2, H / 2]]]), true)[0, 0] - [W / 2, H / 2]
    start = np.array([[1, 0, centre[0] + 11.0], [0, 1, centre[1] - 4.0], [0, 0, 1]])
    ref, frame, clear = _gray(b.frames[b.reference]), _gray(b.frames[0]), b.alpha < 0.05
    assert _error(start, true) > 10
    assert _error(robust_search(ref, frame, start, clear, _cover(b, 0)), true) > 2
    assert _error(turned_search(ref, frame, start, clear, _cover(b, 0)), true) < 1.0


@pytest.mark.parametrize("seed", [1, 2])
def test_fence_over_stripes_gains_from_registration_and_per_frame_cover(seed):
    """The whole fence path on the same kind of burst. Measured before these steps (seeds 1, 2):
    +7.4 / +7.9 dB; registration alone +8.6 / +6.0; per-frame cover alone +11.0 / +12.1; both
    +14.1 / +13.3 (the reference frame unchanged: +0)."""
    b = _burst(seed)
    out = remove_obstruction(b.frames, kind="fence")
    gain = psnr(out.background, b.background, border=8) - psnr(b.frames[b.reference], b.background, border=8)
    assert gain > 12.5


def test_obstruction_colour_test_flags_the_frames_fence_not_its_background():
    """The registration also leaves out pixels of the obstruction's colour, learnt from the reference's
    pixels the obstruction's motion explains (here: only the fence's core, a third of it): in another
    frame it must flag that frame's whole fence and leave most of the background."""
    b = grid_burst(texture(H + 2 * M, W + 2 * M, 2), M, pitch=24, thickness=7, angle=20, bg_motion=8, seed=2)
    core = cv2.erode((b.alpha > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    like = _fence_like(b.frames[b.reference], core)
    assert like is not None
    frame_fence = cv2.warpPerspective(b.alpha, b.obstruction_homographies[0], (W, H)) > 0.5
    flagged = like(b.frames[0])
    assert flagged[frame_fence].mean() > 0.98
    # 0.41 of this grey texture; a colour taken from the background flags only 12 % of the fence
    assert flagged[~frame_fence].mean() < 0.5
    assert _fence_like(b.frames[b.reference], None) is None
