"""Two layer hypotheses, one judge (issue 17): a thick grid (7 px of a 30 px pitch) over a smooth photo
with bricks, where the appearance-priced layer search takes an alias of the grid for the background's
motion (the held-out burst that lost 0.30 dB). The occlusion-aware price (`layered_misfit`) offers the
right motions as a second hypothesis, and the frames redrawn from each composite (`render_misfit`)
choose between them."""

from __future__ import annotations

import numpy as np
import pytest
from synth import bricks, cover, grid_burst, texture

from editor.core.metrics import psnr
from editor.core.pixels import to_float
from editor.infer.obstruction import layered, remove_obstruction
from editor.infer.obstruction.burst import prepare_burst
from editor.infer.obstruction.composite import (
    background_alignment,
    compose_background,
    judged_misfit,
    render_misfit,
)
from editor.infer.obstruction.layered import LayerMotions, full_size_mask, layered_misfit, misfit
from editor.infer.obstruction.layers import noise_sigma
from editor.io.images import load_image

W, H, M = 320, 240, 24
BIRD = "sr/Set5/x4/img_002_SRF_4_HR.png"


@pytest.fixture(scope="module")
def thick_grid_burst():
    """A thick square grid over texture: the truth, to price and to draw again."""
    canvas = texture(160 + 2 * M, 200 + 2 * M, 7)
    return grid_burst(canvas, M, pitch=30, thickness=7, angle=25, bg_motion=12, rotation=1.0, seed=7)


def _true_motions(b) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    ref = b.reference
    bg = [np.asarray(h, np.float64) for h in b.homographies]
    ob = [None if k == ref else np.asarray(h, np.float64) for k, h in enumerate(b.obstruction_homographies)]
    return bg, ob


def _alias(bg: list[np.ndarray], ob: list[np.ndarray | None]) -> list[np.ndarray]:
    """The grid's motion taken for the background's (the alias the layer search fell for)."""
    return [bg[k] if o is None else o for k, o in enumerate(ob)]


def _layer_motions(frames, ref: int, background: list, ob: list) -> LayerMotions:
    mask, front = full_size_mask(frames, ref, background, ob)
    return LayerMotions(background, ob, mask, front)


def test_layered_misfit_forgives_the_occlusions_the_pair_predicts(thick_grid_burst):
    """The right pair's price falls below its plain price (each pixel by its better motion, the
    background the grid hides in the frame charged in full). Which order is right is not decided
    here: the swapped order is priced about the same (the judge is `render_misfit`)."""
    b = thick_grid_burst
    bg, ob = _true_motions(b)
    ref = b.frames[b.reference]
    for k in (0, 1):
        frame = b.frames[k]
        right = layered_misfit(ref, frame, bg[k], ob[k])
        plain = np.minimum(
            np.nan_to_num(misfit(ref, frame, bg[k], slack=1), nan=np.inf),
            np.nan_to_num(misfit(ref, frame, ob[k], slack=1), nan=np.inf),
        )
        plain_mean = float(np.minimum(plain, layered.TRUNCATE).mean())
        # measured: 0.0238 against 0.0269 (frame 0), 0.0198 against 0.0257 (frame 1)
        assert right < 0.95 * plain_mean, (k, right, plain_mean)


def test_render_misfit_tells_the_true_motions_from_the_grids(thick_grid_burst):
    """The same burst composed twice: on the true motions, and with the grid's motion taken for the
    background's (the alias the layer search fell for). Redrawing the frames tells them apart."""
    b = thick_grid_burst
    frames, ref = prepare_burst(b.frames, b.reference)
    sigma = noise_sigma(frames[ref])
    bg, ob = _true_motions(b)
    scores = {}
    for name, background in (("true", bg), ("grid taken for background", _alias(bg, ob))):
        motions = _layer_motions(frames, ref, background, ob)
        layers = compose_background(background_alignment(frames, ref, motions), motions, sigma)
        scores[name] = render_misfit(frames, motions, layers)
    # measured: 0.026 against 0.059
    assert scores["true"] < 0.6 * scores["grid taken for background"], scores


def test_the_judge_decides_the_same_on_small_copies(thick_grid_burst):
    """`judged_misfit` composes on copies no larger than its `side` (the pipeline's choice at any size)."""
    b = thick_grid_burst
    frames, ref = prepare_burst(b.frames, b.reference)
    bg, ob = _true_motions(b)
    scores = {}
    for name, background in (("true", bg), ("alias", _alias(bg, ob))):
        scores[name] = judged_misfit(frames, ref, _layer_motions(frames, ref, background, ob), side=120)
    # measured at 120×96: 0.033 against 0.058
    assert scores["true"] < 0.7 * scores["alias"], scores


def test_thick_grid_over_bricks_keeps_the_background_not_the_grid(shared_data):
    """The burst that failed on HELD-OUT (now DEV case 17 of the bench): with one hypothesis (the
    appearance price alone) −0.30 dB; the pipeline must gain at least the issue's 3 dB (+19.7 dB)."""
    img = to_float(load_image(shared_data / BIRD).pixels)[..., :3]
    bg = cover(img, W + 2 * M, H + 2 * M)
    bg = bg * bricks(*bg.shape[:2], seed=106)
    b = grid_burst(bg, M, pitch=30, thickness=7, angle=25, bg_motion=20, rotation=1.0, seed=106)
    out = remove_obstruction(b.frames, kind="fence", reference=b.reference)
    gain = psnr(out.background, b.background, border=8) - psnr(b.frames[b.reference], b.background, border=8)
    assert gain >= 3.0, gain
    assert out.info["hypotheses"] == 2
