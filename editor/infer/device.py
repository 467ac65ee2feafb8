"""Where models run: CUDA > MPS > CPU unless Preferences say otherwise; fp16 only where it is safe.

Imports torch lazily so the UI can list device choices cheaply; everything here is called from the
worker thread that owns torch.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from editor.infer.api import InferenceError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _torch() -> Any:
    import torch

    return torch


def cuda_available() -> bool:
    return bool(_torch().cuda.is_available())


def mps_available() -> bool:
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


def cpu_threads() -> int:
    """The CPU thread count jobs use (torch's, as `set_cpu_threads` left it): other runtimes match it."""
    return int(_torch().get_num_threads())


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
