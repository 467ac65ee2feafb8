"""Generators load from rosinality .pt, safetensors and NVIDIA network pickles — and the code embedded
in an NVIDIA pickle is never run."""

from __future__ import annotations

import builtins
import pickle
import sys
import types
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from editor.infer.api import InferenceError, UnsafeModelFile
from editor.infer.latent.loaders import load_generator, save_rosinality, save_safetensors
from editor.infer.latent.stylegan2 import StyleGAN2Generator
from tests.latent.conftest import make_tiny


def _outputs(gen: StyleGAN2Generator) -> torch.Tensor:
    with torch.no_grad():
        ws = gen.mapping(gen.sample_latent(2, seed=3))[:, None].expand(-1, gen.num_ws, -1)
        return gen.synthesis(ws)


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_round_trip_same_images(tmp_path: Path, tiny: StyleGAN2Generator, suffix: str) -> None:
    path = tmp_path / f"g{suffix}"
    (save_rosinality if suffix == ".pt" else save_safetensors)(tiny, path)
    loaded = load_generator(path)
    assert isinstance(loaded, StyleGAN2Generator)
    assert loaded.d is not None and loaded.sha256 is not None and len(loaded.sha256) == 64
    assert torch.equal(_outputs(loaded), _outputs(tiny))
    assert torch.equal(loaded.mean_w(), tiny.mean_w())
    img = torch.rand(1, 3, 32, 32) * 2 - 1
    for a, b in zip(loaded.discriminator_features(img), tiny.discriminator_features(img), strict=True):
        assert torch.equal(a, b)


# --- an NVIDIA-style network pickle, written from the public format description ------------------
# stylegan2-ada-pytorch pickles `dict(G=..., D=..., G_ema=...)`; each network is a persistent class
# whose __reduce__ gives `torch_utils.persistence._reconstruct_persistent_obj(meta)` with meta =
# {type, version, module_src, class_name, state}; the real hook exec()s module_src. state is the
# nn.Module __dict__: _parameters/_buffers (OrderedDicts of tensors), _modules, init_kwargs (EasyDict).


class _Net:
    def __init__(
        self,
        class_name: str,
        src: str,
        params: dict,
        buffers: dict | None = None,
        children: dict | None = None,
        kwargs: dict | None = None,
    ) -> None:
        self.meta_args = (class_name, src, params, buffers or {}, children or {}, kwargs or {})

    def __reduce__(self):
        class_name, src, params, buffers, children, kwargs = self.meta_args
        easy = sys.modules["dnnlib.util"].EasyDict(kwargs)
        state = {
            "training": False,
            "_parameters": OrderedDict(params),
            "_buffers": OrderedDict(buffers),
            "_modules": OrderedDict(children),
            "init_args": (),
            "init_kwargs": easy,
        }
        meta = {"type": "class", "version": 4, "module_src": src, "class_name": class_name, "state": state}
        return (sys.modules["torch_utils.persistence"]._reconstruct_persistent_obj, (meta,))


def _install_fake_nvidia_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    persistence = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):  # what the real hook does: run the embedded source
        exec(meta["module_src"], {})
        return meta

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj
    util = types.ModuleType("dnnlib.util")

    class EasyDict(dict):
        pass

    EasyDict.__module__ = "dnnlib.util"
    EasyDict.__qualname__ = "EasyDict"
    util.EasyDict = EasyDict
    for name, mod in {
        "torch_utils": types.ModuleType("torch_utils"),
        "torch_utils.persistence": persistence,
        "dnnlib": types.ModuleType("dnnlib"),
        "dnnlib.util": util,
    }.items():
        monkeypatch.setitem(sys.modules, name, mod)


def _leaf(name: str, src: str, tensors: dict) -> _Net:
    params = {
        k: torch.nn.Parameter(v.clone()) for k, v in tensors.items() if k not in ("noise_const", "w_avg")
    }
    buffers = {k: v.clone() for k, v in tensors.items() if k in ("noise_const", "w_avg")}
    buffers["resample_filter"] = torch.ones(4, 4) / 16
    return _Net(name, src, params, buffers)


def _nvidia_networks(gen: StyleGAN2Generator, src: str) -> dict:
    """The tiny generator's weights in NVIDIA's layout (names, shapes), as persistent objects."""
    sd = gen.g.state_dict()

    def layer(p: str, noise: int | None) -> dict:
        t = {"weight": sd[f"{p}.conv.weight"][0], "affine": None}
        out = {"weight": t["weight"]}
        if noise is None:
            out["bias"] = sd[f"{p}.bias"].view(-1)
        else:
            out["bias"] = sd[f"{p}.activate.bias"]
            out["noise_strength"] = sd[f"{p}.noise.weight"].reshape(())
            out["noise_const"] = sd[f"noises.noise_{noise}"][0, 0]
        return out

    def synth_layer(cls: str, p: str, noise: int | None) -> _Net:
        net = _leaf(cls, src, layer(p, noise))
        aff = {
            "weight": torch.nn.Parameter(sd[f"{p}.conv.modulation.weight"].clone()),
            "bias": torch.nn.Parameter(sd[f"{p}.conv.modulation.bias"].clone()),
        }
        net.meta_args[4]["affine"] = _Net("training.networks.FullyConnectedLayer", src, aff)
        return net

    blocks = {
        "b4": _Net(
            "training.networks.SynthesisBlock",
            src,
            {"const": torch.nn.Parameter(sd["input.input"][0].clone())},
            children={
                "conv1": synth_layer("training.networks.SynthesisLayer", "conv1", 0),
                "torgb": synth_layer("training.networks.ToRGBLayer", "to_rgb1", None),
            },
        )
    }
    for k in range(len(gen.g.to_rgbs)):
        r = 2 ** (k + 3)
        blocks[f"b{r}"] = _Net(
            "training.networks.SynthesisBlock",
            src,
            {},
            {"resample_filter": torch.ones(4, 4)},
            {
                "conv0": synth_layer("training.networks.SynthesisLayer", f"convs.{2 * k}", 2 * k + 1),
                "conv1": synth_layer("training.networks.SynthesisLayer", f"convs.{2 * k + 1}", 2 * k + 2),
                "torgb": synth_layer("training.networks.ToRGBLayer", f"to_rgbs.{k}", None),
            },
        )
    fcs = {
        f"fc{i}": _Net(
            "training.networks.FullyConnectedLayer",
            src,
            {
                "weight": torch.nn.Parameter(sd[f"style.{i + 1}.weight"].clone()),
                "bias": torch.nn.Parameter(sd[f"style.{i + 1}.bias"].clone()),
            },
        )
        for i in range(gen.g.n_mlp)
    }
    mapping = _Net("training.networks.MappingNetwork", src, {}, {"w_avg": gen.mean_w()}, fcs)
    g_ema = _Net(
        "training.networks.Generator",
        src,
        {},
        {},
        {"synthesis": _Net("training.networks.SynthesisNetwork", src, {}, {}, blocks), "mapping": mapping},
        kwargs={"z_dim": gen.latent_dim, "c_dim": 0, "img_resolution": gen.resolution},
    )
    dsd = gen.d.state_dict()
    top = gen.resolution
    dblocks = {}
    for j in range(1, len(gen.d.convs)):
        r = top // 2 ** (j - 1)
        params = {
            "conv0": {"weight": dsd[f"convs.{j}.conv1.0.weight"], "bias": dsd[f"convs.{j}.conv1.1.bias"]},
            "conv1": {"weight": dsd[f"convs.{j}.conv2.1.weight"], "bias": dsd[f"convs.{j}.conv2.2.bias"]},
            "skip": {"weight": dsd[f"convs.{j}.skip.1.weight"]},
        }
        if j == 1:
            params["fromrgb"] = {"weight": dsd["convs.0.0.weight"], "bias": dsd["convs.0.1.bias"]}
        dblocks[f"b{r}"] = _Net(
            "training.networks.DiscriminatorBlock",
            src,
            {},
            {},
            {
                k: _Net(
                    "training.networks.Conv2dLayer",
                    src,
                    {n: torch.nn.Parameter(t.clone()) for n, t in v.items()},
                )
                for k, v in params.items()
            },
        )
    epi = {
        "conv": ("final_conv.0.weight", "final_conv.1.bias"),
        "fc": ("final_linear.0.weight", "final_linear.0.bias"),
        "out": ("final_linear.1.weight", "final_linear.1.bias"),
    }
    dblocks["b4"] = _Net(
        "training.networks.DiscriminatorEpilogue",
        src,
        {},
        {},
        {
            k: _Net(
                "training.networks.Layer",
                src,
                {"weight": torch.nn.Parameter(dsd[w].clone()), "bias": torch.nn.Parameter(dsd[b].clone())},
            )
            for k, (w, b) in epi.items()
        },
    )
    d = _Net("training.networks.Discriminator", src, {}, {}, dblocks, kwargs={"c_dim": 0})
    return {
        "G": g_ema,
        "D": d,
        "G_ema": g_ema,
        "augment_pipe": None,
        "training_set_kwargs": {"resolution": 32},
    }


def test_nvidia_pickle_loads_tensors_and_never_runs_its_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = make_tiny()
    marker = tmp_path / "embedded_code_ran"
    src = f"open({str(marker)!r}, 'w').write('ran')\n"
    _install_fake_nvidia_modules(monkeypatch)
    path = tmp_path / "network-snapshot.pkl"
    path.write_bytes(pickle.dumps(_nvidia_networks(gen, src), protocol=4))
    # The payload is live: an ordinary unpickler with NVIDIA's code importable runs it.
    pickle.loads(path.read_bytes())
    assert marker.exists()
    marker.unlink()
    for name in ("torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util"):
        monkeypatch.delitem(sys.modules, name)

    loaded = load_generator(path)
    assert not marker.exists()
    assert isinstance(loaded, StyleGAN2Generator) and loaded.d is not None
    assert torch.equal(_outputs(loaded), _outputs(gen))
    assert torch.equal(loaded.mean_w(), gen.mean_w())
    img = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(loaded.d(img), gen.d(img))


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.open, (str(self.marker), "w"))


def test_pickle_naming_other_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "opened"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G_ema": _Evil(marker)}, protocol=4))
    with pytest.raises(UnsafeModelFile, match=r"names (io|builtins)\.open"):
        load_generator(path)
    assert not marker.exists()


def test_torch_checkpoint_with_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "opened"
    path = tmp_path / "evil.pt"
    torch.save({"g_ema": {}, "x": _Evil(marker)}, path)
    with pytest.raises(UnsafeModelFile):
        load_generator(path)
    assert not marker.exists()


def test_unknown_file_is_a_readable_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(InferenceError, match=r"junk\.pt"):
        load_generator(path)
    other = tmp_path / "other.safetensors"
    from safetensors.torch import save_file

    save_file({"conv.weight": torch.zeros(2, 2)}, str(other))
    with pytest.raises(InferenceError, match="not a StyleGAN2 or BEGAN"):
        load_generator(other)
