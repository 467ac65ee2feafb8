"""Bench (by hand): does starting an AI job on a 24 MP photo stall the canvas?

A real MainWindow with the inference service holds a 6000×4000 photo. A 5 ms precise QTimer records
how late the Qt main loop runs (as in `bench_ui_stall.py`) while, in one run and alternating:

- "old": the request is built as before this change — the whole canvas composited to float32 and the
  selection copied on the GUI thread (the same tile loop and copy the controller used), then sent;
- "new": the request carries frozen, lazy sources; the worker renders them (only the crop for a fill).

Jobs: an Inpaint fill (Telea, so the engine's own time stays small) on a 200×150 hole, from the click
to the result layer in the document; and a whole-image job (a stand-in task that only reads its
pixels, like the start of an upscale), from submit until the task has its pixels. Also timed: the
first brush edit of the photo after a "new" submit (copy-on-write copies the layer once).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_job_start.py [--rounds 2]

Goal (issue 19): no main-thread stall over 16 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time

import numpy as np
from bench_ui_stall import INTERVAL_MS
from bench_ui_stall import StallMeter as UiStallMeter  # run as a script: tests/bench is on sys.path

W, H = 6000, 4000


class StallMeter(UiStallMeter):
    """bench_ui_stall's meter, also counting the time since the last tick when stopped (a stall that
    ends the phase would otherwise not show)."""

    def stop(self) -> np.ndarray:
        tail = (time.perf_counter() - self.last) * 1000 - INTERVAL_MS
        self.samples = [*(self.samples or []), tail]
        return super().stop()


def photo(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (H // 8, W // 8, 3), dtype=np.uint8)
    import cv2

    rgb = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
    px = np.empty((H, W, 4), np.uint8)
    px[..., :3] = rgb
    px[..., 3] = 255
    return px


def old_style(request, doc):
    """The request as the controller built it before: whole-canvas float32 arrays made on this thread."""
    if request.image is not None and hasattr(request.image, "render"):
        request.image = request.image.render()  # the same tile loop the old render_layers ran
    if request.mask is not None and hasattr(request.mask, "render"):
        float(doc.selection.max())  # the old emptiness check
        request.mask = doc.selection.astype(np.float32, copy=True)
    return request


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2, help="old/new alternations per job kind")
    args = ap.parse_args()
    os.environ.setdefault("LUCID_MODELS_DIR", tempfile.mkdtemp(prefix="lucid-bench-models-"))

    import qasync
    from PySide6.QtWidgets import QApplication

    from editor.app import models_dir_for, resolve_task
    from editor.core.document import Document
    from editor.core.geometry import Rect
    from editor.core.layers import PixelLayer
    from editor.infer.api import Request, Result
    from editor.infer.service import InferenceService
    from editor.infer.store import ModelStore
    from editor.ui.ai.services import Services
    from editor.ui.jobs import JobRunner
    from editor.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    got_pixels: dict[str, float] = {}

    def reads_pixels(request, progress, cancel):
        got_pixels["t"] = time.perf_counter()
        return Result(info={"shape": tuple(request.image.shape)})

    def gives_image(request, progress, cancel):  # a whole-image result, e.g. a cut-out
        return Result(images={"image": request.image})

    def tasks(name: str):
        return {"reads-pixels": reads_pixels, "gives-image": gives_image}.get(name) or resolve_task(name)

    store = ModelStore(os.environ["LUCID_MODELS_DIR"])
    service = InferenceService(store, device="cpu", task_resolver=tasks)
    runner = JobRunner(service)
    win = MainWindow(services=Services(service=service, runner=runner, store=store,
                                       models_dir_for=models_dir_for))
    win.resize(1200, 800)
    win.show()
    doc = Document(W, H)
    layer = PixelLayer("Photo", photo())
    doc.root.children.append(layer)
    doc.active_layer = layer
    win.add_document(doc)
    panel = win.ai.panels["Inpaint"]
    controller = win.ai
    rows: list = []
    notes: list[str] = []

    async def settle(seconds: float = 0.5) -> None:
        await asyncio.sleep(seconds)

    async def fill(style: str, meter: StallMeter) -> None:
        doc.select_rect(Rect(2900, 1900, 200, 150))
        await settle()
        meter.start()
        t0 = time.perf_counter()
        request = panel.build_request(doc, "telea", 0)
        if style == "old":
            request = old_style(request, doc)
        built = time.perf_counter()
        layer = await panel.fill(doc, "telea", 0, request=request)
        late = meter.stop()
        rows.append((f"fill 200×150 hole ({style})", late, (built - t0) * 1000,
                     time.perf_counter() - t0, f"layer {layer.width}×{layer.height}"))
        doc.history.undo()  # back to the photo and the selection
        doc.clear_selection()

    async def whole(style: str, meter: StallMeter) -> None:
        await settle()
        meter.start()
        t0 = time.perf_counter()
        request = Request(task="reads-pixels", image=controller.snapshot(doc, channels=3))
        if style == "old":
            request = old_style(request, doc)
        built = time.perf_counter()
        job = controller.runner.submit(request)
        while "t" not in got_pixels:
            await asyncio.sleep(0.001)
        late = meter.stop()
        await asyncio.wrap_future(job.future)
        rows.append((f"whole image to the worker ({style})", late, (built - t0) * 1000,
                     got_pixels.pop("t") - t0, ""))

    async def result_layer(style: str, meter: StallMeter) -> None:
        """A whole-canvas float result becomes a layer: converted on the GUI (old) or the worker (new)."""
        request = Request(task="gives-image", image=controller.snapshot(doc, channels=3),
                          output_dtype=None if style == "old" else "uint8")
        result = None
        job = controller.runner.submit(request)
        while not job.state.finished:  # the result's own render is not what this phase measures
            await asyncio.sleep(0.001)
        meter.start()
        t0 = time.perf_counter()
        result = await asyncio.wrap_future(job.future)
        recipe = controller.recipe_for(request)
        added = controller.add_result_layer(doc, result.image, name="result", recipe=recipe)
        late = meter.stop()
        rows.append((f"24 MP result to a layer ({style})", late, 0.0, time.perf_counter() - t0,
                     f"{added.pixels.dtype}"))
        doc.history.undo()

    async def first_edit_after_submit() -> None:
        await settle()
        request = Request(task="reads-pixels", image=controller.snapshot(doc, channels=3))
        job = controller.runner.submit(request)
        t0 = time.perf_counter()
        doc.paste(layer, "pixels", Rect(10, 10, 8, 8), np.zeros((8, 8, 4), np.uint8), "dab")
        notes.append(f"first edit of the photo after a submit: {(time.perf_counter() - t0) * 1000:.1f} ms "
                     "(copy-on-write copies the 96 MB layer once)")
        t0 = time.perf_counter()
        doc.paste(layer, "pixels", Rect(20, 10, 8, 8), np.zeros((8, 8, 4), np.uint8), "dab")
        notes.append(f"second edit: {(time.perf_counter() - t0) * 1000:.1f} ms")
        await asyncio.wrap_future(job.future)
        got_pixels.pop("t", None)
        doc.history.undo()
        doc.history.undo()

    async def run_all() -> None:
        meter = StallMeter()
        meters.append(meter)
        await controller.runner.run(Request(task="inpaint", image=np.zeros((64, 64, 3), np.float32),
                                            mask=np.pad(np.ones((8, 8), np.float32), 28),
                                            params={"engine": "telea"}))  # imports on the worker
        meter.start()
        await settle(2.0)
        rows.append(("idle (baseline)", meter.stop(), 0.0, 2.0, ""))
        for _ in range(args.rounds):
            for style in ("old", "new"):
                await fill(style, meter)
            for style in ("old", "new"):
                await whole(style, meter)
            for style in ("old", "new"):
                await result_layer(style, meter)
        await first_edit_after_submit()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            await fill("new", meter)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumtime").print_stats(25)

    meters: list[StallMeter] = []
    with loop:
        loop.run_until_complete(run_all())
    for m in meters:
        m.timer.stop()
        m.timer.deleteLater()
    doc.modified = False
    win.close()
    service.shutdown()
    app.processEvents()
    print(f"\n{W}×{H} photo. Main-loop lateness of a {INTERVAL_MS} ms QTimer (ms); load: {os.getloadavg()}\n")
    print(f"{'phase':36} {'ticks':>6} {'p99':>8} {'max':>8} {'GUI build ms':>12} {'total s':>8}  note")
    for label, late, build_ms, total, note in rows:
        print(f"{label:36} {len(late):6d} {np.percentile(late, 99):8.1f} {late.max():8.1f} "
              f"{build_ms:12.1f} {total:8.2f}  {note}")
    for line in notes:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
