"""ncnn → PyTorch conversion: exact on synthetic models written in ncnn's own format, and on the real
Real-ESRGAN files (fetched into the test models cache) against the ncnn runtime (the `ncnn` package,
in the dev extra)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import fp16_blob, fp32_blob, to_ncnn_param
from PIL import Image

from editor.core.metrics import psnr
from editor.infer.convert.ncnn import NcnnFormatError, convert, load_ncnn
from editor.infer.manifest import load_manifest

torch = pytest.importorskip("torch")
REPO = Path(__file__).resolve().parents[2]


def _conv_line(i: int, out_ch: int, in_ch: int, leaky: bool) -> str:
    act = " 9=2 -23310=1,2.000000e-01" if leaky else ""
    return (f"Convolution              conv_{i}  1 1 b{i} b{i + 1} 0={out_ch} 1=3 4=1 5=1 "
            f"6={out_ch * in_ch * 9}{act}")


def _write_compact(tmp: Path, net, scale: int, weight_blob=fp16_blob) -> tuple[Path, Path]:
    """Write a spandrel SRVGGNetCompact in the layout realesr-animevideov3 uses."""
    lines = ["Input                    input.1  0 1 data",
             "Split                    split0   1 2 data x0 x1"]
    data = b""
    n = 0
    for i, m in enumerate(net.body):
        if isinstance(m, torch.nn.Conv2d):
            w = m.weight.detach().numpy()
            bottom = "x1" if i == 0 else f"t{i - 1}"
            lines.append(f"Convolution  Conv_{i}  1 1 {bottom} t{i} 0={w.shape[0]} 1=3 4=1 5=1 6={w.size}")
            data += weight_blob(w.ravel()) + fp32_blob(m.bias.detach().numpy(), tagged=False)
        else:
            w = m.weight.detach().numpy()
            lines.append(f"PReLU                    PRelu_{i}  1 1 t{i - 1} t{i} 0={w.size}")
            data += fp32_blob(w, tagged=False)
        n = i
    lines += [f"PixelShuffle             DepthToSpace  1 1 t{n} ps 0={scale}",
              f"Interp                   Resize  1 1 x0 up 0=1 1={scale:.6e} 2={scale:.6e}",
              "BinaryOp                 Add  2 1 ps up output"]
    param, binf = tmp / "tiny.param", tmp / "tiny.bin"
    param.write_text(to_ncnn_param(lines, len(lines) + 3))
    binf.write_bytes(data)
    return param, binf


def _fp16_rounded(net) -> None:
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.copy_(m.weight.half().float())


def _random_compact(scale: int = 2):
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(1)
    net = Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=scale).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p) * 0.2)
    _fp16_rounded(net)
    return net


def test_compact_round_trip_is_exact(tmp_path: Path) -> None:
    from spandrel import ModelLoader

    net = _random_compact(scale=2)
    param, binf = _write_compact(tmp_path, net, 2)
    arch, state = load_ncnn(param, binf)
    assert arch == "Compact"
    ref = net.state_dict()
    assert set(state) == set(ref)
    for k, v in state.items():
        assert np.array_equal(v, ref[k].numpy()), k
    desc = ModelLoader().load_from_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    assert desc.scale == 2 and desc.architecture.id == "Compact"
    x = torch.rand(1, 3, 9, 11)
    with torch.inference_mode():
        assert torch.equal(desc.model(x), net(x))


def test_float32_storage_is_read_too(tmp_path: Path) -> None:
    net = _random_compact(scale=2)
    param, binf = _write_compact(tmp_path, net, 2, weight_blob=fp32_blob)
    _, state = load_ncnn(param, binf)
    assert np.array_equal(state["body.0.weight"], net.body[0].weight.detach().numpy())


def _rrdb_state(nf: int = 8, gc: int = 32, blocks: int = 1) -> dict[str, np.ndarray]:  # spandrel: gc = 32
    rng = np.random.default_rng(2)
    shapes: list[tuple[str, int, int]] = [("conv_first", nf, 3)]
    for b in range(blocks):
        for r in (1, 2, 3):
            for c in range(1, 6):
                shapes.append((f"body.{b}.rdb{r}.conv{c}", nf if c == 5 else gc, nf + (c - 1) * gc))
    shapes += [("conv_body", nf, nf), ("conv_up1", nf, nf), ("conv_up2", nf, nf), ("conv_hr", nf, nf),
               ("conv_last", 3, nf)]
    state = {}
    for name, o, i in shapes:
        state[f"{name}.weight"] = rng.normal(0, 0.1, (o, i, 3, 3)).astype(np.float16).astype(np.float32)
        state[f"{name}.bias"] = rng.normal(0, 0.1, o).astype(np.float32)
    return state


def _write_rrdb(tmp: Path, state: dict[str, np.ndarray]) -> tuple[Path, Path]:
    names = [k[: -len(".weight")] for k in state if k.endswith(".weight")]
    lines = ["Input                    input.1  0 1 data"]
    data = b""
    for i, name in enumerate(names):
        w = state[f"{name}.weight"]
        in_rdb = ".conv" in name and not name.endswith("conv5")
        leaky = in_rdb or name in ("conv_up1", "conv_up2", "conv_hr")
        lines.append(_conv_line(i, w.shape[0], w.shape[1], leaky))
        data += fp16_blob(w.ravel()) + fp32_blob(state[f"{name}.bias"], tagged=False)
        if name.endswith("conv4"):  # the dense block's concatenations and scaled residual adds
            lines.append(f"Concat                   cat_{i}  2 1 b{i + 1} x cat{i}")
            lines.append(f"Eltwise  add_{i}  2 1 cat{i} x add{i} 0=1 -23301=2,2.000000e-01,1.0")
    param, binf = tmp / "rrdb.param", tmp / "rrdb.bin"
    param.write_text(to_ncnn_param(lines, 2 * len(lines)))
    binf.write_bytes(data)
    return param, binf


def test_rrdbnet_layer_order_maps_onto_spandrel_keys(tmp_path: Path) -> None:
    from spandrel import ModelLoader

    state = _rrdb_state()
    param, binf = _write_rrdb(tmp_path, state)
    arch, got = load_ncnn(param, binf)
    assert arch == "RRDBNet"
    assert list(got) == list(state)
    assert all(np.array_equal(got[k], state[k]) for k in state)
    desc = ModelLoader().load_from_state_dict({k: torch.from_numpy(v) for k, v in got.items()})
    assert desc.architecture.id == "ESRGAN" and desc.scale == 4


def test_damaged_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    net = _random_compact()
    param, binf = _write_compact(tmp_path, net, 2)
    good = binf.read_bytes()
    binf.write_bytes(good[:-8])
    with pytest.raises(NcnnFormatError, match="shorter"):
        load_ncnn(param, binf)
    binf.write_bytes(good + b"\0" * 8)
    with pytest.raises(NcnnFormatError, match="left over"):
        load_ncnn(param, binf)
    binf.write_bytes((0x000D4B38).to_bytes(4, "little") + good[4:])  # int8 storage tag
    with pytest.raises(NcnnFormatError, match="int8"):
        load_ncnn(param, binf)
    param.write_text("123\n" + param.read_text())
    with pytest.raises(NcnnFormatError, match="magic"):
        load_ncnn(param, binf)


def test_convert_hook_writes_safetensors_the_store_can_load(tmp_path: Path) -> None:
    from editor.infer.safe_load import load_model

    net = _random_compact(scale=4)
    param, binf = _write_compact(tmp_path, net, 4)
    manifest = load_manifest(REPO / "models" / "realesr-animevideov3.toml")
    out = convert(manifest, {"a.param": param, "a.bin": binf}, tmp_path / "out")
    assert out.name == "realesr-animevideov3.safetensors"
    desc = load_model(out)
    x = torch.rand(1, 3, 8, 8)
    with torch.inference_mode():
        assert torch.equal(desc.model(x), net(x))


def _photo_crop(shared_data: Path, side: int = 24) -> np.ndarray:
    """A detailed crop (edges, texture, colour) of a real photo, CHW float32 in [0, 1]."""
    img = np.asarray(Image.open(shared_data / "sr" / "realesrgan_inputs" / "OST_009.png").convert("RGB"))
    y, x = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
    return np.ascontiguousarray(img[y : y + side, x : x + side].transpose(2, 0, 1), np.float32) / 255


@pytest.mark.slow
@pytest.mark.parametrize(("model_id", "stem"), [("realesr-animevideov3", "realesr-animevideov3-x4"),
                                                ("realesrgan-x4plus-anime", "realesrgan-x4plus-anime")])
def test_real_wheel_model_matches_ncnn(model_id: str, stem: str, shared_data: Path, fetched_model) -> None:
    """Real weights against the reference runtime: ≥ 45 dB (the issue's bar) on a real photo crop.

    A converter that got the channel order wrong (the usual ncnn slip: BGR) must miss the bar."""
    from spandrel import ModelLoader

    ncnn = pytest.importorskip("ncnn", reason="the ncnn runtime (dev extra) is not installed")
    folder = fetched_model(model_id).parent
    param, binf = folder / f"{stem}.param", folder / f"{stem}.bin"
    _, state = load_ncnn(param, binf)
    desc = ModelLoader().load_from_state_dict({k: torch.from_numpy(v) for k, v in state.items()}).eval()
    x = _photo_crop(shared_data)
    with torch.inference_mode():
        ours = desc(torch.from_numpy(x)[None])[0].numpy()
        swapped = desc(torch.from_numpy(x[::-1].copy())[None])[0].numpy()[::-1]
    net = ncnn.Net()
    for opt in ("use_vulkan_compute", "use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic"):
        setattr(net.opt, opt, False)
    net.load_param(str(param))
    net.load_model(str(binf))
    ex = net.create_extractor()
    ex.input("data", ncnn.Mat(x))
    _, out = ex.extract("output")
    ref = np.clip(np.array(out), 0, 1)
    assert ours.shape == ref.shape == (3, 96, 96)
    assert psnr(np.clip(ours, 0, 1), ref) >= 45
    assert psnr(np.clip(swapped, 0, 1), ref) < 45, "the bar cannot tell a BGR/RGB mix-up"
