"""align → separate → refine, for a burst; the one entry point the task, CLI and bench share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, no_progress
from editor.infer.obstruction.align import align_burst
from editor.infer.obstruction.burst import prepare_burst
from editor.infer.obstruction.guess import guess_kind
from editor.infer.obstruction.layers import KINDS, Layers, noise_sigma
from editor.infer.obstruction.refine import Refiner, refine_opaque, refine_reflection
from editor.infer.obstruction.separate import separate_opaque, separate_reflection


def remove_obstruction(
    frames: Sequence[np.ndarray] | np.ndarray,
    *,
    kind: str = "auto",
    reference: int | None = None,
    refiner: Refiner | None = None,
    periodic_alignment: bool = False,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> Layers:
    """Background and obstruction layers of `frames[reference]` (default: the middle frame).

    `kind` is "fence" (any opaque obstruction), "reflection" or "auto". `refiner` replaces the
    classical refine stage (for example a learned network) without touching alignment or separation.
    `periodic_alignment` lets no regular pattern (a fence's mesh, a zebra's stripes) decide the
    background motion of an opaque obstruction (opt-in for now; see `align.estimate_homography`).
    """
    if kind not in KINDS:
        raise InferenceError(f"Unknown obstruction kind '{kind}'; use one of: {', '.join(KINDS)}.")
    burst, ref = prepare_burst(frames, reference)
    al = align_burst(
        burst,
        ref,
        thin=kind != "reflection",
        periodic=periodic_alignment and kind != "reflection",
        progress=progress,
        cancel=cancel,
        span=(0.0, 0.4) if kind != "auto" else (0.0, 0.25),
    )
    sigma = noise_sigma(burst[ref])
    score = None
    chosen = kind
    if kind == "auto":
        chosen, score = guess_kind(al, sigma)
        if chosen == "reflection":  # the first pass filtered thin detail out: align again with it
            al = align_burst(burst, ref, thin=False, progress=progress, cancel=cancel, span=(0.25, 0.4))
    _check(cancel)
    progress(Progress(0.45, f"Separating layers ({chosen})"))
    if chosen == "fence":
        layers = separate_opaque(al, sigma)
        # Second pass: the flow now knows where the obstruction is and smooths over it instead of
        # letting fence wires pull the background warp.
        al = align_burst(
            burst,
            ref,
            ignore=layers.info["departures"],
            homographies=al.homographies,
            progress=progress,
            cancel=cancel,
            span=(0.5, 0.75),
        )
        layers = separate_opaque(al, sigma)
        layers = (refiner or refine_opaque)(
            layers, al, sigma, progress=progress, cancel=cancel, span=(0.8, 1.0)
        )
    else:
        layers = separate_reflection(al, sigma)
        layers = (refiner or refine_reflection)(
            layers, al, sigma, progress=progress, cancel=cancel, span=(0.5, 1.0)
        )
    layers.info.update(
        {
            "kind": chosen,
            "requested_kind": kind,
            "reference": ref,
            "frames": len(burst),
            "noise_sigma": round(sigma, 5),
        }
    )
    if score is not None:
        layers.info["auto_score"] = round(score, 3)
    progress(Progress(1.0, "Done"))
    return layers


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.check()
