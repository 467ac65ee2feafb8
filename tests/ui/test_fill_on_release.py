"""Inpaint panel's "Fill on release": a mask stroke's end starts the fill; a new stroke restarts it."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from editor.core.layers import ResultLayer
from editor.ui.tool_state import ToolKind

from .ai_support import make_env, photo_doc
from .qt_helpers import drag

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot, qapp, prompts, tmp_path, monkeypatch):
    yield from make_env(qtbot, qapp, prompts, tmp_path, monkeypatch)


def stroke(env, y: float) -> None:
    """A horizontal mask-brush stroke across the middle of the canvas, at image row `y`."""
    view = env.window.current_tab().view
    pts = [view.mapFromScene(QPointF(x, y)) for x in (30.0, 45.0, 60.0)]
    drag(view.viewport(), [QPointF(p) for p in pts])


def setup(env, on: bool):
    doc = photo_doc()
    env.window.add_document(doc)
    env.window.tool_state.tool = ToolKind.BRUSH
    env.window.tool_state.brush_size = 8
    panel = env.window.ai.panels["Inpaint"]
    panel.engine.setCurrentIndex(panel.engine.findData("telea"))
    panel.on_release.setChecked(on)
    return doc, panel


async def _until(cond, timeout: float = 30.0) -> None:
    t = 0.0
    while not cond():
        await asyncio.sleep(0.01)
        t += 0.01
        assert t < timeout


def test_off_by_default_a_stroke_only_paints_the_mask(env):
    doc, panel = setup(env, on=False)
    stroke(env, 36)
    assert doc.selection.any() and panel.task is None and len(doc.layers) == 1


def test_release_starts_the_fill_and_the_result_lands(env):
    doc, panel = setup(env, on=True)
    before = doc.layers[0].pixels.copy()
    stroke(env, 36)
    assert panel.task is not None  # started by the release, no Enter or button
    layer = env.run(panel.task)
    assert isinstance(layer, ResultLayer) and doc.layers[-1] is layer
    assert layer.recipe.params["engine"] == "telea"
    assert not doc.selection.any() and np.array_equal(doc.layers[0].pixels, before)


def test_a_new_stroke_cancels_the_running_fill_and_restarts_it(env, monkeypatch):
    doc, panel = setup(env, on=True)
    built = []
    real = panel.build_request

    def gated_first(d, engine, seed):
        req = real(d, engine, seed)
        if not built:
            req.task = "gated"  # the first fill blocks until cancelled (fake task, plumbing only)
        built.append(req)
        return req

    monkeypatch.setattr(panel, "build_request", gated_first)
    stroke(env, 30)
    first = panel.task
    assert first is not None
    env.run(_until(env.tasks.started.is_set))
    stroke(env, 44)  # a second stroke while the first fill runs
    env.run(_until(lambda: first.done() and panel.task is not first and panel.task is not None))
    assert first.cancelled() or first.result() is None
    layer = env.run(panel.task)
    assert len(built) == 2 and built[1].task == "inpaint"
    # the restarted fill saw both strokes: its mask covers rows 30 and 44
    assert isinstance(layer, ResultLayer) and len([x for x in doc.layers if isinstance(x, ResultLayer)]) == 1
    x, y = layer.offset  # the layer covers the box the fill read; the request's arrays cover the same
    assert layer.mask[30 - y, 45 - x] > 0 and layer.mask[44 - y, 45 - x] > 0
    sent = built[1]
    assert sent.region[:2] == (x, y) and sent.mask[30 - y, 45 - x] > 0 and sent.mask[44 - y, 45 - x] > 0
