"""What crosses the boundary between the UI (or CLI) and the model runtime.

A task is a plain callable `(request, progress, cancel) -> Result`; the service, the CLI and the
benchmarks all call it the same way. Requests carry snapshots (copies) of the pixels they need.
Arrays: float32 H×W×C RGB(A) in [0, 1], straight alpha; masks float32 H×W, 1 = to be changed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from editor.core.errors import LucidError


class InferenceError(LucidError):
    """A task failed in a way the user can understand (bad input, model problem)."""


class ModelNotInstalled(InferenceError):
    """The model's weights are not on this machine; the message says how to get them."""

    def __init__(self, model_id: str, message: str | None = None, detail: str | None = None) -> None:
        default = f"Model '{model_id}' is not installed. Download it or import the file in Models."
        super().__init__(message or default, detail)
        self.model_id = model_id


class UnsafeModelFile(InferenceError):
    """A weights file would run code when loaded; it was refused without running it."""


class Cancelled(LucidError):
    """The job was cancelled by the user. Not a failure: nothing was changed."""

    def __init__(self, message: str = "Cancelled") -> None:
        super().__init__(message)


class CancelToken:
    """Cooperative cancellation: tasks call `check()` between tiles, iterations or stages."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise `Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled()


@dataclass(frozen=True)
class Progress:
    """How far a job is: fraction in [0, 1], a short stage text, and an optional preview image."""

    fraction: float
    stage: str = ""
    preview: np.ndarray | None = None


ProgressFn = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """Progress sink for callers that do not show progress."""


@dataclass
class TaskContext:
    """Where and how a task runs; filled in by the service (or by the CLI for direct calls).

    `load_model(model_id)` returns a loaded model (a spandrel descriptor or our own module) and lets
    the service keep an LRU cache; tasks never load weights by path themselves. `load_ncnn(model_id)`
    (CPU only) returns the model's ncnn net, a tile runner, when it came from ncnn files and the
    runtime loads them, else None: the task then runs the torch model.
    """

    device: str = "cpu"
    half: bool = False
    max_tile: int | None = None
    load_model: Callable[[str], Any] | None = None
    load_ncnn: Callable[[str], Any] | None = None


@dataclass
class Request:
    task: str
    image: np.ndarray | None = None
    mask: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    model_id: str | None = None
    seed: int | None = None
    context: TaskContext = field(default_factory=TaskContext)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # Plumbing or live previews (warm-up, slider renders), not something the user asked to track:
    # the Jobs panel leaves these out.
    background: bool = False


@dataclass
class Result:
    """Images a task produced (name → array), an optional mask, and facts for the recipe/log."""

    images: dict[str, np.ndarray] = field(default_factory=dict)
    mask: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def image(self) -> np.ndarray:
        """The main output."""
        return self.images["image"]


class Task(Protocol):
    def __call__(self, request: Request, progress: ProgressFn, cancel: CancelToken) -> Result: ...
