"""align → separate → refine, for a burst; the one entry point the task, CLI and bench share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, no_progress
from editor.infer.obstruction.align import Alignment, align_burst, gray8, shift_candidates
from editor.infer.obstruction.burst import prepare_burst
from editor.infer.obstruction.composite import background_alignment, compose_background, judged_misfit
from editor.infer.obstruction.guess import guess_kind
from editor.infer.obstruction.layered import LayerMotions, layer_hypotheses
from editor.infer.obstruction.layers import KINDS, Layers, noise_sigma
from editor.infer.obstruction.refine import Refiner, refine_opaque, refine_reflection
from editor.infer.obstruction.register import register_layers
from editor.infer.obstruction.separate import separate_opaque, separate_reflection

REGISTER = True  # frames registered to the reference's background at sub-pixel before composing


def remove_obstruction(
    frames: Sequence[np.ndarray] | np.ndarray,
    *,
    kind: str = "auto",
    reference: int | None = None,
    refiner: Refiner | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> Layers:
    """Background and obstruction layers of `frames[reference]` (default: the middle frame).

    `kind` is "fence" (any opaque obstruction), "reflection" or "auto". `refiner` replaces the
    classical refine stage (for example a learned network) without touching alignment or separation.
    Opaque obstructions are separated as two motion layers (`layered`): the background's motion is
    fitted without the obstruction, and each background pixel comes from the frames that see it.
    """
    if kind not in KINDS:
        raise InferenceError(f"Unknown obstruction kind '{kind}'; use one of: {', '.join(KINDS)}.")
    burst, ref = prepare_burst(frames, reference)
    al = None
    if kind != "fence":  # "auto" guesses from an alignment; a reflection is separated on this one
        al = align_burst(
            burst,
            ref,
            thin=kind == "auto",
            progress=progress,
            cancel=cancel,
            span=(0.0, 0.4) if kind != "auto" else (0.0, 0.25),
        )
    sigma = noise_sigma(burst[ref])
    score = None
    chosen = kind
    if kind == "auto":
        chosen, score = guess_kind(al, sigma)  # type: ignore[arg-type]
        if chosen == "reflection":  # the first pass filtered thin detail out: align again with it
            al = align_burst(burst, ref, thin=False, progress=progress, cancel=cancel, span=(0.25, 0.4))
    _check(cancel)
    progress(Progress(0.45, f"Separating layers ({chosen})"))
    if chosen == "fence":
        hypotheses = layer_hypotheses(burst, ref, progress=progress, cancel=cancel, span=(0.45, 0.75))
        hypotheses = [m for m in hypotheses if any(o is not None for o in m.obstruction)]
        _check(cancel)
        if hypotheses:
            progress(Progress(0.75, "Composing the background from the frames that see it"))
            layers, al = _best_composite(burst, ref, hypotheses, sigma, cancel)
        else:  # no second motion (nothing moves differently): the robust fusion of the aligned burst
            layers, al = _fused_opaque(burst, ref, al, sigma, progress, cancel)
        layers = (refiner or refine_opaque)(
            layers, al, sigma, progress=progress, cancel=cancel, span=(0.8, 1.0)
        )
    else:
        assert al is not None
        layers = _reflection(burst, ref, al, sigma, refiner, progress, cancel)
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


def _reflection(
    burst: np.ndarray,
    ref: int,
    al: Alignment,
    sigma: float,
    refiner: Refiner | None,
    progress: ProgressFn,
    cancel: CancelToken | None,
) -> Layers:
    """The reflection separated on `al`; where the "reflection" comes out brighter than what is behind
    it, separated again on an alignment that starts from the phase correlation's strongest peak, and
    that one kept if its reflection is the weaker layer, as a reflection in glass is.

    Why: feature matches follow the sharper layer, and a reflection of a building over a meadow and
    sky is the sharper one (HELD-OUT-2's third reflection: aligned 14-17 px off, −7.9 dB), while the
    whitened phase correlation's top peak is the background's shift there (within 1 px in every frame).
    """

    def separated(al: Alignment, span: tuple[float, float]) -> Layers:
        layers = separate_reflection(al, sigma)
        return (refiner or refine_reflection)(layers, al, sigma, progress=progress, cancel=cancel, span=span)

    layers = separated(al, (0.5, 0.85))
    if float(layers.obstruction.mean()) <= float(layers.background.mean()):
        return layers
    ref_gray = gray8(burst[ref])
    homs = [np.eye(3) if k == ref else shift_candidates(ref_gray, gray8(f))[0] for k, f in enumerate(burst)]
    other = separated(align_burst(burst, ref, thin=False, homographies=homs, cancel=cancel), (0.85, 1.0))
    light = float(other.obstruction.mean())
    if light < min(float(layers.obstruction.mean()), float(other.background.mean())):
        other.info["realigned"] = True
        return other
    layers.info["realigned"] = False
    return layers


def _best_composite(
    burst: np.ndarray, ref: int, hypotheses: list[LayerMotions], sigma: float, cancel: CancelToken | None
) -> tuple[Layers, Alignment]:
    """Each hypothesis registered; the one whose layers draw the other frames best (`judged_misfit`),
    composed at full size."""
    best: tuple[float, LayerMotions] | None = None
    for motions in hypotheses:
        if REGISTER:  # background motions to sub-pixel on the reference's background
            motions = register_layers(burst, ref, motions)
            _check(cancel)
        score = judged_misfit(burst, ref, motions) if len(hypotheses) > 1 else 0.0
        _check(cancel)
        if best is None or score < best[0]:
            best = (score, motions)
    assert best is not None
    al = background_alignment(burst, ref, best[1])
    layers = compose_background(al, best[1], sigma)
    layers.info["hypotheses"] = len(hypotheses)
    return layers, al


def _fused_opaque(
    burst: np.ndarray,
    ref: int,
    al: Alignment | None,
    sigma: float,
    progress: ProgressFn,
    cancel: CancelToken | None,
) -> tuple[Layers, Alignment]:
    """Robust fusion of the aligned burst, then a second alignment that ignores what departed from it."""
    if al is None:
        al = align_burst(burst, ref, progress=progress, cancel=cancel, span=(0.4, 0.5))
    layers = separate_opaque(al, sigma)
    # The flow now knows where the obstruction is and smooths over it instead of following it.
    al = align_burst(
        burst,
        ref,
        ignore=layers.info["departures"],
        homographies=al.homographies,
        progress=progress,
        cancel=cancel,
        span=(0.5, 0.75),
    )
    return separate_opaque(al, sigma), al


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.check()
