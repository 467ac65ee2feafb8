"""TorchScript archives read as data: exact tensors, nothing executed, hostile archives refused."""

from __future__ import annotations

import os
import pickle
import struct
import warnings
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from editor.infer.api import UnsafeModelFile
from editor.infer.convert import converter_kinds, get_converter
from editor.infer.convert.torchscript import TorchScriptError, lama_layout, read_state_dict

warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=FutureWarning)


class Leaf(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.scale = nn.Parameter(torch.randn(4))
        self.register_buffer("f16", torch.randn(6).half())
        self.register_buffer("steps", torch.arange(5))  # int64
        self.register_buffer("flags", torch.tensor([True, False, True]))
        self.register_buffer("strided", torch.randn(3, 4).t())  # non-contiguous: stored with its strides
        self.register_buffer("nothing", None)
        self.plain = torch.ones(2)  # a plain attribute: not part of the state dict

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x)) * self.scale[None, :, None, None] + self.plain.sum()


class Tree(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(Leaf(), nn.ReLU(), nn.Conv2d(4, 2, 1, bias=False))
        self.side = Leaf()
        self.gain = nn.Parameter(torch.tensor(0.5, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) * self.gain.float() + self.side(x)[:, :2]


def _tree() -> Tree:
    torch.manual_seed(3)
    net = Tree()
    with torch.no_grad():  # non-trivial BN statistics
        for bn in (net.body[0].bn, net.side.bn):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.num_batches_tracked.fill_(7)
    return net.eval()


def _save(module: nn.Module, path: Path, how: str, example: torch.Tensor) -> Path:
    scripted = torch.jit.script(module) if how == "script" else torch.jit.trace(module, example)
    scripted.save(str(path))
    return path


@pytest.mark.parametrize("how", ["script", "trace"])
def test_every_tensor_equals_the_modules_state_dict(tmp_path: Path, how: str) -> None:
    net = _tree()
    path = _save(net, tmp_path / f"{how}.pt", how, torch.randn(1, 3, 8, 8))
    got = read_state_dict(path)
    ref = net.state_dict()
    assert list(got) == list(ref)  # same names, same order (parameters, buffers, then submodules)
    for name, value in ref.items():
        assert got[name].dtype == value.dtype and got[name].shape == value.shape, name
        assert torch.equal(got[name], value), name
    assert "body.0.plain" not in got and "body.0.strided" in got and got["body.0.steps"].dtype == torch.int64


def test_converter_is_found_by_kind_and_writes_safetensors(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    net = _tree()
    path = _save(net, tmp_path / "tree.pt", "script", torch.randn(1, 3, 8, 8))
    assert "torchscript" in converter_kinds()
    manifest = {"id": "tree", "convert": {"kind": "torchscript", "output": "tree.safetensors"}}
    out = get_converter("torchscript")(manifest, {"tree.pt": path}, tmp_path / "out")
    assert out == tmp_path / "out" / "tree.safetensors" and not list(out.parent.glob("*.part"))
    loaded = load_file(str(out))
    assert loaded.keys() == net.state_dict().keys()
    assert all(torch.equal(loaded[k], v) for k, v in net.state_dict().items())


# --- hostile and damaged archives ---------------------------------------------------------------


def _with_data_pkl(
    template: Path, dest: Path, data_pkl: bytes, extra: dict[str, bytes] | None = None
) -> Path:
    """A copy of a real TorchScript archive whose data.pkl (and optionally more members) is replaced."""
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(dest, "w") as out:
        for info in src.infolist():
            body = data_pkl if info.filename.endswith("/data.pkl") else src.read(info)
            out.writestr(info.filename, body)
        for name, body in (extra or {}).items():
            out.writestr(name, body)
    return dest


class _System:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):  # the classic payload: unpickling calls os.system(command)
        return (os.system, (self.command,))


def _unicode(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _module_holding(payload_ops: bytes) -> bytes:
    """A `__torch__` module whose attribute dict holds the given pickle ops (a hidden call)."""
    return (
        b"\x80\x02c__torch__\nNet\n)\x81}(" + _unicode("training") + b"\x89" + _unicode("evil")
        + payload_ops + b"ub."
    )


@pytest.fixture()
def template(tmp_path: Path) -> Path:
    return _save(_tree(), tmp_path / "template.pt", "script", torch.randn(1, 3, 8, 8))


@pytest.mark.parametrize("kind", ["reduce", "nested", "build"])
def test_archive_naming_other_globals_is_refused_and_nothing_runs(
    tmp_path: Path, template: Path, kind: str
) -> None:
    marker = tmp_path / "pwned"
    command = f"touch {marker}"
    if kind == "reduce":
        data = pickle.dumps(_System(command), protocol=2)
    elif kind == "nested":  # inside an otherwise plain module's attributes
        data = _module_holding(b"cposix\nsystem\n" + _unicode(command) + b"\x85R")
    else:  # BUILD on an allowed object (OrderedDict) would set arbitrary attributes
        data = b"\x80\x02ccollections\nOrderedDict\n)R}" + _unicode("__class__") + b"K\x01sb."
    bad = _with_data_pkl(template, tmp_path / "bad.pt", data)
    with pytest.raises(UnsafeModelFile, match="refused"):
        read_state_dict(bad)
    with pytest.raises(UnsafeModelFile):
        get_converter("torchscript")({"id": "x"}, {"bad.pt": bad}, tmp_path / "out")
    assert not marker.exists()
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize("name", ["../../escaped.txt", "/abs/path.txt", "archive\\..\\x.txt"])
def test_archive_with_escaping_member_is_refused(tmp_path: Path, template: Path, name: str) -> None:
    with zipfile.ZipFile(template) as src:
        data_pkl = next(src.read(n) for n in src.namelist() if n.endswith("/data.pkl"))
    bad = _with_data_pkl(template, tmp_path / "escape.pt", data_pkl, extra={name: b"x"})
    with pytest.raises(UnsafeModelFile, match="outside the archive"):
        read_state_dict(bad)


def test_members_over_the_size_limits_are_refused(
    template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import editor.infer.convert.torchscript as ts

    with monkeypatch.context() as patched:  # not undo(): that also brings back the user's own folders
        patched.setattr(ts, "MAX_PICKLE_BYTES", 64)
        with pytest.raises(TorchScriptError, match="too large"):
            read_state_dict(template)
    monkeypatch.setattr(ts, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(TorchScriptError, match="too large"):
        read_state_dict(template)


def test_damaged_archives_are_clear_errors(tmp_path: Path, template: Path) -> None:
    not_zip = tmp_path / "plain.pt"
    not_zip.write_bytes(b"not a zip at all")
    with pytest.raises(TorchScriptError, match="not a zip"):
        read_state_dict(not_zip)
    # A storage shorter than its record says (truncated file).
    short = tmp_path / "short.pt"
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(short, "w") as out:
        for info in src.infolist():
            body = src.read(info)
            out.writestr(info.filename, body[:-4] if info.filename.endswith("/data/0") else body)
    with pytest.raises(TorchScriptError, match="damaged"):
        read_state_dict(short)


# --- LaMa naming ----------------------------------------------------------------------------------


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ffc = nn.Module()
        self.ffc.convl2l = nn.Conv2d(4, 2, 3, bias=False)
        self.bn_l = nn.BatchNorm2d(2)


class _Generator(nn.Module):  # FFCResNetGenerator's naming: layers in `model`
    def __init__(self) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.ReflectionPad2d(3), _Block(), nn.Conv2d(2, 3, 1))


class _Holder(nn.Module):
    """A module with named children and a trivial forward, so tracing it is instant."""

    def __init__(self, **children: nn.Module) -> None:
        super().__init__()
        for name, child in children.items():
            self.add_module(name, child)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2


def _big_lama_like(generator: nn.Module) -> nn.Module:
    """big-lama.pt's wrapping: lama's bin/to_jit.py traces JITWrapper(model=training module), whose
    `generator` is the network; a training module holds other tensors too (dropped on conversion)."""
    return _Holder(model=_Holder(generator=generator, discriminator=nn.Conv2d(3, 1, 1)))


@pytest.mark.parametrize("wrap", ["model.generator.", "generator.", "model."])
def test_lama_layout_keeps_only_the_generator_named_as_spandrel_expects(tmp_path: Path, wrap: str) -> None:
    torch.manual_seed(1)
    gen = _Generator()
    top = {
        "model.generator.": _big_lama_like(gen),  # big-lama.pt
        "generator.": _Holder(generator=gen, discriminator=nn.Conv2d(3, 1, 1)),  # a training checkpoint
        "model.": _Holder(model=gen),  # spandrel's own layout (LaMa.model is the generator)
    }[wrap]
    path = tmp_path / "lama.pt"
    torch.jit.trace(top, torch.ones(2)).save(str(path))
    sd = lama_layout(read_state_dict(path))
    expected = {"model.model." + k[len("model."):]: v for k, v in gen.state_dict().items()}
    assert list(sd) == list(expected)
    assert "model.model.1.bn_l.running_mean" in sd and not any("discriminator" in k for k in sd)
    assert all(torch.equal(sd[k], v) for k, v in expected.items())


def test_lama_layout_refuses_weights_without_a_generator(tmp_path: Path, template: Path) -> None:
    with pytest.raises(TorchScriptError, match="not a LaMa model"):
        lama_layout(read_state_dict(template))


@pytest.mark.slow
def test_full_lama_archive_through_store_import_loads_in_spandrel(tmp_path: Path) -> None:
    """spandrel's LaMa (51 M random weights) in big-lama.pt's wrapping → import → convert → safe load.

    The wrapper's forward is trivial so tracing stays fast (tracing LaMa's real forward takes ~20 s);
    the archive still carries every module and tensor of the network.
    """
    from spandrel.architectures.LaMa import LaMa

    from editor.infer.download import sha256_file
    from editor.infer.safe_load import load_model
    from editor.infer.store import ModelStatus, ModelStore

    torch.manual_seed(0)
    net = LaMa(in_nc=4, out_nc=3).eval()
    archive = tmp_path / "big-lama.pt"
    torch.jit.trace(_big_lama_like(net.model), torch.ones(2)).save(str(archive))
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "lama.toml").write_text(f'''
id = "test-lama"
name = "LaMa (test)"
task = "inpaint"
architecture = "LaMa"
code_license = "Apache-2.0"
weights_license = "Apache-2.0"
commercial_use = true
[[files]]
name = "big-lama.pt"
sha256 = "{sha256_file(archive)}"
[convert]
kind = "torchscript"
output = "big-lama.safetensors"
layout = "lama"
''')
    store = ModelStore(tmp_path / "models", manifest_dirs=[manifests])
    info = store.import_file(archive)
    assert info.status is ModelStatus.INSTALLED and store.path("test-lama").name == "big-lama.safetensors"
    model = load_model(store.path("test-lama"))
    assert type(model.model).__name__ == "LaMa" and model.purpose == "Inpainting"
    ref = net.state_dict()
    got = model.model.state_dict()
    # Same class, same weights: same outputs (a forward pass is skipped here: ~10 s on CI's CPUs).
    assert got.keys() == ref.keys() and all(torch.equal(got[k], v) for k, v in ref.items())
