"""ONNX import of rembg's U²-Net files into Lucid's U²-Net: random-weight ONNX files the test exports
(BN folded into the convs, as exporters usually write them, and BN kept as nodes), converted, loaded
through the safe loader and compared with the network that wrote them and with ONNX's own reference
runtime. Random weights prove the plumbing; the real u2netp.onnx cannot be downloaded here."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from editor.infer.archs.u2net import U2Net, u2netp_widths  # noqa: E402
from editor.infer.convert.onnx import OnnxFormatError, convert  # noqa: E402
from editor.infer.manifest import ConvertSpec  # noqa: E402
from editor.infer.safe_load import load_model  # noqa: E402
from tests.segment.onnx_helpers import export_onnx, randomise  # noqa: E402


def random_u2netp(seed: int) -> U2Net:
    return randomise(U2Net(u2netp_widths()), seed)


def export(net: U2Net, path: Path, *, fold: bool) -> Path:
    return export_onnx(net, path, fold=fold)


def manifest(name: str = "u2netp.onnx") -> SimpleNamespace:
    return SimpleNamespace(
        name="U²-Netp",
        convert=ConvertSpec(kind="onnx", output="u2netp.safetensors", options={"layout": "u2net"}),
    )


@pytest.mark.parametrize("fold", [True, False], ids=["bn-folded", "bn-nodes"])
def test_onnx_u2netp_imports_into_lucids_arch(tmp_path: Path, fold: bool) -> None:
    net = random_u2netp(seed=3)
    src = export(net, tmp_path / "u2netp.onnx", fold=fold)
    graph = onnx.load(str(src)).graph
    assert any(n.op_type == "BatchNormalization" for n in graph.node) is not fold
    out = convert(manifest(), {"u2netp.onnx": src}, tmp_path)
    desc = load_model(out)
    assert desc.architecture.name == "U2Net"
    x = torch.rand(1, 3, 96, 80)
    with torch.inference_mode():
        got, want = desc.model(x), net(x)
    assert float((got - want).abs().max()) < 1e-4
    assert float(want.std()) > 1e-3  # the outputs vary: the comparison means something


@pytest.mark.slow
def test_matches_onnx_reference_runtime(tmp_path: Path) -> None:
    from onnx.reference import ReferenceEvaluator

    net = random_u2netp(seed=5)
    src = export(net, tmp_path / "u2netp.onnx", fold=True)
    x = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    sess = ReferenceEvaluator(str(src))
    with np.errstate(over="ignore"):  # its sigmoid's exp overflows for very negative logits (→ 0, right)
        ref = sess.run(None, {sess.input_names[0]: x})[0]
    desc = load_model(convert(manifest(), {"u2netp.onnx": src}, tmp_path))
    with torch.inference_mode():
        got = desc.model(torch.from_numpy(x)).numpy()
    assert got.shape == ref.shape and float(np.abs(got - ref).max()) < 1e-4


def test_other_networks_and_junk_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "u2netp.onnx"
    junk.write_bytes(b"not an onnx file at all")
    with pytest.raises(OnnxFormatError, match="not a valid ONNX"):
        convert(manifest(), {"u2netp.onnx": junk}, tmp_path)
    other = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 1, 1)).eval()
    export(other, junk, fold=True)
    with pytest.raises(OnnxFormatError, match="do not match"):
        convert(manifest(), {"u2netp.onnx": junk}, tmp_path)
