"""IS-Net (`isnet-general-use`): rembg's ONNX export mapped onto Lucid's IS-Net module, fetched through
the store from a local server (sha256-checked), and chosen by Select → Subject / `--subject auto` over
u2netp when installed.

The real 179 MB file cannot be downloaded here, so the tests export random-weight IS-Nets with torch
(as rembg's file was made: `torch.onnx.export` of ISNetDIS, six side outputs) and compare the converted
module with the network that wrote the file. Conversion fidelity is checked at small input sizes: the
net is fully convolutional, and 1024² on two CPU cores would take minutes per test.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from editor.infer.archs.isnet import ISNetDIS, isnet_widths  # noqa: E402
from editor.infer.archs.u2net import U2Net, u2netp_widths  # noqa: E402
from editor.infer.convert.onnx import OnnxFormatError, convert  # noqa: E402
from editor.infer.download import ChecksumError  # noqa: E402
from editor.infer.manifest import ConvertSpec  # noqa: E402
from editor.infer.safe_load import load_model  # noqa: E402
from editor.infer.store import ModelStatus, ModelStore  # noqa: E402
from tests.infer.test_download_server import LocalServer, sha  # noqa: E402
from tests.segment.onnx_helpers import export_onnx, randomise  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MODEL_ID = "isnet-general-use"
TOL = 1e-4


def narrow_widths() -> dict[str, tuple[int, int, int]]:
    """IS-Net's topology at a fraction of its width: fast tests of everything but the real shapes."""
    return {name: (max(2, i // 16) if i != 3 else 3, max(2, m // 16), max(2, o // 16))
            for name, (i, m, o) in isnet_widths().items()}


def random_isnet(seed: int, widths: dict | None = None) -> ISNetDIS:
    return randomise(ISNetDIS(widths), seed)


def export(net: torch.nn.Module, path: Path, *, fold: bool = True) -> Path:
    """The net's ONNX export with all six side outputs, as rembg's file has them."""
    before = net.side_outputs
    net.side_outputs = isinstance(net, ISNetDIS) or before
    try:
        return export_onnx(net, path, fold=fold)
    finally:
        net.side_outputs = before


def isnet_manifest() -> SimpleNamespace:
    spec = ConvertSpec(kind="onnx", output="isnet.safetensors", options={"layout": "isnet"})
    return SimpleNamespace(name="IS-Net", convert=spec)


def shipped_manifest_for(model_id: str, data: bytes, url: str | None = None) -> str:
    """The shipped manifest of `model_id` with its file's sha256 and size (and URL) those of `data`."""
    text = (REPO / "models" / f"{model_id}.toml").read_text()
    text = re.sub(r'^sha256 = ".*"$', f'sha256 = "{sha(data)}"', text, count=1, flags=re.M)
    text = re.sub(r"^size = \d+$", f"size = {len(data)}", text, count=1, flags=re.M)
    return re.sub(r'^url = ".*"$', f'url = "{url}"', text, count=1, flags=re.M) if url else text


def max_diff(model: torch.nn.Module, reference: torch.nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """(largest difference over all six side outputs, spread of the reference mask) on `x`."""
    for net in (model, reference):
        net.side_outputs = True
    try:
        with torch.inference_mode():
            got, want = model(x), reference(x)
    finally:
        for net in (model, reference):
            net.side_outputs = False
    assert len(got) == len(want) == 6
    assert all(g.shape == w.shape == (x.shape[0], 1, *x.shape[2:]) for g, w in zip(got, want, strict=True))
    return max(float((g - w).abs().max()) for g, w in zip(got, want, strict=True)), float(want[0].std())


def test_shipped_manifest() -> None:
    from editor.infer.manifest import load_manifest

    m = load_manifest(REPO / "models" / f"{MODEL_ID}.toml")
    assert m.task == "salient" and m.architecture == "ISNet" and m.commercial_use and not m.default
    assert m.code_license == "Apache-2.0" and m.weights_license.startswith("Apache-2.0")
    assert "Apache" in m.get("notice")
    [f] = m.files
    assert f.url == "https://github.com/danielgatis/rembg/releases/download/v0.0.0/isnet-general-use.onnx"
    assert f.sha256 == "60920e99c45464f2ba57bee2ad08c919a52bbf852739e96947fbb4358c0d964a"
    assert f.size == 178648008
    assert m.downloadable and m.convert is not None and m.convert.options["layout"] == "isnet"
    assert "fc16ebd8b0c10d971d3513d564d01e29" in m.notes  # rembg's md5, and how it relates, is on record
    assert m.get("subject_preference", 0) > 0


def test_architecture_matches_the_published_network() -> None:
    """44.0 M parameters; the stem halves the size; six side outputs at input size; the state dict is
    detected as IS-Net, never as U²-Net (and the other way round)."""
    from editor.infer.archs import isnet, u2net

    net = ISNetDIS(side_outputs=True).eval()
    assert sum(p.numel() for p in net.parameters()) == 44_046_790
    assert net.conv_in.stride == (2, 2) and net.conv_in.weight.shape == (64, 3, 3, 3)
    with torch.inference_mode():
        sides = net(torch.rand(1, 3, 50, 70))
    assert len(sides) == 6 and all(s.shape == (1, 1, 50, 70) for s in sides)
    assert all(0.0 <= float(s.min()) <= float(s.max()) <= 1.0 for s in sides)
    sd = net.state_dict()
    assert isnet.detect(sd) and not u2net.detect(sd)
    assert not isnet.detect(U2Net(u2netp_widths()).state_dict())


@pytest.mark.slow
def test_fetch_convert_and_load_the_real_shapes_through_the_store(tmp_path: Path) -> None:
    """The shipped manifest, pointed at a local server serving a full-size random export (BN folded, as
    exporters write it): fetched, sha256-checked, converted, loaded by the safe loader as IS-Net, and
    equal to the network that wrote the file. A file with other bytes is refused before conversion."""
    net = random_isnet(seed=3)
    data = export(net, tmp_path / "isnet.onnx", fold=True).read_bytes()
    graph = onnx.load_from_string(data).graph
    assert not any(n.op_type == "BatchNormalization" for n in graph.node) and len(graph.output) == 6
    bad = data[:-4] + b"\0\0\0\0"
    server = LocalServer(files={"/isnet-general-use.onnx": data, "/wrong.onnx": bad}).start()
    try:
        manifests = tmp_path / "manifests"
        manifests.mkdir()
        store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
        wrong = shipped_manifest_for(MODEL_ID, data, server.url("/wrong.onnx"))
        (manifests / f"{MODEL_ID}.toml").write_text(wrong)
        with pytest.raises(ChecksumError):
            store.fetch(MODEL_ID)
        assert store.status(MODEL_ID) is not ModelStatus.INSTALLED
        assert not (store.models_dir / MODEL_ID / "isnet-general-use.safetensors").exists()
        url = server.url("/isnet-general-use.onnx")
        (manifests / f"{MODEL_ID}.toml").write_text(shipped_manifest_for(MODEL_ID, data, url))
        path = store.fetch(MODEL_ID)
    finally:
        server.stop()
    assert path.name == "isnet-general-use.safetensors" and store.status(MODEL_ID) is ModelStatus.INSTALLED
    desc = load_model(path)
    assert desc.architecture.name == "ISNet" and isinstance(desc.model, ISNetDIS)
    diff, spread = max_diff(desc.model, net, torch.rand(1, 3, 72, 88))
    assert diff < TOL and spread > 1e-2


@pytest.mark.parametrize("fold", [True, False], ids=["bn-folded", "bn-nodes"])
def test_narrow_exports_convert_with_and_without_folded_batch_norm(tmp_path: Path, fold: bool) -> None:
    """Initializer names play no part: the folded export has anonymous constants, the other keeps
    torch's names and BatchNormalization nodes; both map onto the module and agree with it."""
    net = random_isnet(seed=4, widths=narrow_widths())
    src = export(net, tmp_path / "isnet.onnx", fold=fold)
    graph = onnx.load(str(src)).graph
    assert any(n.op_type == "BatchNormalization" for n in graph.node) is not fold
    desc = load_model(convert(isnet_manifest(), {"isnet.onnx": src}, tmp_path))
    assert desc.architecture.name == "ISNet"
    diff, spread = max_diff(desc.model, net, torch.rand(2, 3, 80, 56))
    assert diff < TOL and spread > 1e-2


@pytest.mark.slow
def test_matches_onnx_reference_runtime(tmp_path: Path) -> None:
    """Against the graph itself, not only the module that wrote it: ONNX's own reference evaluator runs
    the exported file (its Resize, MaxPool and Sigmoid nodes) and gives all six masks of the converted
    module within the tolerance."""
    from onnx.reference import ReferenceEvaluator

    net = random_isnet(seed=9, widths=narrow_widths())
    src = export(net, tmp_path / "isnet.onnx")
    x = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    sess = ReferenceEvaluator(str(src))
    with np.errstate(over="ignore"):  # its sigmoid's exp overflows for very negative logits (→ 0, right)
        ref = sess.run(None, {sess.input_names[0]: x})
    model = load_model(convert(isnet_manifest(), {"isnet.onnx": src}, tmp_path)).model
    model.side_outputs = True
    with torch.inference_mode():
        got = [t.numpy() for t in model(torch.from_numpy(x))]
    assert len(ref) == len(got) == 6 and float(ref[0].std()) > 1e-2
    assert max(float(np.abs(g - r).max()) for g, r in zip(got, ref, strict=True)) < TOL


def test_the_comparison_catches_shuffled_weights(tmp_path: Path) -> None:
    """Bad stand-in: the right file with two same-shaped kernels swapped (a wrong layer mapping that
    every shape check passes) must fail the fidelity comparison."""
    net = random_isnet(seed=5, widths=narrow_widths())
    src = export(net, tmp_path / "isnet.onnx")
    desc = load_model(convert(isnet_manifest(), {"isnet.onnx": src}, tmp_path))
    sd = desc.model.state_dict()
    a, b = "stage2.rebnconv2.conv_s1.weight", "stage2.rebnconv3.conv_s1.weight"
    assert sd[a].shape == sd[b].shape
    swapped = ISNetDIS(narrow_widths()).eval()
    swapped.load_state_dict({**sd, a: sd[b], b: sd[a]})
    x = torch.rand(1, 3, 64, 64)
    assert max_diff(desc.model, net, x)[0] < TOL
    assert max_diff(swapped, net, x)[0] > 100 * TOL


@pytest.mark.slow
def test_files_that_do_not_fit_are_refused_clearly(tmp_path: Path) -> None:
    """A U²-Netp export, an IS-Net whose stem has another stride (same kernels), and junk are refused with
    a message saying why; an IS-Net export is refused by the U²-Net layout too."""
    src = tmp_path / "isnet.onnx"
    export(U2Net(u2netp_widths()).eval(), src)
    with pytest.raises(OnnxFormatError, match="do not match IS-Net"):
        convert(isnet_manifest(), {"isnet.onnx": src}, tmp_path)
    odd = random_isnet(seed=6, widths=narrow_widths())
    odd.conv_in.stride = (1, 1)
    export(odd, src)
    with pytest.raises(OnnxFormatError, match="do not match IS-Net"):
        convert(isnet_manifest(), {"isnet.onnx": src}, tmp_path)
    export(random_isnet(seed=6, widths=narrow_widths()), src)
    u2net_layout = SimpleNamespace(name="U²-Netp", convert=ConvertSpec(kind="onnx", output="u.safetensors",
                                                                      options={"layout": "u2net"}))
    with pytest.raises(OnnxFormatError, match="do not match U²-Net"):
        convert(u2net_layout, {"isnet.onnx": src}, tmp_path)
    src.write_bytes(b"not an onnx file")
    with pytest.raises(OnnxFormatError, match="not a valid ONNX"):
        convert(isnet_manifest(), {"isnet.onnx": src}, tmp_path)
    assert not list(tmp_path.glob("*.safetensors"))


def test_salient_task_feeds_isnet_at_1024_with_its_normalisation(monkeypatch) -> None:
    """IS-Net gets 1024×1024 input with its own mean and std (rembg's for this model); U²-Net keeps 320."""
    from editor.infer.tasks import salient

    seen = []
    real = salient.preprocess
    monkeypatch.setattr(salient, "preprocess", lambda *a, **k: seen.append(a[1:]) or real(*a, **k))
    img = np.random.default_rng(0).random((30, 40, 3), dtype=np.float32)
    mask = salient.saliency(random_isnet(seed=7, widths=narrow_widths()), img)
    salient.saliency(U2Net(u2netp_widths()).eval(), img)
    assert mask.shape == (30, 40) and 0.0 <= float(mask.min()) < float(mask.max()) <= 1.0
    assert seen[0] == (1024, (0.485, 0.456, 0.406), (1.0, 1.0, 1.0))
    assert seen[1][0] == 320 and np.allclose(seen[1][2], [0.229, 0.224, 0.225])


# --- chosen over u2netp -------------------------------------------------------------------------------


def _install_random(models_dir: Path, tmp: Path, model_id: str, net: torch.nn.Module) -> None:
    """Install `net`'s ONNX export as `model_id` in the (private) models folder: a user manifest with the
    file's sha256 overrides the shipped one, and Import file… converts it, as for a real download."""
    src = export(net, tmp / f"{model_id}.onnx")
    text = shipped_manifest_for(model_id, src.read_bytes())
    (models_dir / "manifests").mkdir(parents=True, exist_ok=True)
    (models_dir / "manifests" / f"{model_id}.toml").write_text(text)
    assert ModelStore(models_dir).import_file(src).installed


@pytest.mark.slow
def test_auto_subject_prefers_isnet_when_installed(tmp_path: Path, capsys) -> None:
    """With u2netp installed, "auto" is u2netp; once isnet-general-use is installed too it wins, for the
    store choice, Select → Subject, Matte's Auto subject and `lucid segment --subject auto` (which then
    runs it)."""
    import os

    from PIL import Image

    from editor.cli import main
    from editor.infer.subject import subject_model

    models_dir = Path(os.environ["LUCID_MODELS_DIR"])  # the test's private models folder
    _install_random(models_dir, tmp_path, "u2netp", U2Net(u2netp_widths()).eval())
    assert subject_model(ModelStore(), "auto") == "u2netp"
    _install_random(models_dir, tmp_path, MODEL_ID, random_isnet(seed=8, widths=narrow_widths()))
    assert subject_model(ModelStore(), "auto") == MODEL_ID
    assert subject_model(ModelStore(), "person") != MODEL_ID

    pytest.importorskip("PySide6")
    from editor.ui.ai.matte_panel import MattePanel
    from editor.ui.ai.subject_select import SubjectSelect

    ui = SimpleNamespace(controller=SimpleNamespace(store=ModelStore()))
    assert SubjectSelect.model_for(ui, "auto") == MODEL_ID  # Select → Subject
    assert MattePanel._subject_model(ui) == MODEL_ID  # Matte → Auto subject

    image = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(1).random((48, 64, 3)) * 255).astype(np.uint8)).save(image)
    out = tmp_path / "mask.png"
    assert main(["segment", str(image), "--subject", "auto", "--device", "cpu", "-o", str(out)]) == 0
    assert f"({MODEL_ID}," in capsys.readouterr().err
    assert Image.open(out).size == (64, 48)


@pytest.mark.parametrize("arch", ["U2Net", "ISNet"])
def test_an_unknown_salient_weights_file_is_imported_as_a_subject_model(tmp_path: Path, arch: str) -> None:
    """Import file… with a U²-Net or IS-Net state dict that no manifest knows files it under "salient"
    (spandrel's purposes have no word for it; it used to become "restore", a tool that cannot run it),
    licence unknown, so "auto" never picks it on its own."""
    from safetensors.torch import save_file

    from editor.infer.subject import subject_model

    net = U2Net(u2netp_widths()) if arch == "U2Net" else random_isnet(seed=3, widths=narrow_widths())
    src = tmp_path / f"my {arch}.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(src))
    store = ModelStore(tmp_path / "models")
    info = store.import_file(src)
    assert info.installed and info.manifest.architecture == arch
    assert info.task == "salient", info.task
    assert not info.manifest.commercial_use and subject_model(store, "auto") != info.id
