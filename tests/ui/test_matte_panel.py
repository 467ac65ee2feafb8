"""Matte panel: trimap brushes and overlay, trimap from a selection band, cut-out layer (real closed-form
matting on a tiny image), undo, replace background, plate checks, auto subject, re-run after .ora."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF

from editor.core.errors import LucidError
from editor.core.geometry import Rect
from editor.core.layers import ResultLayer
from editor.infer.api import Result
from editor.ui.ai.trimap_tool import BACKGROUND, FOREGROUND, NONE, UNKNOWN, TrimapBrushTool, decode_codes
from editor.ui.tool_state import ToolKind

from .ai_panel_helpers import ai_controller, disc_scene, photo_doc, run_async
from .qt_helpers import drag

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def matting_warm():
    from editor.infer.matting import warm_up

    return warm_up()


def real_tasks(name: str):
    from editor.infer.registry import get_task

    return get_task(name)


@pytest.fixture
def env(window):
    from editor.ui.ai.matte_panel import MattePanel

    rgb, mask = disc_scene()
    doc = photo_doc(rgb)
    calls: list = []

    def resolver(name):
        if name == "salient":
            def salient(request, progress, cancel):
                calls.append(request)
                trimap = np.where(mask > 0, 1.0, 0.0).astype(np.float32)
                trimap[0:2] = 0.5
                return Result(images={"mask": mask, "trimap": trimap})
            return salient
        return real_tasks(name)

    manifest = SimpleNamespace(default=True, commercial_use=True, get=lambda _key, fallback=None: fallback)
    u2netp = SimpleNamespace(id="u2netp", task="salient", installed=True, manifest=manifest)
    store = SimpleNamespace(
        default_for=lambda task: u2netp if task == "salient" else None,
        get=lambda model_id: u2netp if model_id == "u2netp" else SimpleNamespace(installed=False),
        path=lambda model_id: (_ for _ in ()).throw(LucidError("no file")),
        list=lambda: [u2netp],
    )
    with ai_controller(window, resolver, store) as controller:
        window.add_document(doc)
        panel = MattePanel(controller, window)
        yield SimpleNamespace(window=window, doc=doc, panel=panel, controller=controller, mask=mask,
                              calls=calls)


def test_painting_trimap_strokes_changes_the_overlay(env, qtbot) -> None:
    panel, doc, window = env.panel, env.doc, env.window
    view = window.current_tab().view
    window.tool_state.brush_size = 6
    panel.brushes["foreground"].setChecked(True)
    assert isinstance(view.tool, TrimapBrushTool)
    assert panel._overlay is not None and panel._overlay.scene() is view.scene()
    before = panel._overlay.trimap.overlay_tile(Rect(0, 0, doc.width, doc.height)).copy()
    assert not before.any()
    a, b = view.to_widget(QPointF(20, 24)), view.to_widget(QPointF(44, 24))
    drag(view.viewport(), [a, (a + b) / 2, b])
    trimap = panel.trimap(doc)
    assert trimap.codes[24, 32] == FOREGROUND and trimap.codes[5, 5] == NONE
    after = panel._overlay.trimap.overlay_tile(Rect(0, 0, doc.width, doc.height))
    assert after[24, 32, 3] > 0 and after[5, 5, 3] == 0
    panel.brushes["background"].setChecked(True)  # exclusive: the foreground brush goes up
    assert not panel.brushes["foreground"].isChecked() and view.tool.code == BACKGROUND
    c = view.to_widget(QPointF(3, 3))
    drag(view.viewport(), [c, c])
    assert trimap.codes[3, 3] == BACKGROUND
    # the tints differ per code, and undo takes back the last stroke only
    tile = trimap.overlay_tile(Rect(0, 0, doc.width, doc.height))
    assert not np.array_equal(tile[3, 3], tile[24, 32])
    panel.undo_trimap()
    assert trimap.codes[3, 3] == NONE and trimap.codes[24, 32] == FOREGROUND
    window.tool_state.tool = ToolKind.LASSO  # another tool: the brush buttons go up
    assert panel._active_brush() is None and not isinstance(view.tool, TrimapBrushTool)


def test_trimap_from_selection_band_and_band_slider(env, qtbot) -> None:
    panel, doc = env.panel, env.doc
    assert not panel.trimap_from_selection()  # nothing selected: refused with a message
    doc.select_rect(Rect(16, 12, 32, 24))
    panel.band.setValue(3)
    assert panel.trimap_from_selection()
    codes = panel.trimap(doc).codes
    assert codes[24, 32] == FOREGROUND and codes[2, 2] == BACKGROUND and codes[12, 32] == UNKNOWN
    narrow = int((codes == UNKNOWN).sum())
    panel.band.setValue(6)  # rebuilds from the same selection (debounced)
    qtbot.waitUntil(lambda: int((panel.trimap(doc).codes == UNKNOWN).sum()) > narrow, timeout=3000)


def test_band_slider_shows_each_photos_automatic_band_until_the_user_moves_it(env, qtbot) -> None:
    panel, window = env.panel, env.window
    wide = photo_doc(np.zeros((1000, 3000, 3), np.float32), "wide")
    window.add_document(wide)  # the current document: the slider shows its band at once
    assert panel.band.value() == 30  # 1 % of the longer side
    panel.band.setValue(7)
    qtbot.waitUntil(lambda: panel._user_bands.get(wide) == 7, timeout=3000)  # debounced
    window.tabs.setCurrentWidget(window.tab_for(env.doc))
    assert panel.band.value() == max(2, round(0.01 * max(env.doc.width, env.doc.height)))
    window.tabs.setCurrentWidget(window.tab_for(wide))
    assert panel.band.value() == 7  # the user's choice for that photo is kept


def test_cut_out_makes_a_result_layer_with_alpha_and_recipe_and_undo_removes_it(env, qapp, matting_warm):
    panel, doc = env.panel, env.doc
    photo = doc.layers[0]
    doc.selection[:] = env.mask
    panel.band.setValue(2)
    assert panel.trimap_from_selection()
    layer = run_async(qapp, panel.cut_out())
    assert isinstance(layer, ResultLayer) and doc.layers[-1] is layer and doc.active_layer is layer
    alpha = layer.pixels[..., 3].astype(np.float32) / 255
    assert alpha[24, 32] > 0.95 and alpha[2, 2] < 0.05  # subject kept, background cut away
    assert layer.pixels[24, 32, 0] > 200  # the red subject's estimated colour
    recipe = layer.recipe
    assert recipe.task == "matting" and recipe.params["engine"] == "cf" and recipe.params["mode"] == "trimap"
    assert recipe.source_layer_ids == [photo.id]
    assert np.array_equal(decode_codes(recipe.params["trimap"]), panel.trimap(doc).codes)
    assert not photo.visible  # the source is hidden so the cut-out shows on its own
    doc.history.undo()  # one step: layer gone, source visible again
    assert layer not in doc.layers and photo.visible


def test_replace_background_adds_a_layer_beneath_the_cut_out(env, qapp) -> None:
    panel, doc, controller = env.panel, env.doc, env.controller
    with pytest.raises(LucidError):
        panel.replace_background("color")  # no cut-out yet
    from editor.core.recipe import Recipe

    rgba = np.zeros((doc.height, doc.width, 4), np.float32)
    rgba[..., 3] = env.mask
    cut = controller.add_result_layer(doc, rgba, name="Cut-out", recipe=Recipe(task="matting"))
    panel._set_color(panel.bg_color.fromRgb(10, 200, 30))
    bg = panel.replace_background("color")
    assert doc.layers.index(bg) == doc.layers.index(cut) - 1 and doc.active_layer is cut
    assert tuple(bg.pixels[0, 0]) == (10, 200, 30, 255)
    blurred = panel.replace_background("blur")
    assert doc.layers.index(blurred) == doc.layers.index(cut) - 1
    src = doc.layers[0].pixels[..., :3].astype(np.float32)
    # blurred original: smooth (less high-frequency energy than the photo), same overall colour
    assert np.abs(np.diff(blurred.pixels[..., :3].astype(np.float32), axis=1)).mean() < \
        np.abs(np.diff(src, axis=1)).mean()
    doc.history.undo()
    assert blurred not in doc.layers and bg in doc.layers


def test_plate_of_another_size_is_refused_and_plate_mode_recorded(env, tmp_path) -> None:
    panel, doc = env.panel, env.doc
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(small)
    with pytest.raises(LucidError, match="same size"):
        panel.set_plate(doc, small)
    good = tmp_path / "plate.png"
    Image.fromarray(np.full((doc.height, doc.width, 3), 90, np.uint8)).save(good)
    plate = panel.set_plate(doc, good)
    assert "plate.png" in panel.plate_label.text()
    params = panel._params(doc, panel.trimap(doc), plate)
    assert params["mode"] == "plate" and params["plate"]["sha256"] == plate.sha256 and "trimap" not in params
    inputs = panel._inputs(panel.trimap(doc), plate)
    assert inputs["plate"].shape == (doc.height, doc.width, 3) and "trimap" not in inputs
    env.window.prompts.open_answers.append([good])
    panel.remove_plate()
    assert panel.plate(doc) is None


def test_cut_out_without_a_trimap_explains(env, qapp) -> None:
    assert run_async(qapp, env.panel.cut_out()) is None
    assert "foreground" in env.window.prompts.errors[-1]
    assert len(env.doc.layers) == 1


def test_auto_subject_seeds_the_trimap(env, qapp) -> None:
    panel, doc = env.panel, env.doc
    assert panel.auto_subject.isEnabled()
    assert run_async(qapp, panel.find_subject())
    codes = panel.trimap(doc).codes
    assert env.calls and env.calls[0].model_id == "u2netp"
    assert codes[24, 32] == FOREGROUND and codes[10, 2] == BACKGROUND and codes[0, 5] == UNKNOWN


def test_rerun_after_ora_reopen_rebuilds_the_same_request(env, qapp, tmp_path, matting_warm) -> None:
    from editor.io.ora import open_any, save_project

    panel, doc, controller = env.panel, env.doc, env.controller
    doc.selection[:] = env.mask
    panel.band.setValue(2)
    panel.trimap_from_selection()
    layer = run_async(qapp, panel.cut_out())
    path = tmp_path / "cut.ora"
    save_project(doc, path)
    panel.clear_trimap()  # the painted state is gone; the recipe must carry it
    reopened = open_any(path)
    cut = next(x for x in reopened.layers if isinstance(x, ResultLayer))
    request = panel.rebuild(reopened, cut)
    assert request.params["engine"] == "cf"
    stored = decode_codes(layer.recipe.params["trimap"])
    assert (stored == FOREGROUND).any() and (stored == BACKGROUND).any()
    assert np.array_equal(request.inputs["trimap"].render(), np.choose(stored, [0.5, 0.0, 0.5, 1.0]))
    # the source is rendered as if visible although the cut-out hid it
    image = request.image.render()  # lazy: the worker renders it
    assert image[24, 32, 0] > 0.8 and image[24, 32, 3] == 1.0
    # re-run in this session with another engine replaces the pixels (here: wiped first) in one undo step
    doc.paste(layer, "pixels", Rect(0, 0, doc.width, doc.height), np.zeros_like(layer.pixels), "Wipe")
    out = run_async(qapp, controller.rerun(doc, layer, engine="knn"))
    assert out is layer and layer.recipe.params["engine"] == "knn" and "trimap" in layer.recipe.params
    assert layer.pixels[24, 32, 3] > 240 and layer.pixels[2, 2, 3] < 15
    doc.history.undo()
    assert not layer.pixels.any()


def test_painting_the_trimap_after_a_cut_out_started_does_not_reach_the_job() -> None:
    from editor.ui.ai.trimap_tool import Trimap

    trimap = Trimap(40, 30)
    trimap.stamp(10, 10, 6, FOREGROUND)
    sent, packed = trimap.task_trimap_later(), trimap.packed_later()  # what a cut-out sends and packs
    trimap.stamp(30, 20, 6, BACKGROUND)  # the user paints on while the job waits in the queue
    assert trimap.codes[20, 30] == BACKGROUND and trimap.task_trimap()[20, 30] == 0.0
    assert sent.render()[20, 30] == 0.5 and sent.render()[10, 10] == 1.0  # the job sees the old codes
    assert (decode_codes(packed()) == BACKGROUND).sum() == 0 and decode_codes(packed())[10, 10] == FOREGROUND
