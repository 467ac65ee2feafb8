"""Only safe loaders: pickled code is refused without running; our own archs load through one path."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from test_download_server import tiny_compact_state_dict

from editor.infer import safe_load
from editor.infer.api import InferenceError, UnsafeModelFile


class _Payload:
    """Unpickling this calls open(marker, "w"): the file appears if the code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("suffix", [".pth", ".ckpt", ".pt"])
def test_checkpoint_with_code_is_refused_and_code_never_runs(tmp_path: Path, suffix: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / f"evil{suffix}"
    torch.save({"conv.weight": torch.zeros(1, 1, 3, 3), "x": _Payload(marker)}, path)
    assert not marker.exists()
    with pytest.raises(UnsafeModelFile, match="refused"):
        safe_load.load_state_dict(path)
    with pytest.raises(UnsafeModelFile):
        safe_load.load_model(path)
    assert not marker.exists()


def test_legacy_plain_pickle_with_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "legacy.pth"
    with open(path, "wb") as fh:
        pickle.dump({"w": _Payload(marker)}, fh, protocol=2)
    with pytest.raises(UnsafeModelFile):
        safe_load.load_state_dict(path)
    assert not marker.exists()


def test_safetensors_and_plain_pth_load_the_same_tensors(tmp_path: Path) -> None:
    sd = tiny_compact_state_dict(scale=2)
    save_file(sd, str(tmp_path / "m.safetensors"))
    torch.save({"params_ema": sd}, tmp_path / "m.pth")  # a common wrapper, unwrapped on load
    a = safe_load.load_state_dict(tmp_path / "m.safetensors")
    b = safe_load.load_state_dict(tmp_path / "m.pth")
    assert a.keys() == sd.keys() == b.keys()
    assert all(torch.equal(a[k], sd[k]) and torch.equal(b[k], sd[k]) for k in sd)


def test_load_model_gives_spandrel_descriptor(tmp_path: Path) -> None:
    save_file(tiny_compact_state_dict(scale=2), str(tmp_path / "m.safetensors"))
    desc = safe_load.load_model(tmp_path / "m.safetensors")
    assert desc.scale == 2 and desc.architecture.id == "Compact" and desc.supports_half
    out = desc(torch.rand(1, 3, 8, 8))
    assert out.shape == (1, 3, 16, 16)


def test_unknown_architecture_and_junk_are_inference_errors(tmp_path: Path) -> None:
    save_file({"mystery.weight": torch.zeros(2, 2)}, str(tmp_path / "u.safetensors"))
    with pytest.raises(InferenceError, match="not supported"):
        safe_load.load_model(tmp_path / "u.safetensors")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint at all")
    with pytest.raises(InferenceError, match="not a readable weights file"):
        safe_load.load_state_dict(tmp_path / "junk.pth")
    (tmp_path / "w.onnx").write_bytes(b"x")
    with pytest.raises(InferenceError, match="unsupported weights format"):
        safe_load.load_state_dict(tmp_path / "w.onnx")


class _Doubler(torch.nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.lucid_test_head = torch.nn.Conv2d(ch, ch * 4, 1)
        self.shuffle = torch.nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.lucid_test_head(x))


def test_registered_own_arch_loads_through_the_same_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(safe_load, "_ARCHS", {})
    safe_load.register_arch(
        "LucidTestDoubler",
        detect=lambda sd: "lucid_test_head.weight" in sd,
        build=lambda sd: _Doubler(sd["lucid_test_head.weight"].shape[1]),
        purpose="SR",
        scale=lambda sd: 2,
    )
    net = _Doubler(3)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(tmp_path / "own.safetensors"))
    desc = safe_load.load_model(tmp_path / "own.safetensors")
    assert desc.architecture.id == "LucidTestDoubler" and desc.scale == 2 and desc.purpose == "SR"
    x = torch.rand(1, 3, 5, 5)
    assert torch.allclose(desc(x), net(x).clamp(0, 1), atol=1e-6)
