"""Jobs as the UI sees them: state, progress, ETA, cancel; plus the built-in model-store requests.

Kept apart from `editor.infer.service` (which reaches torch, spandrel and the task registry) so the
UI can import these types without importing any of that (import-linter forbids it).
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from editor.core.errors import LucidError
from editor.infer.api import CancelToken, Progress, ProgressFn, Request, Result

FETCH_TASK = "models.fetch"  # built-in: download a model (request.model_id) through the store
IMPORT_TASK = "models.import"  # built-in: import request.params["path"] (optionally params["id"])
RELEASE_TASK = "models.release"  # built-in: drop cached models now


class _Canceller(Protocol):
    def _cancel(self, job: Job) -> bool: ...


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class JobTimes:
    """What a Jobs row reads besides state: progress fraction and stage, time since the start.

    Shared by `Job` and jobs that run outside the service (the UI's folder batch)."""

    progress: Progress | None
    started_at: float | None
    finished_at: float | None

    @property
    def fraction(self) -> float:
        return self.progress.fraction if self.progress is not None else 0.0

    @property
    def stage(self) -> str:
        return self.progress.stage if self.progress is not None else ""

    @property
    def elapsed_s(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.monotonic()) - self.started_at


class Job(JobTimes):
    """One submitted request: its state, last progress, and a future for its `Result`.

    The future resolves with the Result, or raises `Cancelled` (cancelled, nothing changed) or a
    `LucidError` (failed; unexpected exceptions arrive as `InferenceError` with the traceback in
    `detail`). It never stays pending: shutdown cancels what is queued.
    """

    def __init__(
        self, request: Request, service: _Canceller, *, priority: bool, on_progress: ProgressFn | None
    ) -> None:
        self.request = request
        self.id = request.id
        self.priority = priority
        self.future: Future[Result] = Future()
        self.state = JobState.QUEUED
        self.progress: Progress | None = None
        self.error: LucidError | None = None
        self.token = CancelToken()
        self.submitted_at = time.monotonic()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self._on_progress = on_progress
        self._service = service

    @property
    def title(self) -> str:
        if self.request.task == FETCH_TASK:
            return f"Download {self.request.model_id}"
        if self.request.task == IMPORT_TASK:
            return f"Import {Path(str(self.request.params.get('path', ''))).name}"
        task, model = self.request.task, self.request.model_id
        return f"{task} ({model})" if model else task


    @property
    def eta_s(self) -> float | None:
        """Seconds left, extrapolated from the elapsed time and the progress fraction."""
        if self.state is not JobState.RUNNING or self.started_at is None:
            return None
        f = self.fraction
        if f <= 0.01 or f >= 1:
            return None
        return (time.monotonic() - self.started_at) * (1 - f) / f


    def cancel(self) -> bool:
        """Cancel: a queued job never runs; a running one is asked to stop at its next check."""
        return self._service._cancel(self)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.title} {self.state.value}>"


def fetch_request(model_id: str) -> Request:
    """A request for the built-in download task (submit it like any other job)."""
    return Request(task=FETCH_TASK, model_id=model_id)


def import_request(path: Path | str, model_id: str | None = None) -> Request:
    return Request(task=IMPORT_TASK, params={"path": str(path), "id": model_id})
