"""U²-Netp with random weights: plumbing only (build, save, detect + load safely, run, post-process).
Quality needs the real weights, which cannot be downloaded here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from editor.infer.api import CancelToken, InferenceError, Request, TaskContext  # noqa: E402
from editor.infer.archs.u2net import U2Net, detect, u2netp_widths, widths_of  # noqa: E402
from editor.infer.registry import get_task  # noqa: E402


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = U2Net(u2netp_widths()).eval()
    with torch.no_grad():  # random BN statistics so a wrong layer order shows in the output
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("u2net") / "u2netp.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


def test_official_layout_and_size() -> None:
    model = U2Net(u2netp_widths())
    sd = model.state_dict()
    assert (
        sum(p.numel() for p in model.parameters()) == 1_131_181
    )  # U²-Netp's published parameter count (1.13 M)
    # official module names (xuebinqin/U-2-Net model/u2net.py), spot checks across block types
    for key in [
        "stage1.rebnconvin.conv_s1.weight",
        "stage1.rebnconv7.bn_s1.running_var",
        "stage1.rebnconv6d.conv_s1.weight",
        "stage5.rebnconv4.conv_s1.weight",
        "stage5d.rebnconv1d.bn_s1.num_batches_tracked",
        "side6.weight",
        "outconv.bias",
    ]:
        assert key in sd, key
    assert "stage5.rebnconv5.conv_s1.weight" not in sd and "stage7.rebnconvin.conv_s1.weight" not in sd
    assert detect(sd) and widths_of(sd) == u2netp_widths()
    # RSU-4F dilates 1, 2, 4, 8 instead of pooling
    m = model
    assert [m.stage5.get_submodule(f"rebnconv{i}").conv_s1.dilation[0] for i in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert m.stage1.rebnconv7.conv_s1.dilation[0] == 2


def test_safe_load_detects_and_runs(weights: Path) -> None:
    from editor.infer.safe_load import load_model

    descriptor = load_model(weights)
    net = descriptor.model
    assert isinstance(net, U2Net)
    x = torch.rand(1, 3, 75, 101)
    with torch.no_grad():
        y = net(x)
        sides = U2Net(u2netp_widths(), side_outputs=True)
        sides.load_state_dict(net.state_dict())
        seven = sides.eval()(x)
    assert y.shape == (1, 1, 75, 101) and float(y.min()) >= 0 and float(y.max()) <= 1
    assert len(seven) == 7 and torch.allclose(seven[0], y)
    assert float(y.std()) > 0  # not constant


def test_salient_task_seeds_a_trimap(weights: Path) -> None:
    from editor.infer.safe_load import load_model

    model = load_model(weights)
    image = np.random.default_rng(0).random((60, 90, 3)).astype(np.float32)
    requested: list[str] = []

    def load(model_id: str):
        requested.append(model_id)
        return model

    request = Request(
        task="salient", image=image, params={"band_px": 3}, context=TaskContext(load_model=load)
    )
    result = get_task("salient")(request, lambda p: None, CancelToken())
    assert requested == ["u2netp"]
    mask = result.mask
    assert mask is not None and mask.shape == (60, 90) and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0 and mask.max() - mask.min() > 0.5  # min-max normalised
    trimap = result.images["trimap"]
    assert set(np.unique(trimap)) <= {0.0, 0.5, 1.0}
    np.testing.assert_array_equal(trimap == 1.0, (trimap == 1.0) & (mask >= 0.5))


def test_salient_needs_a_loader() -> None:
    with pytest.raises(InferenceError, match="loader"):
        get_task("salient")(
            Request(task="salient", image=np.zeros((8, 8, 3), np.float32)), lambda p: None, CancelToken()
        )


def test_manifest_parses() -> None:
    from editor.infer.manifest import load_manifest

    m = load_manifest(Path(__file__).resolve().parents[2] / "models" / "u2netp.toml")
    assert m.task == "salient" and m.architecture == "U2Net" and m.code_license == "Apache-2.0"
    # rembg's ONNX export, sha256-pinned from independent records, converted into Lucid's U²-Net
    assert m.files[0].name == "u2netp.onnx" and m.downloadable and m.convert is not None
    assert m.convert.kind == "onnx" and m.convert.output == "u2netp.safetensors"
