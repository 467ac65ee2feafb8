"""Build numba's compiled-kernel caches ahead of time, so no user waits for a compiler.

What the set-up script and the installer build call (`lucid warm-caches`, or `warm_caches()`): it
compiles PatchMatch's kernels by filling a tiny hole and pymatting's by running each matting engine
on a tiny problem, all into the per-user cache folder the app reads (`editor.infer.numba_cache`);
and for each installed upscaler that can run in ncnn it measures whether torch or ncnn is faster on
this CPU (`editor.infer.cpu_runtime`). Cheap when all that is there already (a second or two).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from editor.infer.numba_cache import configure_numba_cache

PARTS = ("inpaint", "matting", "upscale")


def warm_inpaint() -> None:
    """Fill a small hole with PatchMatch: every kernel runs once (distances, sweeps, both votes)."""
    from editor.infer.inpaint.patchmatch import fill

    rng = np.random.default_rng(0)
    image = rng.random((64, 64, 3)).astype(np.float32)
    hole = np.zeros((64, 64), bool)
    hole[24:40, 20:44] = True
    fill(image, hole)


def warm_matting() -> None:
    from editor.infer.matting.warmup import warm_up

    warm_up()


def choose_upscale_runtimes() -> None:
    """Measure torch against ncnn for every installed model that has an ncnn form (`calibrate` passes
    over the others, from their manifest alone), on the worker's thread count."""
    from editor.infer.cpu_runtime import calibrate
    from editor.infer.device import default_cpu_threads
    from editor.infer.store import ModelStatus, ModelStore

    store = ModelStore()
    for info in store.list():
        if info.status is ModelStatus.INSTALLED:
            calibrate(store, info.manifest.id, default_cpu_threads())


def warm_caches(parts: tuple[str, ...] = PARTS) -> dict[str, float]:
    """Compile (or load) the kernels of each part; seconds per part. Safe to run again."""
    configure_numba_cache()
    steps = {"inpaint": warm_inpaint, "matting": warm_matting, "upscale": choose_upscale_runtimes}
    timings: dict[str, float] = {}
    for part in parts:
        t0 = time.perf_counter()
        steps[part]()
        timings[part] = time.perf_counter() - t0
    return timings


def cache_dir() -> Path:
    return configure_numba_cache()
