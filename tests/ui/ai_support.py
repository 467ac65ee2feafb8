"""Shared set-up for the AI UI tests: a main window wired to a real inference service and a qasync loop.

Tasks resolve through the real registry (inpaint, superres) unless a test adds a fake by name; fakes
only prove plumbing (progress, cancel, failure), the real tasks prove pixels.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.layers import PixelLayer
from editor.infer.api import Progress, Request, Result


class FakeTasks:
    """Named fake tasks, with the registry behind them."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.extra: dict[str, Callable] = {"gated": self.gated, "fail": self.fail}

    def __call__(self, name: str):
        if name in self.extra:
            return self.extra[name]
        from editor.app import resolve_task

        return resolve_task(name)

    def gated(self, request: Request, progress, cancel) -> Result:
        """Waits for the gate (checking cancel), then returns the image inverted."""
        progress(Progress(0.3, "Waiting"))
        self.started.set()
        while not self.gate.wait(0.005):
            cancel.check()
        return Result(images={"image": 1.0 - request.image}, mask=request.mask)

    def fail(self, request: Request, progress, cancel) -> Result:
        raise LucidError("The engine ran out of ideas.", detail="fake failure")


@dataclass
class AiEnv:
    window: Any
    services: Any
    tasks: FakeTasks
    loop: asyncio.AbstractEventLoop
    prompts: Any
    extra: dict = field(default_factory=dict)

    @property
    def ai(self):
        return self.window.ai

    def run(self, coro, timeout: float = 60):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))


def photo_doc(w: int = 96, h: int = 72, depth: int = 8, seed: int = 1) -> Document:
    """A small textured photo-like document (stripes + noise), so fills have texture to copy."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([0.5 + 0.3 * np.sin(xs / 3.0), 0.4 + 0.2 * np.cos(ys / 4.0),
                     0.3 + 0.1 * np.sin((xs + ys) / 5.0)], axis=-1)
    rgb = np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1)
    top = 65535 if depth == 16 else 255
    px = np.empty((h, w, 4), np.uint16 if depth == 16 else np.uint8)
    px[..., :3] = np.rint(rgb * top)
    px[..., 3] = top
    doc = Document(w, h, depth=depth)
    layer = PixelLayer("Background", px)
    doc.root.children.append(layer)
    doc.active_layer = layer
    return doc


def make_env(qtbot, qapp, prompts, tmp_path, monkeypatch):
    """Generator for an `env` fixture: a shown MainWindow with services (real store in a temp models
    folder, service, runner), a qasync loop set as the current event loop, and fake tasks beside the
    real ones. Everything is shut down afterwards."""
    import qasync

    from editor.app import models_dir_for
    from editor.infer.service import InferenceService
    from editor.infer.store import ModelStore
    from editor.ui.ai.services import Services
    from editor.ui.jobs import JobRunner
    from editor.ui.main_window import MainWindow

    models = tmp_path / "models"
    monkeypatch.setenv("LUCID_MODELS_DIR", str(models))
    tasks = FakeTasks()
    store = ModelStore(models)
    service = InferenceService(store, device="cpu", task_resolver=tasks, progress_interval_s=0.01)
    services = Services(service=service, runner=JobRunner(service), store=store,
                        models_dir_for=models_dir_for)
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    win = MainWindow(prompts=prompts, services=services)
    win.resize(1100, 750)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    env = AiEnv(win, services, tasks, loop, prompts)
    try:
        yield env
    finally:
        tasks.gate.set()
        for task in list(win.ai.tasks):
            task.cancel()
        prompts.unsaved_answers[:] = []
        for doc in win.documents():
            doc.modified = False
        win.close()
        services.shutdown()
        loop.close()
        asyncio.set_event_loop(None)
