"""Super-resolution task: upscale an image 1–4× with a spandrel-loaded model, tiled and seam-free.

Params (all optional): `scale` (float in [1, 4], default the model's own scale), `size` ([width,
height], overrides scale), `tile` (input tile side; default from free memory), `overlap` (input
pixels shared by neighbouring tiles; default from the architecture), `alpha` ("resize" or "model").

Why it is shaped this way:
- The network always runs at its native scale; any other scale (2×, 2.5×, 1×) is a Lanczos downscale
  of that output, which keeps detail the network made and avoids the aliasing of a plain resample.
- Alpha is not an image the networks were trained on: by default it gets a smooth, antialiased
  resize (bicubic up, Lanczos down — never nearest); `alpha="model"` runs it through the network as
  gray instead, sharper on hard cut-outs but twice the work.
- On the CPU a model converted from ncnn files runs in ncnn (`ctx.load_ncnn`) unless torch was measured
  faster on this CPU (`editor.infer.cpu_runtime`); torch runs everything else, and takes over if ncnn
  is missing or fails. The result's info says which ("backend").
- Pixels stay float32 from input to output, so 16-bit sources keep their precision; the caller
  quantises at the file boundary.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from editor.infer.api import (
    CancelToken,
    InferenceError,
    Progress,
    ProgressFn,
    Request,
    Result,
)
from editor.infer.ncnn_runtime import NcnnRunError
from editor.infer.tiling import run_tiled

log = logging.getLogger(__name__)

MIN_SCALE, MAX_SCALE = 1.0, 4.0
# Working memory per *input* pixel while the network runs: peak RSS growth on CPU, float32, measured
# by tests/bench/bench_superres.py (tilemem: x4plus 13.7 kB, SRGAN 12.1 kB, compact 0.9 kB). Unknown
# architectures (a user's SwinIR, say) get a deliberately larger guess. ncnn runs x4plus in 13.0 kB at
# 256² (its head in strips, editor.infer.ncnn_runtime), so the CPU tiles (~272²) keep this budget.
_BYTES_PER_INPUT_PX = {"ESRGAN": 14_000, "SRGAN": 12_500, "Compact": 1_000}
_DEFAULT_BYTES_PER_PX = 32_000
# Whole-output buffers: run_tiled's float64 accumulator (24 B/px for RGB) and weights (8) and its
# float32 result (12) at the model's scale; the Lanczos result, the alpha and the written copy at the
# final size (12 + 4 + 16).
_TILED_BYTES_PER_PX = 44
_FINAL_BYTES_PER_PX = 32
# On the CPU a bigger tile only saves overlap work, so tiles get at most this much working memory:
# that keeps a 1024² → 4096² x4plus job near 2 GB of RSS (bench: rss) on any machine.
_CPU_WORK_BUDGET = 1 << 30
_MAX_TILE = 1024
# channels_last on CPU, measured at 256² with one thread (bench_superres, speed): compact 7.4 → 3.2 s,
# SRGAN 21.0 → 8.2 s, x4plus 91.5 → 80.7 s. Architectures not measured keep the default layout.
_CHANNELS_LAST_ON_CPU = {"Compact", "SRGAN", "ESRGAN"}


@dataclass(frozen=True)
class Plan:
    """What a run will do; computed before any pixel is touched so bad parameters fail fast."""

    out_h: int
    out_w: int
    model_scale: int
    tile: int
    overlap: int


def _arch_id(model: Any) -> str:
    arch = getattr(model, "architecture", None)
    return str(getattr(arch, "id", type(getattr(model, "model", model)).__name__))


def default_overlap(model: Any) -> int:
    """Input-pixel overlap between tiles, from the network's receptive field.

    The tiler drops the outer quarter of the overlap and feathers the middle half. The compact net
    sees `num_conv + 2` pixels around it, so 4× that makes tiles exact; RRDBNet's field is far larger
    than any affordable overlap, but its influence fades within a few dozen pixels (bench: seams).
    """
    if _arch_id(model) == "Compact":
        num_conv = getattr(model, "num_conv", None)  # an ncnn net counts its own
        if num_conv is None:
            num_conv = getattr(getattr(model, "model", None), "num_conv", 16)
        num_conv = int(num_conv)
        return int(math.ceil(4 * (num_conv + 2) / 8) * 8)
    return 32


def output_size(h: int, w: int, params: dict[str, Any], model_scale: int) -> tuple[int, int]:
    """(out_h, out_w) from `size` or `scale`, checked against what the model can do."""
    if params.get("size") is not None:
        try:
            tw, th = (int(v) for v in params["size"])
        except (TypeError, ValueError) as exc:
            raise InferenceError(
                f"Target size must be two whole numbers (width, height), got {params['size']!r}.") from exc
        if th < 1 or tw < 1:
            raise InferenceError(f"Target size {tw}×{th} is not a valid image size.")
        ratio = max(th / h, tw / w)
        if ratio < MIN_SCALE - 1e-6 or ratio > min(MAX_SCALE, model_scale) + 1e-6:
            raise InferenceError(f"Target size {tw}×{th} is a ×{ratio:.2f} enlargement of {w}×{h}; "
                                 f"choose between ×{MIN_SCALE:g} and ×{min(MAX_SCALE, model_scale):g}.")
        return th, tw
    scale = float(params.get("scale") or model_scale)
    if not math.isfinite(scale) or scale < MIN_SCALE or scale > MAX_SCALE:
        raise InferenceError(f"Scale must be between {MIN_SCALE:g} and {MAX_SCALE:g}, got {scale:g}.")
    if scale > model_scale:
        raise InferenceError(f"This model enlarges at most ×{model_scale}; use ×{model_scale} or less.")
    return max(1, math.floor(h * scale + 0.5)), max(1, math.floor(w * scale + 0.5))


def plan(image_shape: tuple[int, ...], model: Any, params: dict[str, Any], device: str = "cpu",
         max_tile: int | None = None) -> Plan:
    """Output size, tile and overlap for an image of `image_shape` on `device`."""
    h, w = image_shape[:2]
    model_scale = int(getattr(model, "scale", 1))
    out_h, out_w = output_size(h, w, params, model_scale)
    overlap = int(params.get("overlap") if params.get("overlap") is not None else default_overlap(model))
    if overlap < 0:
        raise InferenceError("Tile overlap cannot be negative.")
    if params.get("tile"):
        tile = int(params["tile"])
    else:  # auto: never so small that the overlap eats most of each tile
        tile = max(choose_tile(h, w, model, device), min(2 * overlap, -(-max(h, w) // 8) * 8))
    if max_tile:
        tile = min(tile, int(max_tile))
    if tile >= max(h, w):
        return Plan(out_h, out_w, model_scale, tile, 0)  # one tile: nothing to blend
    if tile < max(16, overlap + 8):
        raise InferenceError(f"Tile size {tile} is too small for an overlap of {overlap} pixels; "
                             f"use at least {max(16, overlap + 8)}.")
    return Plan(out_h, out_w, model_scale, tile, overlap)


def check_output_memory(h: int, w: int, model_scale: int, out_h: int, out_w: int) -> None:
    """Refuse, before anything is allocated, an output larger than the document memory budget."""
    from editor.core.budget import current_budget

    tiled = h * model_scale * w * model_scale * _TILED_BYTES_PER_PX
    need = tiled + out_h * out_w * _FINAL_BYTES_PER_PX
    current_budget().check(need, f"Upscaling {w}×{h} to {out_w}×{out_h}")


def choose_tile(h: int, w: int, model: Any, device: str) -> int:
    """Tile side from free memory and the architecture's measured appetite (a multiple of 8, ≥ 64)."""
    from editor.infer.device import free_memory_bytes

    per_px = _BYTES_PER_INPUT_PX.get(_arch_id(model), _DEFAULT_BYTES_PER_PX)
    budget = free_memory_bytes(device) // 2
    if device == "cpu":
        budget = min(budget, _CPU_WORK_BUDGET)
    side = min(int(math.sqrt(budget / per_px)) // 8 * 8, _MAX_TILE)
    whole = -(-max(h, w) // 8) * 8
    return max(64, min(side, whole))


class TorchRunner:
    """Calls the model on one float32 H×W×3 tile and returns float32 (H·s)×(W·s)×3."""

    backend = "torch"

    def __init__(self, model: Any, device: str, half: bool) -> None:
        import torch

        self.torch = torch
        self.model = model
        self.device = torch.device(device)
        self.dtype = torch.float16 if half else torch.float32
        self.channels_last = device == "cpu" and _arch_id(model) in _CHANNELS_LAST_ON_CPU
        model.to(self.device)
        model.to(self.dtype)
        model.eval()
        if self.channels_last:
            model.model.to(memory_format=torch.channels_last)

    def __call__(self, tile: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(tile.transpose(2, 0, 1)))[None]
            x = x.to(self.device, self.dtype)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = self.model(x)
            return y[0].float().permute(1, 2, 0).cpu().numpy().astype(np.float32, copy=False)


def lanczos_resize(image: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Antialiased Lanczos resize of float32 H×W×C (Pillow's "F" mode keeps full float precision)."""
    from PIL import Image

    if image.shape[:2] == (out_h, out_w):
        return image
    chans = [np.asarray(Image.fromarray(np.ascontiguousarray(image[..., c]), mode="F")
                        .resize((out_w, out_h), Image.Resampling.LANCZOS)) for c in range(image.shape[2])]
    return np.clip(np.stack(chans, axis=-1), 0.0, 1.0).astype(np.float32)


def smooth_resize(channel: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Resize a single H×W channel: bicubic to enlarge, Lanczos to shrink; clipped to [0, 1]."""
    from PIL import Image

    h, w = channel.shape
    method = Image.Resampling.BICUBIC if out_h >= h and out_w >= w else Image.Resampling.LANCZOS
    img = Image.fromarray(np.ascontiguousarray(channel, dtype=np.float32), mode="F")
    return np.clip(np.asarray(img.resize((out_w, out_h), method)), 0.0, 1.0).astype(np.float32)


def _with_eta(progress: ProgressFn, lo: float, hi: float, label: str) -> ProgressFn:
    """Map a stage's progress into [lo, hi] and add an ETA from the stage's pace so far."""
    t0 = time.monotonic()

    def report(p: Progress) -> None:
        frac = lo + (hi - lo) * p.fraction
        elapsed = time.monotonic() - t0
        text = p.stage.replace("Processing", label) or label
        if 0 < p.fraction < 1 and elapsed > 0.5:
            left = elapsed * (1 - p.fraction) / p.fraction
            text += f", about {_fmt_seconds(left)} left"
        progress(Progress(frac, text))

    return report


def _fmt_seconds(s: float) -> str:
    whole = max(1, round(s))
    minutes, seconds = divmod(whole, 60)
    return f"{whole} s" if minutes == 0 else f"{minutes} min {seconds:02d} s"


def _as_rgb(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Split H×W×C (C in 1–4) into RGB, alpha (or None) and the colour channel count."""
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise InferenceError(f"Upscaling needs a gray, gray+alpha, RGB or RGBA image, not {image.shape}.")
    colour = 1 if image.shape[2] in (1, 2) else 3
    rgb = image[..., :colour]
    alpha = image[..., colour] if image.shape[2] in (2, 4) else None
    if colour == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    return np.ascontiguousarray(rgb, dtype=np.float32), alpha, colour


def _to_gray(rgb: np.ndarray) -> np.ndarray:
    """Back to one channel for gray sources (Rec. 601 luma, as the gray input was replicated)."""
    return (rgb @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]


def run(request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
    start = time.monotonic()
    if request.image is None:
        raise InferenceError("Upscaling needs an image.")
    ctx = request.context
    if not request.model_id:
        raise InferenceError("Choose an upscaling model.")
    if ctx.load_model is None:
        raise InferenceError("No model loader was provided for this job.")
    params = dict(request.params)
    alpha_mode = params.get("alpha", "resize")
    if alpha_mode not in ("resize", "model"):
        raise InferenceError(f"Alpha handling must be 'resize' or 'model', not {alpha_mode!r}.")
    image = np.asarray(request.image, dtype=np.float32)
    rgb, alpha, colour = _as_rgb(image)
    w = rgb.shape[1]

    progress(Progress(0.0, "Loading model"))
    # On the CPU a model converted from ncnn files may run in ncnn (whichever was measured faster here,
    # editor.infer.cpu_runtime); the net describes itself, so the torch model loads only when torch runs.
    net = ctx.load_ncnn(request.model_id) if ctx.device == "cpu" and ctx.load_ncnn is not None else None
    model = net if net is not None else ctx.load_model(request.model_id)
    cancel.check()
    if getattr(model, "input_channels", 3) != 3 or getattr(model, "output_channels", 3) != 3:
        raise InferenceError(f"Model '{request.model_id}' is not an RGB upscaler "
                             f"({getattr(model, 'input_channels', '?')} input channels).")
    p = plan(rgb.shape, model, params, ctx.device, ctx.max_tile)
    check_output_memory(rgb.shape[0], rgb.shape[1], p.model_scale, p.out_h, p.out_w)
    from editor.infer.device import use_half

    half = bool(ctx.half or use_half(ctx.device, model)) and bool(getattr(model, "supports_half", False))
    runner = net if net is not None else TorchRunner(model, ctx.device, half)
    multiple = int(getattr(getattr(model, "size_requirements", None), "multiple_of", 1) or 1)
    model_alpha = alpha is not None and alpha_mode == "model" and not np.all(alpha == 1.0)
    hi = 0.45 if model_alpha else 0.9

    def tiled(img: np.ndarray, lo: float, top: float, label: str) -> np.ndarray:
        return run_tiled(img, runner, scale=p.model_scale, tile=p.tile, overlap=p.overlap, multiple=multiple,
                         progress=_with_eta(progress, lo, top, label), cancel=cancel, stage="Processing")

    try:
        up = tiled(rgb, 0.0, hi, "Upscaling")
    except NcnnRunError as exc:  # the torch model computes the same thing: finish the job with it
        log.warning("%s; upscaling in torch instead", exc)
        runner = TorchRunner(ctx.load_model(request.model_id), ctx.device, half)
        up = tiled(rgb, 0.0, hi, "Upscaling")
    cancel.check()
    out = lanczos_resize(up, p.out_h, p.out_w)
    del up
    if colour == 1:
        out = _to_gray(out)
    if alpha is not None:
        progress(Progress(hi, "Upscaling alpha"))
        if np.all(alpha == 1.0):
            up_alpha = np.ones((p.out_h, p.out_w), np.float32)
        elif model_alpha:
            gray = np.repeat(alpha[..., None], 3, axis=2)
            up_alpha = lanczos_resize(tiled(gray, hi, 0.9, "Upscaling alpha"), p.out_h, p.out_w).mean(axis=2)
        else:
            up_alpha = smooth_resize(alpha, p.out_h, p.out_w)
        out = np.concatenate([out, up_alpha[..., None]], axis=2)
    cancel.check()
    progress(Progress(1.0, "Done"))
    info = {
        "model_id": request.model_id,
        "architecture": _arch_id(model),
        "model_scale": p.model_scale,
        "scale": p.out_w / w,
        "size": [p.out_w, p.out_h],
        "tile": p.tile,
        "overlap": p.overlap,
        "device": ctx.device,
        "half": half,
        "backend": runner.backend,
        "alpha": alpha_mode if alpha is not None else None,
        "seconds": round(time.monotonic() - start, 3),
    }
    return Result(images={"image": np.ascontiguousarray(out, dtype=np.float32)}, info=info)
