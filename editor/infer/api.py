"""What crosses the boundary between the UI (or CLI) and the model runtime.

A task is a plain callable `(request, progress, cancel) -> Result`; the service, the CLI and the
benchmarks all call it the same way. Requests carry snapshots (copies) of the pixels they need.
Arrays: float32 H×W×C RGB(A) in [0, 1], straight alpha; masks float32 H×W, 1 = to be changed.

The GUI may instead pass lazy sources (`editor.core.snapshot.LayersRender` / `MaskRender`: frozen,
copy-on-write views of the document) as `image`, `mask` or an input: rendering a 24 MP composite takes
seconds, so `resolve_sources` renders them on the worker just before the task runs, and only the part
of the canvas the task reads (`Request.region`, or the task's `plan_region`). Tasks always see arrays.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from editor.core.errors import LucidError
from editor.core.geometry import Rect
from editor.core.pixels import layer_pixels
from editor.core.snapshot import LayersRender, MaskRender


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
    # The canvas box (x, y, w, h) the lazy sources are rendered in, hence where the arrays (and the
    # result's images) lie on the canvas; None = the whole canvas. Set by the caller (a re-run keeps
    # its layer's box) or, when None, by the task's `plan_region` as the sources are resolved.
    region: tuple[int, int, int, int] | None = None
    # Deliver result.images["image"] as H×W×4 of this dtype ("uint8"/"uint16": the document's depth),
    # converted on the worker: for a 24 MP result that is a third of a second the GUI need not spend.
    output_dtype: str | None = None


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


# A task may read only part of the canvas: `run.plan_region = fn`, where fn(request) gets the request
# with its mask already an array over the whole canvas and returns the box (x, y, w, h) to render, or
# None for the whole canvas.
RegionPlanner = Callable[[Request], "tuple[int, int, int, int] | None"]


def is_lazy(value: Any) -> bool:
    return isinstance(value, (LayersRender, MaskRender))


def resolve_sources(request: Request, planner: RegionPlanner | None = None) -> None:
    """Render the request's lazy sources into arrays, in place (on the worker, before the task runs).

    Only `request.region` of the canvas is rendered; when it is None, `planner` may choose it from the
    whole-canvas mask (inpainting reads only a box around the mask). Plain arrays are left as they are.
    """
    lazy_inputs = [k for k, v in request.inputs.items() if is_lazy(v)]
    if not (is_lazy(request.image) or is_lazy(request.mask) or lazy_inputs):
        return
    if request.region is None and planner is not None:
        if is_lazy(request.mask):
            request.mask = request.mask.render()
        request.region = planner(request)
        if request.region is not None and request.mask is not None:  # a whole-canvas mask: crop it too
            x, y, w, h = request.region
            request.mask = np.ascontiguousarray(np.asarray(request.mask)[y : y + h, x : x + w])
    rect = None if request.region is None else Rect(*request.region)
    if is_lazy(request.image):
        request.image = request.image.render(rect)
    if is_lazy(request.mask):
        request.mask = request.mask.render(rect)
    for key in lazy_inputs:
        request.inputs[key] = request.inputs[key].render(rect)


def deliver(result: Result, dtype: str | None) -> Result:
    """Convert the main image to RGBA of `dtype` in place (the service calls it on the worker)."""
    image = result.images.get("image")
    if dtype is None or image is None:
        return result
    result.images["image"] = layer_pixels(image, np.dtype(dtype))
    return result
