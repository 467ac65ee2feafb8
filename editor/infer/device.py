"""Where models run: CUDA > MPS > CPU unless Preferences say otherwise; fp16 only where it is safe.

Imports torch lazily so the UI can list device choices cheaply; everything here is called from the
worker thread that owns torch.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from editor.infer.api import InferenceError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _torch() -> Any:
    import torch

    return torch


# The GPU driver libraries torch's CUDA (or ROCm) build loads by name: without one, torch cannot find a
# GPU either, so the answer "CPU" needs no torch import (1–3 s at start-up, the ncnn path's whole cost).
_GPU_DRIVERS = {"win32": ("nvcuda.dll", "amdhip64.dll")}
_GPU_DRIVERS_POSIX = ("libcuda.so.1", "libcuda.so", "libamdhip64.so")


def _gpu_driver_present() -> bool:
    """Whether a GPU driver library torch could use loads here (cheap, torch-free; True on macOS)."""
    import ctypes

    if sys.platform == "darwin":
        return True
    for name in _GPU_DRIVERS.get(sys.platform, _GPU_DRIVERS_POSIX):
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


def cuda_available() -> bool:
    if "torch" not in sys.modules and not _gpu_driver_present():
        return False
    return bool(_torch().cuda.is_available())


def mps_available() -> bool:
    if "torch" not in sys.modules and sys.platform != "darwin":
        return False
    backend = getattr(_torch().backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[str]:
    out = ["cpu"]
    if cuda_available():
        out.insert(0, "cuda")
    if mps_available():
        out.insert(0 if "cuda" not in out else 1, "mps")
    return out


def resolve_device(preference: str = "auto") -> str:
    """The device to use for a preference ("auto" | "cpu" | "cuda" | "mps"); no silent fallback."""
    pref = (preference or "auto").lower()
    if pref not in DEVICE_CHOICES:
        raise InferenceError(f"Unknown device '{preference}'. Choose one of: {', '.join(DEVICE_CHOICES)}.")
    if pref == "auto":
        return available_devices()[0]
    if pref == "cuda" and not cuda_available():
        raise InferenceError("The CUDA device was chosen in Preferences but no usable NVIDIA GPU was found.")
    if pref == "mps" and not mps_available():
        raise InferenceError("The Apple GPU (MPS) was chosen in Preferences but is not available here.")
    return pref


def use_half(device: str, model: Any) -> bool:
    """fp16 only on CUDA and only when the model says it supports it (spandrel's `supports_half`)."""
    return device.startswith("cuda") and bool(getattr(model, "supports_half", False))


def default_cpu_threads() -> int:
    """Leave one core for the GUI thread: the main loop stalls otherwise (see bench_ui_stall)."""
    return max(1, (os.cpu_count() or 1) - 1)


def set_cpu_threads(n: int | None = None) -> int:
    """Set torch's intra-op CPU thread count (process-wide); returns the count used."""
    count = max(1, int(n)) if n else default_cpu_threads()
    _torch().set_num_threads(count)
    return count


@contextlib.contextmanager
def numba_threads(n: int | None = None) -> Iterator[int]:
    """numba's parallel kernels (PatchMatch) under the same policy as torch: leave one core for the GUI.

    numba otherwise starts a thread per core, and its OpenMP threads spin at every barrier: on a busy
    2-core machine the fill bench (`bench_inpaint.py --bar`) took 0.89 s of CPU per 512² photo with two
    threads against 0.31 s with one, at the same result (the kernels are deterministic at any count).
    numba's setting is per calling thread, so it is restored afterwards.
    """
    import numba

    count = max(1, min(int(n) if n else default_cpu_threads(), numba.config.NUMBA_NUM_THREADS))
    before = numba.get_num_threads()
    numba.set_num_threads(count)
    try:
        yield count
    finally:
        numba.set_num_threads(before)


def set_cpu_threads_lazily(n: int | None = None) -> int:
    """`set_cpu_threads` without importing torch: when torch is not loaded yet the count goes to
    OMP_NUM_THREADS, which torch reads when (if) it loads. For one-shot commands whose ncnn path never
    needs torch."""
    if "torch" in sys.modules:
        return set_cpu_threads(n)
    count = max(1, int(n)) if n else default_cpu_threads()
    os.environ["OMP_NUM_THREADS"] = str(count)
    return count


def cpu_threads() -> int:
    """The CPU thread count jobs use, for runtimes beside torch to match: torch's when it is loaded
    (`set_cpu_threads`, a batch worker), else the count torch would take when it loads."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return int(torch.get_num_threads())
    env = os.environ.get("OMP_NUM_THREADS", "")
    return int(env) if env.isdigit() and int(env) > 0 else default_cpu_threads()


def free_memory_bytes(device: str) -> int:
    """Memory a model could still use on `device` (GPU: free VRAM; CPU: available RAM)."""
    if device.startswith("cuda"):
        free, _total = _torch().cuda.mem_get_info()
        return int(free)
    if device == "mps":
        mps = _torch().mps
        limit = getattr(mps, "recommended_max_memory", lambda: 0)()
        used = getattr(mps, "driver_allocated_memory", lambda: 0)()
        if limit:
            return max(0, int(limit) - int(used))
    return _available_ram()


def _available_ram() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    if hasattr(os, "sysconf") and "SC_AVPHYS_PAGES" in os.sysconf_names:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    return 2 << 30  # unknown platform: assume a modest 2 GiB


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a GPU out-of-memory error (checked without importing torch if it never was)."""
    torch = sys.modules.get("torch")
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None) if torch else None
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def empty_cache(device: str) -> None:
    """Give cached GPU memory back to the driver (after evicting models or an OOM)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device == "mps" and hasattr(torch, "mps") and hasattr(torch.mps, "empty_cache"):
        torch.mps.empty_cache()
