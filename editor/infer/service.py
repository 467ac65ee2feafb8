"""The one worker thread that owns torch and the loaded models, and the jobs it runs.

Why one thread: torch models are not cheap to load or share, GPU memory is one pool, and a single
FIFO makes the order of results obvious to the user. The UI never waits on it: it awaits futures
and listens to `job_added` / `job_changed` (psygnal, emitted on the worker thread; the UI marshals
them to the Qt main thread, see `editor.ui.jobs`). Task functions stay plain callables; the CLI and
benchmarks call them directly without this class.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from editor.core.errors import LucidError
from editor.infer.api import (
    Cancelled,
    CancelToken,
    InferenceError,
    Progress,
    ProgressFn,
    Request,
    Result,
    Task,
    TaskContext,
    deliver,
    resolve_sources,
)
from editor.infer.jobs import (  # re-exported: the service's public types live there, torch-free
    FETCH_TASK,
    IMPORT_TASK,
    RELEASE_TASK,
    Job,
    JobState,
    fetch_request,
    import_request,
)
from editor.infer.model_cache import ModelCache

if TYPE_CHECKING:
    from editor.infer.store import ModelStore

MIN_OOM_TILE = 128


class InferenceService:
    job_added = Signal(object)  # Job
    job_changed = Signal(object)  # Job: state or progress changed (progress throttled)

    def __init__(
        self,
        store: ModelStore | None = None,
        *,
        device: str = "auto",
        model_cache_mb: int = 2048,
        idle_release_s: float = 300.0,
        cpu_threads: int | None = None,
        task_resolver: Callable[[str], Task] | None = None,
        progress_interval_s: float = 0.05,
    ) -> None:
        self.store = store
        self._device_pref = device
        self._device: str | None = None
        self._cpu_threads = cpu_threads
        self._resolver = task_resolver
        self._progress_interval = progress_interval_s
        self._cache = ModelCache(model_cache_mb, idle_release_s, on_evict=self._on_evict)
        self._queue: deque[Job] = deque()
        self._running: Job | None = None
        self._cv = threading.Condition()
        self._stopping = False
        self._torch_ready = False
        self._thread = threading.Thread(target=self._worker, name="lucid-inference", daemon=False)
        self._thread.start()

    # --- public API (any thread) --------------------------------------------------------------

    def submit(
        self, request: Request, *, priority: bool = False, on_progress: ProgressFn | None = None
    ) -> Job:
        """Queue a request (first in line with `priority=True`) and return its Job at once."""
        job = Job(request, self, priority=priority, on_progress=on_progress)
        with self._cv:
            if self._stopping:
                raise InferenceError("The inference service has been shut down.")
            if priority:
                self._queue.appendleft(job)
            else:
                self._queue.append(job)
            self._cv.notify()
        self.job_added.emit(job)
        return job

    def resubmit(self, job: Job, *, priority: bool = False) -> Job:
        """Run a finished job's request again (Retry) as a new job."""
        request = replace(job.request, id=Request(task=job.request.task).id, context=TaskContext())
        return self.submit(request, priority=priority)

    def queued(self) -> list[Job]:
        with self._cv:
            return list(self._queue)

    @property
    def running(self) -> Job | None:
        return self._running

    @property
    def device(self) -> str:
        """The device jobs run on (resolved on the worker at the first job; the preference before)."""
        return self._device or self._device_pref

    def set_device(self, preference: str) -> None:
        """Change the device preference ("auto"/"cpu"/"cuda"/"mps"); applies from the next job."""
        with self._cv:
            self._device_pref = preference
            self._device = None

    def shutdown(self, wait: bool = True, *, cancel_pending: bool = True) -> None:
        """Stop the worker: queued jobs are cancelled (or run first if not `cancel_pending`)."""
        with self._cv:
            self._stopping = True
            pending = list(self._queue) if cancel_pending else []
            if cancel_pending:
                self._queue.clear()
                if self._running is not None:
                    self._running.token.cancel()
            self._cv.notify_all()
        for job in pending:
            self._finish(job, JobState.CANCELLED, error=Cancelled())
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # --- cancellation -------------------------------------------------------------------------

    def _cancel(self, job: Job) -> bool:
        with self._cv:
            if job.state.finished:
                return False
            job.token.cancel()
            try:
                self._queue.remove(job)
            except ValueError:
                return True  # running: the task stops at its next cancel.check()
        self._finish(job, JobState.CANCELLED, error=Cancelled())
        return True

    # --- worker -------------------------------------------------------------------------------

    def _worker(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._stopping:
                    timeout = self._cache.seconds_until_idle_release()
                    self._cv.wait(timeout)
                    if not self._queue:
                        self._cache.release_if_idle()
                if not self._queue:
                    break  # stopping and drained
                job = self._queue.popleft()
                self._running = job
            try:
                self._execute(job)
            finally:
                with self._cv:
                    self._running = None
        self._cache.clear()

    def _execute(self, job: Job) -> None:
        if job.token.cancelled or not job.future.set_running_or_notify_cancel():
            self._finish(job, JobState.CANCELLED, error=Cancelled())
            return
        job.state = JobState.RUNNING
        job.started_at = time.monotonic()
        self.job_changed.emit(job)
        try:
            task = self._resolve(job.request.task)
            # the GUI sent frozen, lazy sources: render them here, off the GUI thread, and only the
            # part of the canvas the task reads
            resolve_sources(job.request, getattr(task, "plan_region", None))
            job.token.check()
            result = deliver(self._run_with_fallbacks(job, task), job.request.output_dtype)
        except Cancelled as exc:
            self._finish(job, JobState.CANCELLED, error=exc)
        except LucidError as exc:
            self._finish(job, JobState.FAILED, error=exc)
        except BaseException as exc:  # a task bug must not kill the worker or leave a future pending
            what = str(exc) or type(exc).__name__
            err = InferenceError(
                f"The {job.request.task} task failed unexpectedly: {what}", detail=traceback.format_exc()
            )
            self._finish(job, JobState.FAILED, error=err)
        else:
            self._finish(job, JobState.DONE, result=result)
        finally:
            job.request.context = TaskContext()  # drop the closure over this service

    def _finish(
        self, job: Job, state: JobState, *, result: Result | None = None, error: LucidError | None = None
    ) -> None:
        with self._cv:
            if job.state.finished:
                return
            job.state = state
            job.error = error if state is JobState.FAILED else None
            job.finished_at = time.monotonic()
        if not job.future.cancelled():
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result if result is not None else Result())
        self.job_changed.emit(job)

    def _resolve(self, name: str) -> Task:
        if name == FETCH_TASK:
            return self._fetch_task
        if name == IMPORT_TASK:
            return self._import_task
        if name == RELEASE_TASK:
            return self._release_task
        if self._resolver is not None:
            return self._resolver(name)
        from editor.infer.registry import get_task

        return get_task(name)

    def _ensure_device(self) -> str:
        if not self._torch_ready:
            from editor.infer.device import set_cpu_threads

            set_cpu_threads(self._cpu_threads)
            self._torch_ready = True
        if self._device is None:
            from editor.infer.device import resolve_device

            self._device = resolve_device(self._device_pref)
        return self._device

    def _run_with_fallbacks(self, job: Job, task: Task) -> Result:
        """Run the task; on a GPU out-of-memory error retry with smaller tiles, then on the CPU."""
        from editor.infer.device import empty_cache, is_out_of_memory

        needs_torch = job.request.task not in (FETCH_TASK, IMPORT_TASK, RELEASE_TASK)
        device = self._ensure_device() if needs_torch else "cpu"
        notes: list[str] = []
        max_tile: int | None = None
        progress = self._progress_fn(job)
        while True:
            ctx = TaskContext(device=device, max_tile=max_tile)
            ctx.load_model = self._model_loader(ctx)
            if device == "cpu":
                ctx.load_ncnn = self._ncnn_loader()
            job.request.context = ctx
            try:
                result = task(job.request, progress, job.token)
                break
            except Exception as exc:
                if not (device.startswith("cuda") and is_out_of_memory(exc)):
                    raise
                empty_cache(device)
                max_tile = (ctx.max_tile or 1024) // 2
                if max_tile >= MIN_OOM_TILE:
                    notes.append(f"Out of GPU memory: retried with {max_tile} px tiles.")
                else:
                    notes.append("Out of GPU memory even with small tiles: ran on the CPU instead (slower).")
                    self._cache.clear()
                    device, max_tile = "cpu", None
                job.token.check()
        if not isinstance(result, Result):
            kind = type(result).__name__
            raise InferenceError(f"The {job.request.task} task returned {kind}, not a Result.")
        if notes:
            result.info.setdefault("notes", []).extend(notes)
        result.info.setdefault("device", device)
        return result

    def _progress_fn(self, job: Job) -> ProgressFn:
        last = [0.0, ""]

        def progress(p: Progress) -> None:
            job.progress = p
            if job._on_progress is not None:
                job._on_progress(p)
            now = time.monotonic()
            if now - last[0] >= self._progress_interval or p.stage != last[1] or p.fraction >= 1:
                last[0], last[1] = now, p.stage
                self.job_changed.emit(job)

        return progress

    # --- models -------------------------------------------------------------------------------

    def _model_loader(self, ctx: TaskContext) -> Callable[[str], Any]:
        def load_model(model_id: str) -> Any:
            if self.store is None:
                raise InferenceError("No model store is configured for this inference service.")
            path = self.store.path(model_id)  # raises ModelNotInstalled with the Download/Import hint
            from editor.infer.device import use_half

            model = self._cache.get((model_id, str(path), ctx.device), lambda: self._load(path, ctx.device))
            ctx.half = use_half(ctx.device, model)
            return model

        return load_model

    def _ncnn_loader(self) -> Callable[[str], Any]:
        """`load_ncnn` for CPU jobs: the model's ncnn net on the worker's thread count, cached with the
        torch models (a None answer too, so a missing runtime is looked for once, not every job)."""
        def load_ncnn(model_id: str) -> Any:
            if self.store is None:
                return None
            from editor.infer.device import cpu_threads
            from editor.infer.ncnn_runtime import load_ncnn_net

            threads = cpu_threads()
            key = (model_id, "ncnn", "cpu", threads)  # its files are pinned by the manifest's sha256
            return self._cache.get(key, lambda: load_ncnn_net(self.store, model_id, threads))

        return load_ncnn

    @staticmethod
    def _load(path: Path, device: str) -> Any:
        from editor.infer.device import use_half
        from editor.infer.safe_load import load_model

        model = load_model(path).to(device)
        if use_half(device, model):
            model = model.half()
        return model.eval()

    def _on_evict(self, key: Any, _model: Any) -> None:
        from editor.infer.device import empty_cache

        empty_cache(str(key[2]) if isinstance(key, tuple) and len(key) > 2 else "cpu")

    def release_models(self) -> None:
        """Ask the worker to drop cached models now (queued as a tiny job so only it touches them)."""
        self.submit(Request(task=RELEASE_TASK), priority=True)

    # --- built-in tasks -----------------------------------------------------------------------

    def _fetch_task(self, request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
        if self.store is None or not request.model_id:
            raise InferenceError("Nothing to download: no model store or model id.")
        path = self.store.fetch(request.model_id, progress=progress, cancel=cancel)
        return Result(info={"model_id": request.model_id, "path": str(path)})

    def _release_task(self, request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
        released = len(self._cache)
        self._cache.clear()
        return Result(info={"released": released})

    def _import_task(self, request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
        if self.store is None:
            raise InferenceError("No model store is configured.")
        progress(Progress(0.0, "Checking the file"))
        info = self.store.import_file(Path(str(request.params["path"])), id=request.params.get("id"))
        progress(Progress(1.0, "Imported"))
        return Result(info={"model_id": info.id, "path": str(info.path)})


def run_direct(
    request: Request,
    store: ModelStore | None = None,
    *,
    device: str = "auto",
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    task_resolver: Callable[[str], Task] | None = None,
) -> Result:
    """Run a task in the calling thread (CLI, benchmarks): same context as the service, no queue.

    `request.context` gets the resolved device, a `load_model` that loads from `store` (no cache:
    one process, one run) and, on the CPU, `load_ncnn`.
    """
    from editor.infer.device import resolve_device, use_half

    if task_resolver is None:
        from editor.infer.registry import get_task as task_resolver
    ctx = TaskContext(device=resolve_device(device))

    def load_model(model_id: str) -> Any:
        if store is None:
            raise InferenceError("No model store was given to load models from.")
        model = InferenceService._load(store.path(model_id), ctx.device)
        ctx.half = use_half(ctx.device, model)
        return model

    ctx.load_model = load_model
    if ctx.device == "cpu" and store is not None:
        from editor.infer.device import cpu_threads
        from editor.infer.ncnn_runtime import load_ncnn_net

        ctx.load_ncnn = lambda model_id: load_ncnn_net(store, model_id, cpu_threads())
    request.context = ctx
    task = task_resolver(request.task)
    resolve_sources(request, getattr(task, "plan_region", None))
    result = task(request, progress or (lambda _p: None), cancel or CancelToken())
    result.info.setdefault("device", ctx.device)
    return result


__all__ = [
    "FETCH_TASK",
    "IMPORT_TASK",
    "RELEASE_TASK",
    "InferenceService",
    "Job",
    "JobState",
    "fetch_request",
    "import_request",
    "run_direct",
]
