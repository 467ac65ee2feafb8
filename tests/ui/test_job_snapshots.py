"""Starting an AI job renders nothing on the GUI thread: the request carries frozen, lazy sources that the
worker renders (only the box around the mask, for a fill), and later edits never reach the job."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from editor.core.compositor import composite
from editor.core.geometry import Rect
from editor.core.layers import ResultLayer
from editor.core.snapshot import LayersRender, MaskRender
from editor.infer.api import CancelToken, Request, resolve_sources
from editor.infer.registry import get_task

from .ai_support import make_env, photo_doc

pytestmark = pytest.mark.gui

HOLE = Rect(40, 28, 14, 12)


@pytest.fixture
def env(qtbot, qapp, prompts, tmp_path, monkeypatch):
    yield from make_env(qtbot, qapp, prompts, tmp_path, monkeypatch)


def whole_canvas_fill(doc, engine: str, seed: int):
    """What the fill gave before: the task on whole-canvas arrays (the composite and the selection)."""
    request = Request(task="inpaint", image=composite(doc), mask=doc.selection.copy(),
                      params={"engine": engine}, seed=seed)
    return get_task("inpaint")(request, lambda _p: None, CancelToken())


def test_a_fill_on_a_big_document_sends_lazy_sources_and_the_worker_renders_only_the_crop(env):
    doc = photo_doc(1600, 1200)
    env.window.add_document(doc)
    doc.select_rect(Rect(700, 500, 40, 30))
    panel = env.window.ai.panels["Inpaint"]
    request = panel.build_request(doc, "patchmatch", 0)
    # nothing canvas-sized was built: the sources share the document's buffers, read-only
    assert isinstance(request.image, LayersRender) and isinstance(request.mask, MaskRender)
    assert np.shares_memory(request.image.layers[0].pixels, doc.layers[0].pixels)
    assert np.shares_memory(request.mask.mask, doc.selection)
    resolve_sources(request, get_task("inpaint").plan_region)  # what the worker does before the task
    x, y, w, h = request.region
    assert w * h < doc.width * doc.height // 20  # the crop around the mask, not the photo
    assert request.image.shape == (h, w, 4) and request.mask.shape == (h, w)
    assert np.array_equal(request.image, composite(doc)[y : y + h, x : x + w])  # exactly the old pixels
    assert np.array_equal(request.mask, doc.selection[y : y + h, x : x + w])


@pytest.mark.parametrize("engine", ["patchmatch", "telea"])
def test_the_fill_is_pixel_identical_to_a_whole_canvas_fill(env, engine):
    doc = photo_doc(300, 220)
    env.window.add_document(doc)
    doc.select_rect(Rect(140, 100, 14, 12))
    doc.select_rect(Rect(0, 205, 9, 15), "add")  # a second hole at the canvas's corner: crops shift inward
    reference = whole_canvas_fill(doc, engine, 5)
    panel = env.window.ai.panels["Inpaint"]
    layer = env.run(panel.fill(doc, engine, 5))
    x, y = layer.offset
    h, w = layer.pixels.shape[:2]
    assert w < doc.width and (x, y + h) == (0, doc.height)  # the box the fill read, at the corner
    expected = env.window.ai.to_doc_pixels(doc, reference.image)
    assert np.array_equal(layer.pixels, expected[y : y + h, x : x + w])
    assert np.array_equal(layer.mask, reference.mask[y : y + h, x : x + w])
    outside = reference.mask.copy()
    outside[y : y + h, x : x + w] = 0
    assert outside.max() == 0  # the old layer showed nothing outside the new one's box


def test_edits_after_submit_do_not_reach_the_job(env):
    doc = photo_doc()
    env.window.add_document(doc)
    doc.select_rect(HOLE)
    reference = whole_canvas_fill(doc, "telea", 0)
    panel = env.window.ai.panels["Inpaint"]
    runner = env.services.runner

    async def go():
        blocker = runner.submit(Request(task="gated", image=np.zeros((2, 2, 4), np.float32)))
        while not env.tasks.started.is_set():
            await asyncio.sleep(0.005)
        fill = env.window.ai.spawn(panel.fill(doc, "telea", 0))
        await asyncio.sleep(0)  # the fill's job is queued behind the blocker, its sources not yet rendered
        queued = env.services.service.queued()
        assert len(queued) == 1 and isinstance(queued[0].request.image, LayersRender)
        # the user paints on: the photo under the hole goes black and the selection moves
        doc.paste(doc.layers[0], "pixels", Rect(30, 20, 40, 30), np.zeros((30, 40, 4), np.uint8), "paint")
        doc.select_rect(Rect(0, 0, 10, 10))
        blocker.cancel()
        return await fill

    layer = env.run(go())
    assert isinstance(layer, ResultLayer)
    x, y = layer.offset
    h, w = layer.pixels.shape[:2]
    # the job saw the photo and the hole as they were at submit
    expected = env.window.ai.to_doc_pixels(doc, reference.image)
    assert np.array_equal(layer.pixels, expected[y : y + h, x : x + w])
    assert np.array_equal(layer.mask, reference.mask[y : y + h, x : x + w])
    assert doc.layers[0].pixels[HOLE.y, HOLE.x, :3].max() == 0  # the live edit stayed
    assert not doc.selection.any()  # the selection made meanwhile (outside the fill's box) is cleared too


def test_a_job_failing_while_its_sources_render_leaves_the_document_as_it_was(env):
    doc = photo_doc()
    env.window.add_document(doc)
    doc.select_rect(HOLE)
    before = doc.layers[0].pixels.copy()
    steps = list(doc.history.labels)
    panel = env.window.ai.panels["Inpaint"]
    request = panel.build_request(doc, "no-such-engine", 0)
    assert isinstance(request.image, LayersRender)  # the failure happens on the worker, in the planner
    assert env.run(panel.fill(doc, request=request)) is None
    assert env.prompts.errors and "no-such-engine" in env.prompts.errors[-1]
    assert len(doc.layers) == 1 and doc.history.labels == steps and doc.selection[HOLE.slices()].all()
    assert np.array_equal(doc.layers[0].pixels, before)
    # the document is still editable: its shared buffers are copied on the first edit, not refused
    doc.paste(doc.layers[0], "pixels", Rect(0, 0, 2, 2), np.zeros((2, 2, 4), np.uint8), "paint")
    doc.clear_selection()
    assert doc.layers[0].pixels[0, 0, 3] == 0 and not doc.selection.any()
