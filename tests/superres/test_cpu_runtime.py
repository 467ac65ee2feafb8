"""Which CPU runtime upscales is measured per machine (`editor.infer.cpu_runtime`) and heeded by the loader.

On one CPU torch ran x4plus at 0.87× ncnn's speed, on another at 1.29×: a fixed choice is wrong somewhere.
Real x4plus weights; the timings are the runtimes' own (tiny tiles, so this is plumbing, not a benchmark)
except where a test fixes them to check the decision.
"""

from __future__ import annotations

import numpy as np
import pytest

from editor.infer import cpu_runtime
from editor.infer.api import Request
from editor.infer.ncnn_runtime import NcnnNet, load_ncnn_net
from editor.infer.service import InferenceService
from editor.infer.store import ModelStore

torch = pytest.importorskip("torch")
pytest.importorskip("ncnn", reason="the ncnn runtime is not installed")

MODEL = "realesrgan-x4plus"


@pytest.fixture(scope="module")
def store(fetched_model) -> ModelStore:
    return ModelStore(fetched_model(MODEL).parent.parent)


def _fixed_times(monkeypatch, ncnn: float, torch_s: float) -> None:
    monkeypatch.setattr(cpu_runtime, "best_seconds",
                        lambda call, _tile, _repeats: ncnn if isinstance(call, NcnnNet) else torch_s)


def _backend(store: ModelStore) -> str:
    service = InferenceService(store, device="cpu")
    try:
        image = np.random.default_rng(0).random((24, 20, 3)).astype(np.float32)
        job = service.submit(Request(task="superres", image=image, model_id=MODEL))
        return job.future.result(timeout=600).info["backend"]
    finally:
        service.shutdown()


def test_a_real_calibration_times_both_runtimes_and_records_the_faster(store) -> None:
    entry = cpu_runtime.calibrate(store, MODEL, 1, tile=32, repeats=1)
    assert entry is not None and entry["ncnn_seconds"] > 0 and entry["torch_seconds"] > 0
    faster = "ncnn" if entry["ncnn_seconds"] <= entry["torch_seconds"] else "torch"
    assert entry["runtime"] == faster == cpu_runtime.preferred(MODEL, 1)
    assert cpu_runtime.preferred(MODEL, 2) is None  # measured for one thread count only


def test_where_torch_measured_faster_the_upscaler_runs_torch_and_ncnn_otherwise(store, monkeypatch) -> None:
    from editor.infer.device import default_cpu_threads

    threads = default_cpu_threads()  # what the worker runs on, and what warm-caches measures
    assert _backend(store) == "ncnn"  # never measured: ncnn
    _fixed_times(monkeypatch, ncnn=2.0, torch_s=1.0)
    assert cpu_runtime.calibrate(store, MODEL, threads)["runtime"] == "torch"
    assert load_ncnn_net(store, MODEL, threads) is None
    assert isinstance(load_ncnn_net(store, MODEL, threads, measured=False), NcnnNet)
    assert _backend(store) == "torch"
    _fixed_times(monkeypatch, ncnn=1.0, torch_s=2.0)
    assert cpu_runtime.calibrate(store, MODEL, threads)["runtime"] == "torch"  # kept unless asked again
    assert cpu_runtime.calibrate(store, MODEL, threads, again=True)["runtime"] == "ncnn"
    assert _backend(store) == "ncnn"


def test_a_damaged_record_means_not_measured(store) -> None:
    path = cpu_runtime.record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    assert cpu_runtime.preferred(MODEL, 1) is None
    assert isinstance(load_ncnn_net(store, MODEL, 1), NcnnNet)
