"""Trimap engines against references: the original MATLAB closed-form output, and exact alpha."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.core.errors import LucidError
from editor.infer.matting.engines import cutout, estimate_alpha, estimate_foreground
from editor.infer.matting.trimap import UNKNOWN, snap_trimap

pytestmark = pytest.mark.usefixtures("matting_warm")


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0


def _grey(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"), np.float32) / 255.0


def test_closed_form_matches_matlab_reference(shared_data: Path) -> None:
    """BAR: MSE ≤ 1e-4. The reference (Levin et al.'s MATLAB code, ε = 1e-7) was computed from the
    scribbles: pixels where scribbles.png differs from source.png are constrained to its value."""
    d = shared_data / "matting" / "closed_form_testdata"
    image, scribbles = _rgb(d / "source.png"), _rgb(d / "scribbles.png")
    reference = _grey(d / "matlab_alpha.png")
    constrained = np.abs(image - scribbles).sum(axis=2) > 0.001
    trimap = np.full(image.shape[:2], UNKNOWN, np.float32)
    trimap[constrained] = np.round(scribbles[..., 0][constrained])
    assert 0.01 < constrained.mean() < 0.1  # scribbles, not a dense trimap
    alpha = estimate_alpha(image, trimap, "cf", epsilon=1e-7)
    assert alpha.shape == reference.shape and alpha.dtype == np.float32
    mse = float(((alpha - reference) ** 2).mean())
    assert mse <= 1e-4, mse
    # not a trivially flat answer: the matte really spans foreground and background
    assert (alpha > 0.9).mean() > 0.1 and (alpha < 0.1).mean() > 0.1


@pytest.mark.parametrize(("engine", "max_norm"), [("cf", 3.1), ("lkm", 3.1), ("knn", 9.0)])
def test_engine_error_on_exact_synthetic_alpha(shared_data: Path, engine: str, max_norm: float) -> None:
    """pymatting's 32×32 composite with exact alpha; the cf bound 3.1 is pymatting's own test bound."""
    d = shared_data / "matting" / "pymatting" / "synthetic_test"
    image, gt = _rgb(d / "test.png"), _grey(d / "test_alpha.png")
    trimap = snap_trimap(_grey(d / "test_trimap.png"))
    alpha = estimate_alpha(image, trimap, engine)
    err = float(np.linalg.norm(alpha - gt))
    trivial = float(np.linalg.norm(trimap - gt))  # "unknown = 0.5" guess
    assert err < max_norm, err
    assert err < 0.7 * trivial
    known = trimap != UNKNOWN
    np.testing.assert_array_equal(alpha[known], trimap[known])


def test_foreground_estimate_removes_background_colour() -> None:
    h, w = 24, 48
    fg_true = np.zeros((h, w, 3), np.float32)
    fg_true[..., 0] = 0.9  # red subject
    bg = np.zeros((h, w, 3), np.float32)
    bg[..., 1] = 0.8  # over green
    alpha = np.tile(np.linspace(1.0, 0.0, w, dtype=np.float32), (h, 1))
    image = fg_true * alpha[..., None] + bg * (1 - alpha[..., None])
    fg = estimate_foreground(image, alpha)
    soft = (alpha > 0.2) & (alpha < 0.8)
    # the image itself carries up to 0.64 green in that band; the estimate carries almost none
    assert image[soft][:, 1].max() > 0.3
    assert np.abs(fg[soft] - fg_true[soft]).max() < 0.05
    rgba = cutout(fg, alpha)
    assert rgba.shape == (h, w, 4) and np.array_equal(rgba[..., 3], alpha)


def test_engine_errors_are_readable() -> None:
    image = np.zeros((8, 8, 3), np.float32)
    trimap = np.full((8, 8), 0.5, np.float32)
    trimap[:, 0] = 1.0
    with pytest.raises(LucidError, match="engine"):
        estimate_alpha(image, trimap, "bayes")
    with pytest.raises(LucidError, match="background"):
        estimate_alpha(image, trimap, "cf")


def test_solver_calls_check_so_it_can_be_cancelled() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((40, 40, 3)).astype(np.float32)
    trimap = np.full((40, 40), 0.5, np.float32)
    trimap[:, :5], trimap[:, 35:] = 0.0, 1.0

    class Stop(Exception):
        pass

    def check() -> None:
        raise Stop

    with pytest.raises(Stop):
        estimate_alpha(image, trimap, "cf", check=check)
