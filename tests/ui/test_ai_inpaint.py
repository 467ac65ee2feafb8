"""Inpaint from the panel: job → result layer (recipe, mask) → undo/redo; cancel, failure, re-run, .ora."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from editor.core.geometry import Rect
from editor.core.layers import ResultLayer
from editor.infer.jobs import JobState

from .ai_support import make_env, photo_doc

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot, qapp, prompts, tmp_path, monkeypatch):
    yield from make_env(qtbot, qapp, prompts, tmp_path, monkeypatch)

HOLE = Rect(40, 28, 14, 12)


def open_with_hole(env, depth: int = 8):
    doc = photo_doc(depth=depth)
    env.window.add_document(doc)
    doc.select_rect(HOLE)
    return doc, env.window.ai.panels["Inpaint"]


def on_layer(layer, rect: Rect) -> Rect:
    """`rect` (canvas) in the layer's own pixels: a fill's layer covers only the box the fill read."""
    return rect.translated(-layer.offset[0], -layer.offset[1])


def pick(panel, engine: str) -> None:
    panel.engine.setCurrentIndex(panel.engine.findData(engine))


def test_fill_from_the_panel_adds_an_undoable_result_layer(env, qtbot):
    doc, panel = open_with_hole(env)
    before = doc.layers[0].pixels.copy()
    assert panel.fill_button.isEnabled()
    pick(panel, "patchmatch")
    panel.seed.setValue(3)
    qtbot.mouseClick(panel.fill_button, Qt.MouseButton.LeftButton)
    assert panel.task is not None and not panel.fill_button.isEnabled()  # running: no second fill
    layer = env.run(panel.task)
    assert isinstance(layer, ResultLayer) and doc.layers[-1] is layer and doc.active_layer is layer
    assert layer.name == "Inpaint (PatchMatch)" and layer.pixels.dtype == np.uint8
    r = layer.recipe
    assert (r.task, r.params, r.seed, r.model_id) == ("inpaint", {"engine": "patchmatch"}, 3, None)
    assert r.source_layer_ids == [doc.layers[0].id] and r.app_version
    # the mask: the hole fully, a narrow feather just outside it, nothing far away
    hole = on_layer(layer, HOLE)
    assert np.all(layer.mask[hole.slices()] == 1.0)
    assert layer.mask[0, 0] == 0.0 and layer.mask[hole.y + 5, hole.x - 1] > 0
    # the fill differs from the photo inside the hole, and the background layer was not touched
    inside = layer.pixels[hole.slices()][..., :3].astype(int)
    assert np.abs(inside - before[HOLE.slices()][..., :3]).mean() > 2
    assert np.array_equal(doc.layers[0].pixels, before)
    assert not doc.selection.any()  # cleared in the same step
    assert doc.history.labels[-1] == "Inpaint (PatchMatch)"
    env.window.actions["undo"].trigger()
    assert not any(isinstance(x, ResultLayer) for x in doc.layers) and doc.selection[HOLE.slices()].all()
    env.window.actions["redo"].trigger()
    assert doc.layers[-1] is layer and not doc.selection.any()


def test_enter_on_the_canvas_fills(env, qtbot):
    _doc, panel = open_with_hole(env)
    pick(panel, "telea")
    view = env.window.current_tab().view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert panel.task is not None
    layer = env.run(panel.task)
    assert layer.name == "Inpaint (Telea)" and layer.recipe.params["engine"] == "telea"


def test_no_mask_means_no_fill(env):
    doc = photo_doc()
    env.window.add_document(doc)
    panel = env.window.ai.panels["Inpaint"]
    assert not panel.fill_button.isEnabled() and "mask brush" in panel.hint.text()
    assert panel.start_fill() is None and len(doc.layers) == 1
    doc.select_rect(HOLE)
    assert panel.fill_button.isEnabled()
    doc.clear_selection()
    assert not panel.fill_button.isEnabled()


def test_cancel_leaves_the_document_unchanged(env, qtbot):
    doc, panel = open_with_hole(env)
    steps = list(doc.history.labels)
    request = panel.build_request(doc, "patchmatch", 0)
    request.task = "gated"

    async def go():
        job_seen = []
        env.services.runner.jobAdded.connect(job_seen.append)
        task = env.window.ai.spawn(panel.fill(doc, request=request))
        while not env.tasks.started.is_set():
            await _sleep(0.01)
        job_seen[-1].cancel()  # the Jobs panel's Cancel does this
        return await task, job_seen[-1]

    result, job = env.run(go())
    assert result is None and job.state is JobState.CANCELLED
    assert len(doc.layers) == 1 and doc.history.labels == steps and doc.selection[HOLE.slices()].all()
    assert env.prompts.errors == []


def test_failing_task_shows_an_error_and_changes_nothing(env):
    doc, panel = open_with_hole(env)
    request = panel.build_request(doc, "patchmatch", 0)
    request.task = "fail"
    assert env.run(panel.fill(doc, request=request)) is None
    assert env.prompts.errors == ["The engine ran out of ideas."]
    assert len(doc.layers) == 1 and doc.selection[HOLE.slices()].all()


def test_rerun_with_another_seed_and_engine_replaces_pixels_in_one_step(env):
    doc, panel = open_with_hole(env)
    layer = env.run(panel.fill(doc, "patchmatch", 1))
    first = layer.pixels.copy()
    mask = layer.mask.copy()
    n_layers, n_steps = len(doc.layers), len(doc.history.labels)
    env.window.ai.ask_rerun = lambda _layer: {"seed": 7}
    env.window.layers_panel.rerun_button.click()  # the Layers panel's Re-run → dialog (scripted) → job
    env.run(_wait_tasks(env.window.ai))
    assert len(doc.layers) == n_layers and doc.layers[-1] is layer
    assert layer.recipe.seed == 7 and not np.array_equal(layer.pixels, first)
    assert np.array_equal(layer.mask, mask)
    outside = layer.mask == 0
    assert np.array_equal(layer.pixels[outside], first[outside])  # only the hole changes
    assert len(doc.history.labels) == n_steps + 1
    env.run(env.window.ai.rerun(doc, layer, engine="telea"))
    assert layer.name == "Inpaint (Telea)" and layer.recipe.params["engine"] == "telea"
    env.window.actions["undo"].trigger()
    assert layer.name == "Inpaint (PatchMatch)" and layer.recipe.seed == 7
    env.window.actions["undo"].trigger()
    assert np.array_equal(layer.pixels, first) and layer.recipe.seed == 1


def test_sixteen_bit_document_gets_a_sixteen_bit_result(env):
    doc, panel = open_with_hole(env, depth=16)
    layer = env.run(panel.fill(doc, "telea", 0))
    assert layer.pixels.dtype == np.uint16
    values = layer.pixels[on_layer(layer, HOLE).slices()][..., :3]
    assert np.any(values % 257 != 0)  # real 16-bit values, not 8-bit ones scaled up


def test_save_reopen_and_rerun_from_the_recipe(env, tmp_path):
    from editor.io.ora import open_any

    doc, panel = open_with_hole(env)
    layer = env.run(panel.fill(doc, "patchmatch", 2))
    path = tmp_path / "inpainted.ora"
    env.prompts.save_paths.append(path)
    assert env.window.save_as(doc)
    again = open_any(path)
    env.window.add_document(again)
    reopened = again.layers[-1]
    assert isinstance(reopened, ResultLayer) and reopened.recipe.to_dict() == layer.recipe.to_dict()
    assert np.allclose(reopened.mask, layer.mask, atol=1 / 65535)
    env.run(env.window.ai.rerun(again, reopened, seed=5))
    assert reopened.recipe.seed == 5 and reopened.recipe.source_layer_ids == layer.recipe.source_layer_ids
    outside = reopened.mask == 0
    assert np.array_equal(reopened.pixels[outside], layer.pixels[outside])
    assert not np.array_equal(reopened.pixels, layer.pixels)


def test_lama_is_listed_as_not_installed(env):
    panel = env.window.ai.panels["Inpaint"]
    i = panel.engine.findData("lama")
    assert "not installed" in panel.engine.itemText(i)
    assert not panel.engine.model().item(i).isEnabled()
    assert panel.engine.currentData() == "patchmatch" and panel.engine_note.isVisibleTo(panel)


# --- helpers ---------------------------------------------------------------------------------------

async def _sleep(s: float) -> None:
    import asyncio

    await asyncio.sleep(s)


async def _wait_tasks(controller) -> None:
    import asyncio

    while controller.tasks:
        await asyncio.gather(*controller.tasks)


def test_rerun_dialog_offers_the_engines_and_a_new_seed(env, qtbot):
    from editor.ui.ai.rerun_dialog import RerunDialog

    doc, panel = open_with_hole(env)
    layer = env.run(panel.fill(doc, "telea", 4))
    dlg = RerunDialog(layer, env.window.ai.param_choices["inpaint"], env.window)
    qtbot.addWidget(dlg)
    combo = dlg.combos["engine"]
    assert combo.currentData() == "telea" and combo.findData("patchmatch") >= 0
    assert dlg.overrides() == {"engine": "telea", "seed": 5}
    combo.setCurrentIndex(combo.findData("patchmatch"))
    dlg.seed.setValue(11)
    assert dlg.overrides() == {"engine": "patchmatch", "seed": 11}
