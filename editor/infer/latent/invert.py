"""GAN inversion by optimisation, generic over the `Generator` protocol.

Stages (Image2StyleGAN / StyleGAN2 projector, then PTI / Deep Generative Prior):
1. start from the best of a few candidates (the mean w and some samples), by the same loss;
2. optimise w in W (one w for every layer) — for "w+" only the first third, then every layer's w
   separately (W+), with the per-layer noise maps (noise-regularised) where the generator has them;
3. optionally fine-tune the synthesis weights with the latent fixed, for fidelity.
Loss: L2 + L1 + (1 − MS-SSIM) on what was observed, + discriminator feature matching when the
generator carries a discriminator. "What was observed" is a known degradation of the generator's
output, which gives PULSE-like face super-resolution (`mode="superres"`: ×k box downsampling) and
DGP-like face inpainting (`mode="inpaint"`: a hole mask) from the same code.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from editor.core.errors import LucidError
from editor.infer.api import CancelToken, Progress, ProgressFn, no_progress
from editor.infer.latent.generator import Generator, to_image, to_tensor
from editor.infer.latent.losses import ms_ssim, noise_regularisation, normalise_noise, psnr

MODES = ("reconstruct", "superres", "inpaint")
SPACES = ("w", "w+")


@dataclass
class InvertOptions:
    steps: int = 300
    space: str = "w+"
    mode: str = "reconstruct"
    scale: int = 4  # superres: the photo holds 1/scale of the crop's resolution
    hole: np.ndarray | None = None  # inpaint: crop-space H×W, 1 = unknown
    lr: float = 0.05
    l2: float = 1.0
    l1: float = 0.2
    msssim: float = 0.3
    dfeat: float = 0.05
    noise_reg: float = 1e4
    optimise_noise: bool = True
    init_candidates: int = 16
    finetune_steps: int = 0
    finetune_lr: float = 1e-3
    preview_every: int = 10
    seed: int = 0

    def check(self) -> None:
        if self.mode not in MODES:
            raise LucidError(f"Unknown inversion mode '{self.mode}' (use {', '.join(MODES)}).")
        if self.space not in SPACES:
            raise LucidError(f"Unknown latent space '{self.space}' (use w or w+).")
        if self.mode == "inpaint" and self.hole is None:
            raise LucidError("Face inpainting needs a mask of the part to fill.")
        if self.mode == "superres" and self.scale < 2:
            raise LucidError("Face super-resolution needs a scale of 2 or more.")
        if self.steps < 1 or self.finetune_steps < 0:
            raise LucidError("The number of steps must be positive.")


@dataclass
class Inversion:
    """What an inversion found; `generator` is the fine-tuned copy when fine-tuning ran."""

    ws: Tensor  # (1, num_ws, D), detached
    noises: list[Tensor]
    generator: Generator
    base: Generator
    psnr_latent: float
    psnr_final: float
    history: list[tuple[int, str, float]] = field(default_factory=list)
    options: InvertOptions | None = None

    @property
    def tuned(self) -> bool:
        return self.generator is not self.base

    @torch.no_grad()
    def render(self, ws: Tensor | None = None, max_res: int | None = None) -> Tensor:
        return self.generator.synthesis(
            self.ws if ws is None else ws, noise=self.noises or None, max_res=max_res
        )

    def weights_delta(self) -> dict[str, np.ndarray]:
        """Fine-tuned minus original synthesis weights (float16), only tensors that changed."""
        if not self.tuned:
            return {}
        base = self.base.synthesis_module().state_dict()
        out = {}
        for k, v in self.generator.synthesis_module().state_dict().items():
            if k in base and v.is_floating_point() and not torch.equal(v, base[k]):
                out[k] = (v - base[k]).cpu().numpy().astype(np.float16)
        return out


def apply_weights_delta(gen: Generator, delta: dict[str, np.ndarray]) -> Generator:
    """A copy of `gen` with a saved fine-tuning delta added (re-running a recipe)."""
    tuned = copy.deepcopy(gen)
    sd = tuned.synthesis_module().state_dict()
    with torch.no_grad():
        for k, d in delta.items():
            if k not in sd or tuple(sd[k].shape) != tuple(d.shape):
                raise LucidError("The saved fine-tuning does not fit this generator.", detail=k)
            sd[k].add_(torch.from_numpy(np.asarray(d, np.float32)).to(sd[k]))
    return tuned


class _Objective:
    """The inversion loss against one observed crop (degradation applied to the generator output)."""

    def __init__(self, gen: Generator, target: Tensor, opts: InvertOptions):
        self.gen, self.opts = gen, opts
        self.known: Tensor | None = None
        if opts.mode == "inpaint" and opts.hole is not None:
            hole = torch.from_numpy(np.asarray(opts.hole, np.float32)).to(target)
            if hole.shape != target.shape[-2:]:
                raise LucidError("The inpainting mask must be the crop's size.")
            self.known = (hole < 0.5).float()[None, None]
            if self.known.sum() < 16:
                raise LucidError("The inpainting mask covers the whole face: nothing is left to fit.")
        self.target = self.degrade(target)
        self.full_target = target
        self.use_d = opts.dfeat > 0 and opts.mode == "reconstruct"
        feats = gen.discriminator_features(target) if self.use_d else None
        self.target_feats = [f.detach() for f in feats] if feats else None

    def degrade(self, img: Tensor) -> Tensor:
        if self.opts.mode == "superres":
            return F.avg_pool2d(img, self.opts.scale)
        if self.known is not None:
            return img * self.known
        return img

    def __call__(self, img: Tensor) -> Tensor:
        o = self.opts
        x = self.degrade(img)
        diff = x - self.target
        norm = 1.0 if self.known is None else float(self.known.mean())
        loss = o.l2 * diff.pow(2).mean() / norm + o.l1 * diff.abs().mean() / norm
        if o.msssim > 0:
            loss = loss + o.msssim * (1 - ms_ssim((x + 1) / 2, (self.target + 1) / 2)).mean()
        if self.target_feats is not None:
            feats = self.gen.discriminator_features(img) or []
            loss = loss + o.dfeat * sum(
                F.l1_loss(f, t) for f, t in zip(feats, self.target_feats, strict=True)
            )
        return loss

    def score(self, img: Tensor) -> float:
        """PSNR on what was observed (the known pixels, or the downsampled image)."""
        x = self.degrade(img)
        if self.known is not None:
            return psnr(x, self.target, self.known.expand_as(x[:, :1]))
        return psnr(x, self.target)


def _ramp_lr(t: float, base: float) -> float:
    return (
        base * min(1.0, 0.5 - 0.5 * math.cos(min(1.0, (1 - t) / 0.25) * math.pi)) * min(1.0, t / 0.05 + 1e-3)
    )


@torch.no_grad()
def _initial_w(gen: Generator, obj: _Objective, n: int, seed: int) -> Tensor:
    cands = [gen.mean_w()[None]]
    if n > 1:
        cands.append(gen.mapping(gen.sample_latent(n - 1, seed)))
    ws = torch.cat(cands, 0)
    losses = []
    for chunk in ws.split(8):
        imgs = gen.synthesis(chunk[:, None])
        losses += [float(obj(imgs[i : i + 1])) for i in range(imgs.shape[0])]
    return ws[int(np.argmin(losses))][None, None].clone()


@torch.no_grad()
def _w_std(gen: Generator, seed: int) -> float:
    w = gen.mapping(gen.sample_latent(1000, seed + 1))
    return float(((w - gen.mean_w()) ** 2).sum(1).mean().sqrt())


def invert(
    gen: Generator,
    crop: np.ndarray | Tensor,
    opts: InvertOptions | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> Inversion:
    """Invert an aligned crop (H×W×3 float [0, 1] at the generator's resolution, or a [-1, 1] tensor)."""
    opts = opts or InvertOptions()
    opts.check()
    cancel = cancel or CancelToken()
    dev = next(iter(gen.synthesis_module().parameters())).device
    target = crop.to(dev) if isinstance(crop, Tensor) else to_tensor(crop, str(dev))
    if target.shape[-1] != gen.resolution or target.shape[-2] != gen.resolution:
        raise LucidError(f"The face crop must be {gen.resolution}×{gen.resolution} for this generator.")
    torch.manual_seed(opts.seed)
    obj = _Objective(gen, target, opts)
    total = opts.steps + opts.finetune_steps
    history: list[tuple[int, str, float]] = []

    def report(step: int, stage: str, img: Tensor) -> None:
        score = obj.score(img)
        history.append((step, stage, score))
        progress(
            Progress(step / total, f"{stage}: step {step}/{total}, {score:.1f} dB", preview=to_image(img))
        )

    progress(Progress(0.0, "Inverting: choosing a start"))
    w = _initial_w(gen, obj, max(1, opts.init_candidates if gen.resolution <= 256 else 4), opts.seed)
    cancel.check()
    noises = [n.detach().clone() for n in gen.noise_tensors()] if opts.optimise_noise else []
    for n in noises:
        n.requires_grad_(True)
    w_std = _w_std(gen, opts.seed)
    bounds = gen.w_bounds
    w_steps = opts.steps if opts.space == "w" or gen.num_ws == 1 else max(1, opts.steps // 3)
    latent = w.requires_grad_(True)
    optim = torch.optim.Adam([latent, *noises], lr=opts.lr, betas=(0.9, 0.999))
    img = gen.synthesis(latent.detach(), noise=noises or None)
    for step in range(opts.steps):
        cancel.check()
        if step == w_steps:  # W → W+: one w per layer from here on
            latent = latent.detach().expand(-1, gen.num_ws, -1).clone().requires_grad_(True)
            optim = torch.optim.Adam([latent, *noises], lr=opts.lr, betas=(0.9, 0.999))
        t = step / opts.steps
        for g in optim.param_groups:
            g["lr"] = _ramp_lr(t, opts.lr)
        jitter = torch.randn_like(latent) * (w_std * 0.05 * max(0.0, 1 - t / 0.75) ** 2)
        img = gen.synthesis(latent + jitter, noise=noises or None)
        loss = obj(img)
        if noises and opts.noise_reg > 0:
            loss = loss + opts.noise_reg * noise_regularisation(noises)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        if noises:
            normalise_noise(noises)
        if bounds is not None:
            with torch.no_grad():
                latent.clamp_(*bounds)
        if opts.preview_every and (step + 1) % opts.preview_every == 0:
            with torch.no_grad():
                report(step + 1, "Inverting", gen.synthesis(latent, noise=noises or None))
    ws = latent.detach()
    if ws.shape[1] == 1:
        ws = ws.expand(-1, gen.num_ws, -1).clone()
    noises = [n.detach() for n in noises]
    with torch.no_grad():
        score_latent = obj.score(gen.synthesis(ws, noise=noises or None))
    tuned: Any = gen
    if opts.finetune_steps:
        tuned = finetune(gen, ws, noises, obj, opts, report, cancel)
    with torch.no_grad():
        final = tuned.synthesis(ws, noise=noises or None)
    progress(Progress(1.0, "Inverted", preview=to_image(final)))
    return Inversion(ws, noises, tuned, gen, score_latent, obj.score(final), history, opts)


def finetune(
    gen: Generator,
    ws: Tensor,
    noises: list[Tensor],
    obj: _Objective,
    opts: InvertOptions,
    report: Any,
    cancel: CancelToken,
) -> Generator:
    """PTI/DGP: fit the synthesis weights (a copy) to the crop with the latent fixed."""
    tuned = copy.deepcopy(gen)
    obj.gen = tuned  # feature matching reads the copy's discriminator (frozen, identical)
    params = [p for name, p in tuned.synthesis_module().named_parameters() if not name.startswith("style.")]
    for p in params:
        p.requires_grad_(True)
    optim = torch.optim.Adam(params, lr=opts.finetune_lr, betas=(0.9, 0.999))
    for step in range(opts.finetune_steps):
        cancel.check()
        img = tuned.synthesis(ws, noise=noises or None)
        loss = obj(img)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        if opts.preview_every and (step + 1) % opts.preview_every == 0:
            with torch.no_grad():
                report(opts.steps + step + 1, "Fine-tuning", tuned.synthesis(ws, noise=noises or None))
    tuned.requires_grad_(False)
    return tuned
