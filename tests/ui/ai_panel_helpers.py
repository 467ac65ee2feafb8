"""Helpers for the AI tool panel tests: a controller over a real service with fake (or real) tasks,
and a way to await a panel's coroutine on a qasync loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from editor.core.document import Document
from editor.core.layers import PixelLayer


@contextmanager
def ai_controller(window, resolver: Callable[[str], Any], store: Any = None) -> Iterator[Any]:
    """An AiController on `window` whose service resolves tasks with `resolver`; shut down after."""
    from editor.infer.service import InferenceService
    from editor.ui.ai.controller import AiController
    from editor.ui.jobs import JobRunner

    service = InferenceService(None, device="cpu", task_resolver=resolver)
    runner = JobRunner(service)
    controller = AiController(window, runner, store)
    try:
        yield controller
    finally:
        service.shutdown(wait=True)
        runner.close()


def run_async(qapp, coro, timeout: float = 60.0) -> Any:
    """Run a coroutine to completion on a fresh qasync loop (Qt events keep flowing)."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=False)
    try:
        return loop.run_until_complete(asyncio.wait_for(coro, timeout))
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def photo_doc(rgb: np.ndarray, name: str = "photo") -> Document:
    """A one-layer 8-bit document from float RGB in [0, 1]."""
    h, w = rgb.shape[:2]
    px = np.empty((h, w, 4), np.uint8)
    px[..., :3] = np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)
    px[..., 3] = 255
    doc = Document(w, h)
    layer = PixelLayer(name, px)
    doc.root.children.append(layer)
    doc.active_layer = layer
    return doc


def disc_scene(h: int = 48, w: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A red disc on a blue-green gradient (float RGB) and its hard mask."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    inside = ((yy - h / 2) ** 2 + (xx - w / 2) ** 2) < (min(h, w) * 0.3) ** 2
    rgb = np.zeros((h, w, 3), np.float32)
    rgb[..., 1] = xx / w * 0.6
    rgb[..., 2] = 0.7
    rgb[inside] = (0.9, 0.2, 0.1)
    return rgb, inside.astype(np.float32)
