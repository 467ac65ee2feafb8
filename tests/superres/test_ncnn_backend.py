"""ncnn as the CPU runtime of models converted from ncnn files: picked on the worker, as exact as the
torch path and as ncnn called directly, torch when ncnn is missing or fails, cancellable per tile.

Real weights (realesrgan-x4plus, fetched into the test models cache) on small crops of a real photo:
x4plus takes about a second per 48² crop per backend on one core.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.core.metrics import psnr
from editor.infer.api import Cancelled, CancelToken, Progress, Request, TaskContext, no_progress
from editor.infer.ncnn_runtime import NcnnNet, NcnnRunError, load_ncnn_net
from editor.infer.service import InferenceService
from editor.infer.store import ModelStore
from editor.infer.tasks.superres import run

torch = pytest.importorskip("torch")
pytest.importorskip("ncnn", reason="the ncnn runtime is not installed")

MODEL = "realesrgan-x4plus"
BAR_DB = 45.0  # issue 19: the CPU path's output against ncnn's


@pytest.fixture(scope="module")
def store(fetched_model) -> ModelStore:
    return ModelStore(fetched_model(MODEL).parent.parent)


def _crop(shared_data: Path, name: str, h: int, w: int, at: tuple[int, int] | None = None) -> np.ndarray:
    """A crop (centred unless `at` is its top left), float32, all the file's channels."""
    img = np.asarray(Image.open(shared_data / "sr" / "realesrgan_inputs" / name), np.float32) / 255
    y, x = at if at is not None else ((img.shape[0] - h) // 2, (img.shape[1] - w) // 2)
    return np.ascontiguousarray(img[y:y + h, x:x + w])


def _service_run(store: ModelStore, image: np.ndarray, **params) -> tuple[np.ndarray, dict]:
    service = InferenceService(store, device="cpu")
    try:
        job = service.submit(Request(task="superres", image=image, model_id=MODEL, params=params))
        result = job.future.result(timeout=600)
    finally:
        service.shutdown()
    return result.image, result.info


def _direct_ncnn(store: ModelStore, rgb: np.ndarray) -> np.ndarray:
    """The reference: the ncnn package on the model's own files, fp32, nothing of Lucid's in between."""
    import ncnn

    files = store.source_files(MODEL)
    net = ncnn.Net()
    for opt in ("use_vulkan_compute", "use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic"):
        setattr(net.opt, opt, False)
    net.load_param(str(files[f"{MODEL}.param"]))
    net.load_model(str(files[f"{MODEL}.bin"]))
    chw = np.ascontiguousarray(rgb.transpose(2, 0, 1))
    ex = net.create_extractor()
    ex.input("data", ncnn.Mat(chw))
    _, out = ex.extract("output")
    return np.clip(np.array(out), 0, 1).transpose(1, 2, 0)


def _fidelity_problem(ours: np.ndarray, ref: np.ndarray, what: str) -> str:
    score = psnr(np.clip(ours, 0, 1), np.clip(ref, 0, 1))
    return "" if score >= BAR_DB else f"{what}: {score:.2f} dB against the reference (bar {BAR_DB:g})"


def _bicubic_x4(rgb: np.ndarray) -> np.ndarray:
    chans = [np.asarray(Image.fromarray(np.ascontiguousarray(rgb[..., c]), mode="F").resize(
        (rgb.shape[1] * 4, rgb.shape[0] * 4), Image.Resampling.BICUBIC)) for c in range(3)]
    return np.stack(chans, axis=-1)


@pytest.mark.slow
def test_worker_runs_ncnn_on_cpu_as_exact_as_torch_and_direct_ncnn(store, shared_data, monkeypatch) -> None:
    rgb = _crop(shared_data, "OST_009.png", 40, 56)[..., :3]  # not square: a transposed axis cannot pass
    ours, info = _service_run(store, rgb)
    assert info["backend"] == "ncnn" and info["device"] == "cpu" and not info["half"]
    assert ours.shape == (160, 224, 3) and ours.dtype == np.float32

    with monkeypatch.context() as patched:  # not undo(): that also brings back the user's own folders
        patched.setitem(sys.modules, "ncnn", None)  # import ncnn now raises ImportError
        torch_out, torch_info = _service_run(store, rgb)
    assert torch_info["backend"] == "torch"

    direct = _direct_ncnn(store, rgb)
    assert not _fidelity_problem(ours, torch_out, "ncnn path vs torch path")
    assert not _fidelity_problem(ours, direct, "ncnn path vs ncnn called directly")
    # The bar tells a real upscaler from a plain resample of the same crop.
    assert _fidelity_problem(_bicubic_x4(rgb), direct, "bicubic stand-in")


@pytest.mark.slow
def test_alpha_through_the_model_and_tiles_agree_with_torch(store, shared_data) -> None:
    """RGBA, alpha run through the network as gray, 2×2 tiles with overlap: the whole pipeline around the
    runner is the same for both backends."""
    rgba = _crop(shared_data, "children-alpha.png", 48, 48, at=(72, 456))  # across the cut-out's edge
    assert rgba.shape[2] == 4 and 0 < rgba[..., 3].mean() < 1
    params = {"alpha": "model", "tile": 32, "overlap": 8}
    with_ncnn = _request(store, rgba, ncnn=True, **params)
    with_torch = _request(store, rgba, ncnn=False, **params)
    a = run(with_ncnn, no_progress, CancelToken())
    b = run(with_torch, no_progress, CancelToken())
    assert (a.info["backend"], b.info["backend"]) == ("ncnn", "torch")
    assert a.image.shape == b.image.shape == (192, 192, 4)
    assert not _fidelity_problem(a.image[..., :3], b.image[..., :3], "colour")
    assert not _fidelity_problem(a.image[..., 3:], b.image[..., 3:], "alpha")


class _Calling:
    """A real net's self-description (scale, architecture…) with another call in its place."""

    def __init__(self, net: NcnnNet, call) -> None:
        self._net, self._call = net, call

    def __getattr__(self, name: str):
        return getattr(self._net, name)

    def __call__(self, tile: np.ndarray) -> np.ndarray:
        return self._call(tile)


def _request(store: ModelStore, image: np.ndarray, *, ncnn: bool, **params) -> Request:
    from editor.infer.safe_load import load_model

    model = load_model(store.path(MODEL))
    ctx = TaskContext(device="cpu", load_model=lambda _id: model,
                      load_ncnn=(lambda _id: load_ncnn_net(store, MODEL, 1)) if ncnn else None)
    return Request(task="superres", image=image, model_id=MODEL, params=params, context=ctx)


def test_missing_runtime_falls_back_to_the_old_torch_path_exactly(store, monkeypatch, caplog) -> None:
    image = np.random.default_rng(1).random((20, 28, 3), dtype=np.float32)
    old = run(_request(store, image, ncnn=False), no_progress, CancelToken())
    monkeypatch.setitem(sys.modules, "ncnn", None)
    with caplog.at_level(logging.WARNING, logger="editor.infer.ncnn_runtime"):
        new = run(_request(store, image, ncnn=True), no_progress, CancelToken())
    assert new.info["backend"] == "torch"
    assert np.array_equal(new.image, old.image)
    assert "ncnn runtime not available" in caplog.text


def test_runtime_that_refuses_the_files_or_a_tile_hands_over_to_torch(store, monkeypatch, caplog) -> None:
    image = np.random.default_rng(2).random((20, 20, 3), dtype=np.float32)
    old = run(_request(store, image, ncnn=False), no_progress, CancelToken())

    def refuse(*_a, **_k):
        raise RuntimeError("simulated load failure")

    with monkeypatch.context() as patched, caplog.at_level(logging.WARNING):  # not undo(): that would
        patched.setattr(NcnnNet, "__init__", refuse)  # also bring back the user's own cache folder
        loaded_bad = run(_request(store, image, ncnn=True), no_progress, CancelToken())
    assert loaded_bad.info["backend"] == "torch" and np.array_equal(loaded_bad.image, old.image)
    assert "simulated load failure" in caplog.text

    def fail(tile: np.ndarray) -> np.ndarray:
        raise NcnnRunError("simulated extract failure")

    req = _request(store, image, ncnn=False)
    failing = _Calling(load_ncnn_net(store, MODEL, 1), fail)
    req.context.load_ncnn = lambda _id: failing
    with caplog.at_level(logging.WARNING):
        failed_tile = run(req, no_progress, CancelToken())
    assert failed_tile.info["backend"] == "torch" and np.array_equal(failed_tile.image, old.image)


def test_models_without_ncnn_files_are_not_offered_to_ncnn(tmp_path, store) -> None:
    """A model whose manifest does not convert from ncnn (a user's import) gets None: torch runs it."""
    class Manifest:
        id = "user-esrgan"
        convert = None
        files = ()

    class Store:
        def manifest(self, _id):
            return Manifest()

        def source_files(self, _id):
            raise AssertionError("no need to hash files for a model without an ncnn form")

    assert load_ncnn_net(Store(), "user-esrgan", 1) is None
    net = load_ncnn_net(store, MODEL, 1)
    assert isinstance(net, NcnnNet) and net.threads == 1 and net.nbytes > 0


def test_worker_gives_ncnn_its_thread_count_and_keeps_the_net(store) -> None:
    seen = []

    def probe(request: Request, progress, cancel) -> object:
        from editor.infer.api import Result

        seen.append(request.context.load_ncnn(MODEL))
        return Result(info={"threads": torch.get_num_threads()})

    service = InferenceService(store, device="cpu", cpu_threads=1, task_resolver=lambda _name: probe)
    try:
        for _ in range(2):
            info = service.submit(Request(task="probe")).future.result(timeout=120).info
    finally:
        service.shutdown()
    assert seen[0] is seen[1], "the net is loaded once and cached with the models"
    assert seen[0].threads == info["threads"] == 1


def test_cancel_between_ncnn_tiles_stops_and_returns_nothing(store, shared_data) -> None:
    net = load_ncnn_net(store, MODEL, 1)
    calls = []

    def count(tile: np.ndarray) -> np.ndarray:
        calls.append(tile.shape)
        return net(tile)

    image = _crop(shared_data, "OST_009.png", 48, 48)[..., :3]
    req = _request(store, image, ncnn=False, tile=24, overlap=8)
    counting = _Calling(net, count)
    req.context.load_ncnn = lambda _id: counting
    token = CancelToken()

    def cancel_at_second_tile(p: Progress) -> None:
        if "tile 2 of" in p.stage:
            token.cancel()

    result = None
    with pytest.raises(Cancelled):
        result = run(req, cancel_at_second_tile, token)
    assert result is None and len(calls) == 2


@pytest.mark.parametrize("model_id", [MODEL, "realesr-animevideov3"])
def test_net_describes_itself_as_the_torch_model_does(model_id: str, fetched_model) -> None:
    """The ncnn path plans from the net alone (no torch model loaded): same scale, architecture,
    channels, overlap and tiles as the spandrel descriptor of the converted weights."""
    from editor.infer.safe_load import load_model
    from editor.infer.tasks.superres import plan

    store = ModelStore(fetched_model(model_id).parent.parent)
    net, desc = load_ncnn_net(store, model_id, 1), load_model(store.path(model_id))
    for attr in ("scale", "input_channels", "output_channels"):
        assert getattr(net, attr) == getattr(desc, attr), attr
    assert net.architecture.id == desc.architecture.id
    assert net.size_requirements.multiple_of == desc.size_requirements.multiple_of
    for shape in ((300, 500, 3), (64, 48, 3)):
        assert plan(shape, net, {}, "cpu") == plan(shape, desc, {}, "cpu")


def test_ncnn_path_never_loads_the_torch_model(store) -> None:
    def no_torch(_id: str):
        raise AssertionError("the torch model was loaded on the ncnn path")

    net = load_ncnn_net(store, MODEL, 1)
    req = Request(task="superres", image=np.zeros((12, 16, 3), np.float32), model_id=MODEL,
                  context=TaskContext(device="cpu", load_model=no_torch, load_ncnn=lambda _id: net))
    res = run(req, no_progress, CancelToken())
    assert res.info["backend"] == "ncnn" and res.image.shape == (48, 64, 3)


_CLI_WITHOUT_GPU = """
import sys
from editor.infer import device
device._gpu_driver_present = lambda: False  # as on a machine without a GPU driver
from editor.cli import main
rc = main(sys.argv[1:])
print("torch imported:", "torch" in sys.modules, "threads:", device.cpu_threads())
sys.exit(rc)
"""


@pytest.mark.slow
def test_cli_on_a_machine_without_gpu_runs_ncnn_without_importing_torch(store, shared_data, tmp_path) -> None:
    """`lucid upscale` (device auto) on the ncnn path: torch, spandrel and the torch weights cost more
    than the network on a small image, so none of them loads; the output matches ncnn's own."""
    import os
    import subprocess

    rgb = _crop(shared_data, "OST_009.png", 24, 32)[..., :3]
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(np.round(rgb * 255).astype(np.uint8)).save(src)
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    proc = subprocess.run([sys.executable, "-c", _CLI_WITHOUT_GPU, "upscale", str(src), "-o", str(out),
                           "--model", MODEL, "--models-dir", str(store.models_dir)],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[2], env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"{MODEL} in ncnn" in proc.stdout
    from editor.infer.device import default_cpu_threads

    assert f"torch imported: False threads: {default_cpu_threads()}" in proc.stdout
    ref = _direct_ncnn(store, np.asarray(Image.open(src), np.float32) / 255)
    assert not _fidelity_problem(np.asarray(Image.open(out), np.float32) / 255, ref, "lucid upscale vs ncnn")


def test_head_in_strips_gives_the_whole_nets_output(store, shared_data, monkeypatch) -> None:
    """RRDBNet's upsampling head runs in strips (a quarter of the memory); with the halo the output is
    ncnn's whole-net output; without it the strip edges show."""
    import editor.infer.ncnn_runtime as rt

    net = load_ncnn_net(store, MODEL, 1)
    assert net.head_input is not None
    rgb = _crop(shared_data, "OST_009.png", 2 * rt.HEAD_ROWS + 5, 24)[..., :3]  # 3 strips, one partial
    staged = net(rgb)
    whole = _direct_ncnn(store, rgb)
    assert np.abs(np.clip(staged, 0, 1) - whole).max() <= 1e-6
    monkeypatch.setattr(rt, "HEAD_HALO", 0)
    assert np.abs(np.clip(net(rgb), 0, 1) - whole).max() > 1e-3, "the test cannot see a missing halo"
