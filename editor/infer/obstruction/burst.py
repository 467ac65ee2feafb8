"""Burst input: check and normalise the frames before any pixel work, so users get one clear refusal."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from editor.core.pixels import to_float
from editor.infer.api import InferenceError

MIN_FRAMES = 3
MAX_FRAMES = 7


def as_float_rgb(frame: np.ndarray) -> np.ndarray:
    """One frame as float32 H×W×3 in [0, 1]; alpha is dropped (a burst is photographs, not layers)."""
    a = np.asarray(frame)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise InferenceError(f"A burst frame must be an RGB image; got an array of shape {a.shape}.")
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return np.clip(to_float(a[..., :3]), 0.0, 1.0)


def prepare_burst(
    frames: Sequence[np.ndarray] | np.ndarray, reference: int | None = None
) -> tuple[np.ndarray, int]:
    """Stack 3–7 frames of one size into N×H×W×3 float32 and resolve the reference index.

    Orientation is the loader's job (EXIF applied there); here frames must already agree in size,
    because guessing a rotation or rescaling behind the user's back would be a silent fallback.
    """
    frames = list(frames) if not isinstance(frames, np.ndarray) or frames.ndim == 4 else [frames]
    n = len(frames)
    if not MIN_FRAMES <= n <= MAX_FRAMES:
        raise InferenceError(
            f"Obstruction removal needs a burst of {MIN_FRAMES} to {MAX_FRAMES} frames; got {n}. "
            "For a single photo, brush the obstruction and use inpainting instead."
        )
    rgb = [as_float_rgb(f) for f in frames]
    h, w = rgb[0].shape[:2]
    for i, f in enumerate(rgb[1:], start=1):
        if f.shape[:2] != (h, w):
            turned = " (it looks rotated: check the camera orientation)" if f.shape[:2] == (w, h) else ""
            raise InferenceError(
                f"Frame {i + 1} is {f.shape[1]}×{f.shape[0]} but frame 1 is {w}×{h}{turned}; "
                "all frames of a burst must have the same size."
            )
    if min(h, w) < 32:
        raise InferenceError(f"Frames of {w}×{h} are too small to align; use at least 32×32 pixels.")
    ref = n // 2 if reference is None else int(reference)
    if not 0 <= ref < n:
        raise InferenceError(f"Reference frame {ref + 1} does not exist; the burst has {n} frames (1–{n}).")
    return np.stack(rgb), ref
