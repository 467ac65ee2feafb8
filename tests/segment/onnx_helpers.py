"""Test helpers (no tests): random-weight networks and their ONNX exports, standing in for rembg's
`.onnx` files (made by `torch.onnx.export`), which cannot be downloaded here."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch


def randomise(net: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights that keep the signal alive through every stage, in eval mode.

    He init for the convs: torch's default init fades the signal so much in these deep nets that
    swapping two inner kernels moves the mask by under 1e-6, and a fidelity comparison would pass a
    wrong layer mapping. Non-trivial batch-norm statistics, so folding them is visible.
    """
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    m.bias.uniform_(-0.1, 0.1)
            elif isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    return net.eval()


def export_onnx(net: torch.nn.Module, path: Path, *, fold: bool = True, size: int = 64) -> Path:
    """`torch.onnx.export` at opset 11 (batch norm folded into the convs when `fold`, as exporters do by
    default; kept as BatchNormalization nodes with torch's parameter names otherwise)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.rand(1, 3, size, size), str(path), dynamo=False, opset_version=11,
                          do_constant_folding=fold)
    return path
