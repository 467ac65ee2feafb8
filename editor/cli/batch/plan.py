"""How many worker processes a batch runs and how many torch threads each gets.

Why processes and not threads: decoding, encoding and the numpy glue hold the GIL, and a crashed or
killed worker must not take the batch's bookkeeping with it. Each worker costs a Python + torch
runtime plus the model's working memory (its manifest's `memory_mb`), so memory caps the count
before the cores do. One GPU is shared by one GPU worker; more would only queue on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

PROCESS_OVERHEAD_MB = 400  # a warmed-up upscale worker, its own pages (USS): measured 376 MB here
MEMORY_HEADROOM = 0.8  # leave a fifth of the available memory to the rest of the machine


@dataclass(frozen=True)
class WorkerPlan:
    workers: int
    threads: int  # torch intra-op threads per worker
    device: str  # where model work runs: "cpu", "cuda", "mps"
    reason: str  # one line a person can check ("2 cores, 21 GB free, 1030 MB per worker")


def plan_workers(*, files: int, cores: int, available_mb: int, memory_mb: int | None, device: str,
                 workers: int | None = None, threads: int | None = None) -> WorkerPlan:
    """Choose workers and threads per worker; `workers`/`threads` given by the user win."""
    cores = max(1, cores)
    need = PROCESS_OVERHEAD_MB + (memory_mb or 0)
    by_memory = max(1, int(available_mb * MEMORY_HEADROOM) // need)
    if workers is None:
        if device in ("cuda", "mps"):
            workers, why = 1, f"one worker on the {device} GPU"
        else:
            workers = max(1, min(cores, by_memory, files or 1))
            why = f"{cores} cores, {available_mb / 1024:.1f} GB available, {need} MB per worker"
    else:
        workers = max(1, workers)
        why = "--workers"
    if threads is None:
        threads = cores if device in ("cuda", "mps") else max(1, cores // workers)
    return WorkerPlan(workers, max(1, threads), device, why)


def machine_cores() -> int:
    """Cores this process may use (the affinity mask under taskset/containers), else the CPU count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def available_memory_mb() -> int:
    from editor.infer.device import free_memory_bytes

    return free_memory_bytes("cpu") // (1 << 20)
