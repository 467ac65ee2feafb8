"""Fill numba's on-disk cache for pymatting so no user waits for compilation in the foreground.

The app calls `start_warm_up()` once at start-up (non-blocking; see there). `warm_up()` does the work
in the calling thread; it is cheap when the cache is already warm (about a second to import
pymatting and run each engine on a 16×16 image), about a minute when it is cold.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from editor.infer.numba_cache import configure_numba_cache

_lock = threading.Lock()
_done = False


def is_warm(cache_dir: Path | None = None) -> bool:
    """True when the numba cache already holds pymatting's kernels (a later import is fast)."""
    folder = cache_dir or configure_numba_cache()
    return any(p.name.startswith(("cf_laplacian", "estimate_foreground_ml")) for p in folder.rglob("*.nbi"))


def _tiny_problem() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    image = rng.random((16, 16, 3))
    trimap = np.full((16, 16), 0.5)
    trimap[:, :4] = 0.0
    trimap[:, 12:] = 1.0
    return image, trimap


def warm_up() -> dict[str, float]:
    """Import pymatting and run every engine once; return seconds per step.

    Thread-safe and idempotent within a process. Safe to call from a worker thread (no Qt, no
    globals beyond numba's cache folder, which `configure_numba_cache()` set on package import).
    """
    global _done
    with _lock:
        timings: dict[str, float] = {}
        if _done:
            return timings
        configure_numba_cache()
        t0 = time.perf_counter()
        import pymatting

        timings["import"] = time.perf_counter() - t0
        from editor.infer.matting.engines import ENGINES, estimate_alpha, estimate_foreground

        image, trimap = _tiny_problem()
        alpha = None
        for engine in ENGINES:
            t0 = time.perf_counter()
            alpha = estimate_alpha(image, trimap, engine)
            timings[engine] = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert alpha is not None
        estimate_foreground(image.astype(np.float32), np.clip(alpha + 0.01, 0, 1))
        pymatting.estimate_foreground_ml(image.astype(np.float32), trimap.astype(np.float32))
        timings["foreground"] = time.perf_counter() - t0
        _done = True
        return timings


def start_warm_up() -> threading.Thread | subprocess.Popen | None:
    """Warm the cache without blocking the caller; what the app calls once at start-up.

    Returns None when the cache is already warm. Otherwise, from a normal install, a child process
    (`python -m editor.infer.matting.warmup`): numba's compiler holds the GIL for most of a minute,
    and in a child it cannot make the UI stutter; the cache it writes is shared through the folder.
    In a frozen build (no `python -m`), a daemon thread in this process does the same work.
    """
    if is_warm():
        return None
    if getattr(sys, "frozen", False):
        thread = threading.Thread(target=warm_up, name="matting-warm-up", daemon=True)
        thread.start()
        return thread
    env = dict(os.environ, NUMBA_CACHE_DIR=str(configure_numba_cache()))
    return subprocess.Popen(
        [sys.executable, "-m", "editor.infer.matting.warmup"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


if __name__ == "__main__":
    print(warm_up())
