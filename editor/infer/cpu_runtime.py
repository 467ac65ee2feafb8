"""Which runtime runs an ncnn-sourced upscaler on this CPU: measured here, not assumed.

Why measure: the faster of torch (oneDNN) and ncnn depends on the CPU. Where issue 19 was measured,
torch ran Real-ESRGAN x4plus at 0.87× ncnn's speed; on a later 2-core Xeon, one thread, the same 256²
upscale took 17.8 s in torch and 22.2 s in ncnn (tests/bench/bench_superres.py). So `lucid warm-caches`
(the set-up script and the installer run it) times one tile in each runtime, per model and thread
count, and records the faster in the user cache folder; the upscaler reads that record. Without one
(set-up never ran), ncnn runs: it needs no torch import, and its speed does not hang on whether
oneDNN has tuned kernels for this CPU.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from editor.core.atomic import atomic_write_bytes

log = logging.getLogger(__name__)

RECORD_NAME = "cpu-runtime.json"
# Input pixels per side of the timed tile. Small tiles hide the difference: x4plus on one thread, ncnn's
# time over torch's, was 1.03 at 96², 1.18 at 128², 1.32 at 192², 1.29 at 256² (the size real jobs
# tile at); 128² shows it at 4 s per call.
TILE = 128
REPEATS = 2  # timed calls per runtime, after a small warm-up call each; the best counts


def record_path() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("Lucid", appauthor=False)) / RECORD_NAME


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def machine_key(model_id: str, threads: int) -> str:
    """What a measurement holds for: the model, thread count, CPU and both runtimes' versions."""
    return (f"{model_id}|{threads} threads|{_cpu_name()}|torch {_version('torch')}"
            f"|ncnn {_version('ncnn')}")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def preferred(model_id: str, threads: int, path: Path | None = None) -> str | None:
    """"torch" or "ncnn" as measured here for this model and thread count; None when never measured."""
    entry = _read(path or record_path()).get(machine_key(model_id, threads))
    runtime = entry.get("runtime") if isinstance(entry, dict) else None
    return runtime if runtime in ("torch", "ncnn") else None


def best_seconds(call, tile: np.ndarray, repeats: int, *, warm: bool = True) -> float:
    """The fastest of `repeats` timed calls, after a small warm-up call (first-call allocations, kernel
    selection) unless `warm` is False."""
    if warm:
        call(tile[:64, :64])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call(tile)
        times.append(time.perf_counter() - t0)
    return min(times)


def calibrate(store: Any, model_id: str, threads: int, *, tile: int = TILE, repeats: int = REPEATS,
              path: Path | None = None, again: bool = False) -> dict[str, Any] | None:
    """Time one tile in torch and in ncnn on `threads` threads and record the faster.

    Returns the record (runtime, seconds for each), or None for a model without an ncnn form or when
    ncnn cannot load it. An existing record for this machine is kept unless `again`.
    """
    from editor.infer.ncnn_runtime import load_ncnn_net

    path = path or record_path()
    key = machine_key(model_id, threads)
    data = _read(path)
    if not again and isinstance(data.get(key), dict):
        return data[key]
    net = load_ncnn_net(store, model_id, threads, measured=False)
    if net is None:
        return None
    import torch

    from editor.infer.safe_load import load_model
    from editor.infer.tasks.superres import TorchRunner

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        runner = TorchRunner(load_model(store.path(model_id)), "cpu", half=False)
        x = np.random.default_rng(0).random((tile, tile, 3), dtype=np.float32)
        seconds = {"ncnn": best_seconds(net, x, repeats), "torch": best_seconds(runner, x, repeats)}
    finally:
        torch.set_num_threads(before)
    entry = {"runtime": min(seconds, key=seconds.__getitem__), "tile": tile,
             **{f"{k}_seconds": round(v, 4) for k, v in seconds.items()}}
    data[key] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))
    log.info("%s on %d CPU threads: %s (%s)", model_id, threads, entry["runtime"], seconds)
    return entry
