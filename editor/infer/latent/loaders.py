"""Open a generator file in any of the supported layouts, safely, and save one back.

- rosinality `.pt/.pth`: `{"g_ema": state_dict, "latent_avg": tensor, "d": state_dict?}` (or a bare
  `g_ema` dict) through `torch.load(weights_only=True)`;
- NVIDIA `.pkl` (stylegan2-ada-pytorch, or StyleGAN2 configs of the stylegan3 repo) through
  `nvidia_pickle` (its embedded source is never run), names mapped onto rosinality's;
- `.safetensors`: the rosinality layout flattened with `g_ema.` / `d.` prefixes plus `latent_avg`;
- the BEGAN test generator (a plain legacy `torch.save` state dict).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from editor.infer.api import InferenceError
from editor.infer.download import sha256_file
from editor.infer.latent.began import BEGANGenerator, build_began, is_began
from editor.infer.latent.generator import CropSpec, Generator
from editor.infer.latent.nvidia_pickle import init_kwargs, module_tensors, read_network_pickle
from editor.infer.latent.stylegan2 import StyleGAN2Generator, build_discriminator, build_from_state_dict
from editor.infer.safe_load import torch_load_checked

StateDict = dict[str, Tensor]


def load_generator(
    path: Path | str, *, discriminator: bool = True, crop: CropSpec | None = None
) -> Generator:
    """A ready generator (CPU, eval mode, no grads) for a weights file; `sha256` set from the file."""
    path = Path(path)
    if not path.is_file():
        raise InferenceError(f"Generator file {path} does not exist.")
    ext = path.suffix.lower()
    if ext == ".pkl":
        g_sd, avg, d_sd = _from_nvidia(path)
    elif ext == ".safetensors":
        g_sd, avg, d_sd = _split(_safetensors(path))
    elif ext in (".pt", ".pth", ".ckpt"):
        g_sd, avg, d_sd = _split(_torch_load(path))
    else:
        raise InferenceError(
            f"{path.name}: unsupported generator format '{ext}' (use .pkl, .pt, .pth or .safetensors)."
        )
    sha = sha256_file(path)
    try:
        if is_began(g_sd):
            net = build_began(g_sd)
            net.load_state_dict(g_sd, strict=True)
            gen: Any = BEGANGenerator(net, sha256=sha) if crop is None else BEGANGenerator(net, crop, sha)
        elif "style.1.weight" in g_sd:
            g = build_from_state_dict(g_sd)
            _load_strict(g, g_sd)
            d = None
            if discriminator and d_sd:
                d = build_discriminator(d_sd)
                _load_strict(d, d_sd)
            gen = StyleGAN2Generator(g, avg, d, crop or CropSpec(), sha)
        else:
            raise InferenceError(f"{path.name}: not a StyleGAN2 or BEGAN generator (unknown weight names).")
    except (RuntimeError, KeyError, ValueError) as exc:
        raise InferenceError(
            f"{path.name}: the weights do not fit the generator architecture.",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    gen.eval().requires_grad_(False)
    return gen


def _load_strict(module: torch.nn.Module, sd: StateDict) -> None:
    missing, unexpected = module.load_state_dict(
        {k: v for k, v in sd.items() if not k.endswith(".kernel")}, strict=False
    )
    if missing or unexpected:
        raise KeyError(f"missing {missing[:5]}, unexpected {unexpected[:5]}")


def _split(raw: dict[str, Any]) -> tuple[StateDict, Tensor | None, StateDict | None]:
    """(g_ema, latent_avg, d) from a nested (torch) or prefixed (safetensors) dict."""
    if isinstance(raw.get("g_ema"), dict):
        d = raw.get("d") if isinstance(raw.get("d"), dict) else None
        return dict(raw["g_ema"]), raw.get("latent_avg"), d
    if any(k.startswith("g_ema.") for k in raw):
        g = {k[6:]: v for k, v in raw.items() if k.startswith("g_ema.")}
        d = {k[2:]: v for k, v in raw.items() if k.startswith("d.")} or None
        return g, raw.get("latent_avg"), d
    return {k: v for k, v in raw.items() if isinstance(v, Tensor)}, raw.get("latent_avg"), None


def _torch_load(path: Path) -> dict[str, Any]:
    try:
        # rosinality's training checkpoints carry their argparse.Namespace: plain data, allowed.
        raw = torch_load_checked(path, allowed=(argparse.Namespace,))
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise InferenceError(
            f"{path.name} is not a readable weights file.", detail=f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(raw, dict):
        raise InferenceError(f"{path.name} does not hold a generator state dict.")
    return raw


def _safetensors(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    try:
        return dict(load_file(str(path), device="cpu"))
    except Exception as exc:  # safetensors raises its own error type
        raise InferenceError(f"{path.name} is not a readable safetensors file.", detail=str(exc)) from exc


# --- NVIDIA names → rosinality names ----------------------------------------------------------


def _from_nvidia(path: Path) -> tuple[StateDict, Tensor | None, StateDict | None]:
    data = read_network_pickle(path)
    g_obj = data.get("G_ema", data.get("G"))
    if g_obj is None:
        raise InferenceError(f"{path.name} holds no generator (no G_ema or G).")
    name = getattr(g_obj, "class_name", "")
    if "stylegan3" in name:
        raise InferenceError(
            f"{path.name} is a StyleGAN3 (alias-free) network; only StyleGAN2 networks are supported."
        )
    if int(init_kwargs(g_obj).get("c_dim", 0) or 0) > 0:
        raise InferenceError(
            f"{path.name} is a class-conditional generator; only unconditional ones are supported."
        )
    nv = module_tensors(g_obj)
    if "synthesis.b4.const" not in nv:
        raise InferenceError(
            f"{path.name}: the generator is not a StyleGAN2 network (no synthesis.b4.const)."
        )
    d_sd = None
    d_obj = data.get("D")
    if d_obj is not None:
        try:
            d_sd = nvidia_d_to_rosinality(module_tensors(d_obj))
        except KeyError:
            d_sd = None  # an unusual discriminator: inversion works without feature matching
    g_sd, avg = nvidia_g_to_rosinality(nv)
    return g_sd, avg, d_sd


def _modconv(out: StateDict, nv: StateDict, src: str, dst: str, noise: int | None) -> None:
    out[f"{dst}.conv.weight"] = nv[f"{src}.weight"].unsqueeze(0)
    out[f"{dst}.conv.modulation.weight"] = nv[f"{src}.affine.weight"]
    out[f"{dst}.conv.modulation.bias"] = nv[f"{src}.affine.bias"]
    if noise is None:  # ToRGB
        out[f"{dst}.bias"] = nv[f"{src}.bias"].view(1, -1, 1, 1)
        return
    out[f"{dst}.noise.weight"] = nv[f"{src}.noise_strength"].reshape(1)
    out[f"{dst}.activate.bias"] = nv[f"{src}.bias"]
    const = nv[f"{src}.noise_const"]
    out[f"noises.noise_{noise}"] = const.view(1, 1, *const.shape[-2:])


def nvidia_g_to_rosinality(nv: StateDict) -> tuple[StateDict, Tensor | None]:
    out: StateDict = {}
    fcs = sorted(int(m.group(1)) for k in nv if (m := re.match(r"mapping\.fc(\d+)\.weight$", k)))
    for i in fcs:
        out[f"style.{i + 1}.weight"] = nv[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = nv[f"mapping.fc{i}.bias"]
    out["input.input"] = nv["synthesis.b4.const"].unsqueeze(0)
    _modconv(out, nv, "synthesis.b4.conv1", "conv1", 0)
    _modconv(out, nv, "synthesis.b4.torgb", "to_rgb1", None)
    res = sorted(int(m.group(1)) for k in nv if (m := re.match(r"synthesis\.b(\d+)\.conv0\.weight$", k)))
    for k, r in enumerate(res):
        _modconv(out, nv, f"synthesis.b{r}.conv0", f"convs.{2 * k}", 2 * k + 1)
        _modconv(out, nv, f"synthesis.b{r}.conv1", f"convs.{2 * k + 1}", 2 * k + 2)
        _modconv(out, nv, f"synthesis.b{r}.torgb", f"to_rgbs.{k}", None)
    return out, nv.get("mapping.w_avg")


def nvidia_d_to_rosinality(nv: StateDict) -> StateDict:
    res = sorted((int(m.group(1)) for k in nv if (m := re.match(r"b(\d+)\.conv0\.weight$", k))), reverse=True)
    top = res[0]
    out: StateDict = {
        "convs.0.0.weight": nv[f"b{top}.fromrgb.weight"],
        "convs.0.1.bias": nv[f"b{top}.fromrgb.bias"],
        "final_conv.0.weight": nv["b4.conv.weight"],
        "final_conv.1.bias": nv["b4.conv.bias"],
        "final_linear.0.weight": nv["b4.fc.weight"],
        "final_linear.0.bias": nv["b4.fc.bias"],
        "final_linear.1.weight": nv["b4.out.weight"],
        "final_linear.1.bias": nv["b4.out.bias"],
    }
    for j, r in enumerate(res, start=1):
        out[f"convs.{j}.conv1.0.weight"] = nv[f"b{r}.conv0.weight"]
        out[f"convs.{j}.conv1.1.bias"] = nv[f"b{r}.conv0.bias"]
        out[f"convs.{j}.conv2.1.weight"] = nv[f"b{r}.conv1.weight"]
        out[f"convs.{j}.conv2.2.bias"] = nv[f"b{r}.conv1.bias"]
        out[f"convs.{j}.skip.1.weight"] = nv[f"b{r}.skip.weight"]
    return out


# --- saving (tests, conversion) ---------------------------------------------------------------


def _parts(gen: StyleGAN2Generator) -> dict[str, Any]:
    out: dict[str, Any] = {"g_ema": gen.g.state_dict(), "latent_avg": gen.mean_w()}
    if gen.d is not None:
        out["d"] = gen.d.state_dict()
    return out


def save_rosinality(gen: StyleGAN2Generator, path: Path | str) -> None:
    torch.save(_parts(gen), Path(path))


def save_safetensors(gen: StyleGAN2Generator, path: Path | str) -> None:
    from safetensors.torch import save_file

    flat: dict[str, Tensor] = {}
    for group, value in _parts(gen).items():
        if isinstance(value, dict):
            flat.update({f"{group}.{k}": v.contiguous() for k, v in value.items()})
        else:
            flat[group] = value.contiguous()
    save_file(flat, str(path), metadata={"format": "lucid-stylegan2-rosinality"})
