"""SRGAN generator: detection and hyperparameters from shapes, and the real leftthomas weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.core.metrics import luma_psnr
from editor.infer.archs.srgan import SRGANGenerator, build, detect
from editor.infer.safe_load import load_model

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(("blocks", "upsamples", "prelu"), [(2, 1, 1), (3, 2, 8)])
def test_hyperparameters_come_from_the_state_dict(blocks: int, upsamples: int, prelu: int) -> None:
    torch.manual_seed(0)
    net = SRGANGenerator(ch=8, blocks=blocks, upsamples=upsamples, prelu=prelu).eval()
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert detect(state)
    rebuilt = build(state)
    assert rebuilt.scale == 2**upsamples
    x = torch.rand(1, 3, 10, 12)
    with torch.inference_mode():
        y = rebuilt(x)
        assert torch.equal(y, net(x))
    assert y.shape[-2:] == (10 * 2**upsamples, 12 * 2**upsamples)


def test_other_layouts_are_not_taken_for_srgan() -> None:
    from spandrel.architectures.Compact import Compact

    assert not detect(Compact(num_feat=8, num_conv=2).state_dict())
    assert not detect({"block1.0.weight": torch.zeros(1)})


def test_real_weights_load_safely_and_beat_bicubic(srgan_file: Path, shared_data: Path) -> None:
    """The 2018 checkpoint (legacy non-zip format, BN without num_batches_tracked) through the safe
    loader; on Set5 'bird' it must beat bicubic in Y-PSNR."""
    raw = torch.load(srgan_file, map_location="cpu", weights_only=True)  # legacy format, no pickled code
    assert "block2.bn1.running_mean" in raw and not any(k.endswith("num_batches_tracked") for k in raw)
    desc = load_model(srgan_file)
    assert desc.architecture.id == "SRGAN" and desc.scale == 4
    folder = shared_data / "sr" / "Set5" / "x4"
    lr = np.asarray(Image.open(folder / "img_002_SRF_4_LR.png").convert("RGB"), np.float32) / 255
    hr = np.asarray(Image.open(folder / "img_002_SRF_4_HR.png").convert("RGB"), np.float32) / 255
    with torch.inference_mode():
        out = desc(torch.from_numpy(lr.transpose(2, 0, 1).copy())[None])[0].numpy().transpose(1, 2, 0)
    assert out.shape == hr.shape == (lr.shape[0] * 4, lr.shape[1] * 4, 3)
    assert out.min() >= 0 and out.max() <= 1
    lr8 = Image.fromarray((lr * 255).round().astype(np.uint8))
    bicubic = lr8.resize(hr.shape[1::-1], Image.Resampling.BICUBIC)
    p_model = luma_psnr(out, hr)
    p_bicubic = luma_psnr(np.asarray(bicubic, np.float32) / 255, hr)
    assert p_model > p_bicubic + 0.5, (p_model, p_bicubic)
