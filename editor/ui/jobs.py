"""Bridge from the inference service (worker thread, psygnal) to the Qt main thread (signals, qasync).

The service emits `job_added` / `job_changed` on whatever thread changed the job; widgets may only be
touched on the main thread, so every event is re-posted through a queued Qt connection and re-emitted
here as `jobAdded` / `jobChanged` on the main thread. Handlers await jobs with `await runner.run(req)`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from editor.infer.api import Request, Result
from editor.infer.jobs import Job


class JobRunner(QObject):
    jobAdded = Signal(object)  # Job, on the main thread
    jobChanged = Signal(object)  # Job, on the main thread (progress is throttled by the service)
    _posted = Signal(str, object)  # any thread → queued to the main thread

    def __init__(self, service: Any, parent: QObject | None = None) -> None:
        """`service`: an `editor.infer.service.InferenceService` (not imported here: it reaches torch)."""
        super().__init__(parent)
        self.service = service
        self._posted.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        service.job_added.connect(self._on_added)
        service.job_changed.connect(self._on_changed)

    def _on_added(self, job: Job) -> None:  # any thread
        self._posted.emit("added", job)

    def _on_changed(self, job: Job) -> None:  # any thread
        self._posted.emit("changed", job)

    @Slot(str, object)
    def _deliver(self, kind: str, job: Job) -> None:
        (self.jobAdded if kind == "added" else self.jobChanged).emit(job)

    def submit(self, request: Request, *, priority: bool = False) -> Job:
        return self.service.submit(request, priority=priority)

    def retry(self, job: Job) -> Job:
        """Run a finished (failed or cancelled) job's request again as a new job."""
        return self.service.resubmit(job)

    async def run(self, request: Request, *, priority: bool = False) -> Result:
        """Submit and await the result (qasync). Raises `Cancelled` or a `LucidError` like the future;
        cancelling the awaiting coroutine cancels the job."""
        job = self.submit(request, priority=priority)
        try:
            return await asyncio.wrap_future(job.future)
        except asyncio.CancelledError:
            job.cancel()
            raise

    def close(self) -> None:
        """Stop listening to the service (call before deleting the runner while the service lives on)."""
        self.service.job_added.disconnect(self._on_added)
        self.service.job_changed.disconnect(self._on_changed)
