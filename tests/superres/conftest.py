"""Helpers for the super-resolution tests: tiny ncnn writers, small models, real weights when fetched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

SRGAN_REL = Path("weights/srgan_leftthomas_x4/netG_epoch_4_100.pth")


def compact_descriptor(*, num_feat: int = 16, num_conv: int = 4, scale: int = 4, seed: int = 0,
                       zero: bool = False):
    """A spandrel SRVGGNetCompact descriptor with random (or all-zero) weights."""
    from spandrel import ModelLoader
    from spandrel.architectures.Compact import Compact

    g = torch.Generator().manual_seed(seed)
    net = Compact(num_in_ch=3, num_out_ch=3, num_feat=num_feat, num_conv=num_conv, upscale=scale)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.zeros_like(p) if zero else torch.randn(p.shape, generator=g) * 0.1)
    return ModelLoader().load_from_state_dict(net.state_dict()).eval()


def real_or_random_compact(path: Path | None):
    """The real animevideov3 compact model from `path`, else random weights (plumbing only)."""
    if path is not None:
        from editor.infer.safe_load import load_model

        return load_model(path), True
    return compact_descriptor(num_feat=32, num_conv=8), False


@pytest.fixture
def srgan_file(shared_data: Path) -> Path:
    p = shared_data / SRGAN_REL
    if not p.is_file():
        pytest.skip(f"SRGAN weights not found at {p}")
    return p


def to_ncnn_param(layers: list[str], blobs: int) -> str:
    return "7767517\n" + f"{len(layers)} {blobs}\n" + "\n".join(layers) + "\n"


def fp16_blob(values: np.ndarray) -> bytes:
    data = np.asarray(values, "<f2").tobytes()
    return (0x01306B47).to_bytes(4, "little") + data + b"\0" * ((-len(data)) % 4)


def fp32_blob(values: np.ndarray, tagged: bool = True) -> bytes:
    data = np.asarray(values, "<f4").tobytes()
    return ((0).to_bytes(4, "little") if tagged else b"") + data
