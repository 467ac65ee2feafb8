"""Trimap → alpha with pymatting's solvers, and alpha → foreground colours.

Each engine solves only in a crop around the unknown band: pymatting allocates its Laplacian for
every pixel it is given (about 400 bytes per pixel for closed-form), and the known pixels far from
the band carry no information the solver needs. For closed-form the crop is exact (the Laplacian
couples pixels at most 2·radius apart); for KNN and large-kernel it changes the result slightly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from editor.core.errors import LucidError
from editor.infer.matting.trimap import BACKGROUND, FOREGROUND, UNKNOWN
from editor.infer.numba_cache import configure_numba_cache

Engine = Literal["cf", "knn", "lkm"]
ENGINES: dict[str, str] = {"cf": "closed-form", "knn": "KNN", "lkm": "large-kernel"}

#: Closed-form regularisation used by Levin et al.'s reference code (and pymatting's default).
CF_EPSILON = 1e-7
LKM_RADIUS = 10


def _bbox(mask: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)),
    )


def _cg_kwargs(check: Callable[[], None] | None, maxiter: int) -> dict:
    kwargs: dict = {"maxiter": maxiter}
    if check is not None:
        kwargs["callback"] = lambda *_args: check()
    return kwargs


def _solve(engine: str, image: np.ndarray, trimap: np.ndarray, epsilon: float, kwargs: dict) -> np.ndarray:
    configure_numba_cache()
    import pymatting

    image64 = np.ascontiguousarray(image, dtype=np.float64)
    trimap64 = np.ascontiguousarray(trimap, dtype=np.float64)
    if engine == "cf":
        return pymatting.estimate_alpha_cf(
            image64, trimap64, laplacian_kwargs={"epsilon": epsilon}, cg_kwargs=kwargs
        )
    if engine == "knn":
        return pymatting.estimate_alpha_knn(image64, trimap64, cg_kwargs=kwargs)
    if engine == "lkm":
        radius = max(1, min(LKM_RADIUS, (min(trimap.shape) - 1) // 4))  # its box filters need 4r+1 pixels
        return pymatting.estimate_alpha_lkm(
            image64, trimap64, laplacian_kwargs={"epsilon": epsilon, "radius": radius}, cg_kwargs=kwargs
        )
    raise LucidError(f"Unknown matting engine '{engine}'. Choose one of: {', '.join(ENGINES)}.")


def estimate_alpha(
    image: np.ndarray,
    trimap: np.ndarray,
    engine: str = "cf",
    *,
    epsilon: float | None = None,
    check: Callable[[], None] | None = None,
    maxiter: int = 10000,
) -> np.ndarray:
    """Alpha (float32 H×W in [0, 1]) for an RGB float image and a snapped trimap {0, 0.5, 1}.

    `check` is called between solver iterations (pass `cancel.check` to make the solve cancellable).
    Known pixels keep their trimap value exactly.
    """
    if engine not in ENGINES:
        raise LucidError(f"Unknown matting engine '{engine}'. Choose one of: {', '.join(ENGINES)}.")
    if image.ndim != 3 or image.shape[2] < 3 or image.shape[:2] != trimap.shape:
        raise LucidError("The image and the trimap must have the same width and height.")
    rgb = image[..., :3]
    unknown = trimap == UNKNOWN
    alpha = np.where(trimap == FOREGROUND, 1.0, 0.0).astype(np.float32)
    if not unknown.any():
        return alpha
    if epsilon is None:
        epsilon = CF_EPSILON if engine == "cf" else 1e-7
    margin = {"cf": 4, "knn": 16, "lkm": 2 * LKM_RADIUS + 2}[engine]
    box = _bbox(unknown, margin)
    assert box is not None
    sub_t = trimap[box]
    if not ((sub_t == FOREGROUND).any() and (sub_t == BACKGROUND).any()):
        box = (slice(None), slice(None))  # the band touches only one side nearby: solve on the whole image
        sub_t = trimap
    if not ((sub_t == FOREGROUND).any() and (sub_t == BACKGROUND).any()):
        raise LucidError("The trimap needs both some foreground (white) and some background (black).")
    solved = _solve(engine, rgb[box], sub_t, epsilon, _cg_kwargs(check, maxiter))
    alpha[box] = np.where(sub_t == UNKNOWN, solved, sub_t).astype(np.float32)
    return alpha


def estimate_foreground(image: np.ndarray, alpha: np.ndarray, margin: int = 32) -> np.ndarray:
    """Foreground colours (float32 H×W×3) free of background colour bleeding at soft edges.

    Uses pymatting's multilevel estimator (Germer et al.) on a crop around the partly transparent
    pixels; elsewhere the foreground is the image itself (it only matters where alpha > 0).
    """
    configure_numba_cache()
    import pymatting

    rgb = np.ascontiguousarray(image[..., :3], dtype=np.float32)
    out = rgb.copy()
    soft = (alpha > 1e-3) & (alpha < 1 - 1e-3)
    box = _bbox(soft, margin)
    if box is None:
        return out
    fg = pymatting.estimate_foreground_ml(rgb[box], np.ascontiguousarray(alpha[box], dtype=np.float32))
    out[box] = np.clip(fg, 0.0, 1.0)
    return out


def cutout(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA float32 from foreground colours and alpha."""
    return np.concatenate([foreground[..., :3], alpha[..., None]], axis=2).astype(np.float32)
