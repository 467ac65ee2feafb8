"""The function every batch worker runs, on a local process or a Dask worker alike.

A worker process sets its thread count and loads the task's model once (`prepare`, the pool's
initializer, or lazily on a cluster worker's first file), then calls the command's own one-file
function per file. Every error becomes a value (`Outcome`) so one bad photo never stops the batch.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from dataclasses import dataclass, field

from editor.core.errors import LucidError


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker needs to know; small and picklable (it crosses to spawned processes)."""

    task: str
    options: tuple[str, ...]
    threads: int
    device: str | None = None  # replaces the task's --device (auto → the planner's choice)


@dataclass(frozen=True)
class FileJob:
    key: str  # the input's path relative to IN_DIR (the manifest's key)
    input: str
    output: str
    matched: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    key: str
    ok: bool
    message: str  # "wrote …" or the one-line reason it failed
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    setup_failed: bool = False  # the task could not start (model missing): every file would fail alike
    worker: int = 0  # pid, to show the files really spread over processes


_lock = threading.Lock()
_prepared: dict[WorkerConfig, tuple[object, LucidError | None]] = {}


def limit_threads(threads: int) -> None:
    """Torch/OpenMP threads for this process: set before torch loads, and on torch if it already has.

    0 leaves them as they are (a cluster worker: its scheduler already sized them)."""
    # Idle OpenMP threads sleep instead of spinning: several workers share the cores, and spinning
    # threads steal them from each other (measured here: 1.2 s → 0.1 s per file under load).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if threads <= 0:
        return
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def prepare(config: WorkerConfig):
    """Parse the options and warm the model up, once per process per config; returns (task, error)."""
    with _lock:
        if config not in _prepared:
            from editor.cli.batch.tasks import parse_task

            limit_threads(config.threads)
            error: LucidError | None = None
            task = None
            try:
                task = parse_task(config.task, config.options)
                if config.device is not None and hasattr(task.namespace, "device"):
                    task.namespace.device = config.device
                if task.spec.warm_up is not None:
                    task.spec.warm_up(task.namespace)
            except LucidError as exc:
                error = exc
            except Exception as exc:  # a broken installation: report it per file, keep the pool alive
                error = LucidError(f"the {config.task} task could not start ({type(exc).__name__}: {exc})")
            limit_threads(config.threads)  # torch may have loaded during the warm-up
            _prepared[config] = (task, error)
        return _prepared[config]


def run_file(config: WorkerConfig, job: FileJob) -> Outcome:
    """Process one file with the command's own function; never raises for a bad file."""
    start = time.monotonic()
    task, error = prepare(config)
    if error is not None:
        return Outcome(job.key, False, error.message, setup_failed=True, worker=os.getpid())
    captured = io.StringIO()  # notes the command prints ("reduced to 8-bit") go with the outcome
    try:
        with contextlib.redirect_stderr(captured), contextlib.redirect_stdout(io.StringIO()):
            message = task.spec.process(task.for_file(job.input, job.output, job.matched))
        ok = True
    except LucidError as exc:
        ok, message = False, exc.message
    except Exception as exc:  # an unexpected failure of one file must not end the batch
        ok, message = False, f"{type(exc).__name__}: {exc}"
    notes = tuple(line for line in captured.getvalue().splitlines() if line.strip())
    limit_threads(config.threads)  # a task that imported torch lazily gets the planned thread count
    return Outcome(job.key, ok, message, time.monotonic() - start, notes, worker=os.getpid())


def initializer(config: WorkerConfig) -> None:
    """Process-pool initializer: load the model before the first file arrives.

    Ctrl+C reaches the whole process group; the batch's main process handles it (saves the manifest,
    then stops the workers), so a worker must not die of it half-way through on its own."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepare(config)
