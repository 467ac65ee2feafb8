"""Select → Subject / Person / Refine, the Matte panel's one-click cut-out and Latent Edit's Find face,
with the real MediaPipe models (installed at set-up) on real photos, through the real worker service."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
import pytest

from editor.ui.ai.trimap_tool import decode_codes
from tests.segment.mp_helpers import BACKGROUND_IN_LASSO, LASSO, ON_MAN, group_photo, installed

from .ai_panel_helpers import photo_doc, run_async

pytestmark = pytest.mark.gui
cv2 = pytest.importorskip("cv2")


def _photo(rel: str, scale: float = 1.0) -> np.ndarray:
    from PIL import Image

    from tests.conftest import SHARED_DATA

    p = SHARED_DATA / rel
    if not p.is_file():
        pytest.skip(f"{p} is missing")
    img = np.asarray(Image.open(p).convert("RGB"), np.float32) / 255.0
    return img if scale == 1 else cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


@contextmanager
def real_controller(window):
    from editor.infer.service import InferenceService
    from editor.infer.store import ModelStore
    from editor.ui.ai.controller import AiController
    from editor.ui.jobs import JobRunner

    for model_id in ("mediapipe-selfie-segmentation", "mediapipe-face-mesh"):
        installed(model_id)  # fetched into the test models cache, which becomes the models folder
    store = ModelStore()
    service = InferenceService(store, device="cpu")
    runner = JobRunner(service)
    try:
        yield AiController(window, runner, store)
    finally:
        service.shutdown(wait=True)
        runner.close()


@pytest.fixture
def env(window):
    from editor.ui.ai.subject_select import SubjectSelect

    with real_controller(window) as controller:
        tools = SubjectSelect(controller, window)
        controller.subject_select = tools
        yield SimpleNamespace(window=window, controller=controller, tools=tools)


def test_select_person_then_subtract_and_add_with_modifiers(env, qapp) -> None:
    from editor.core.geometry import Rect
    from editor.infer.tasks.segment import person_mask

    img = _photo("sr/Set5/x4/img_005_SRF_4_HR.png")
    doc = photo_doc(img)
    env.window.add_document(doc)
    texts = [a.text() for a in env.window.select_menu.actions()]
    assert {"Subject", "Person", "Refine to Subject"} <= set(texts)
    env.tools.refresh()
    assert env.tools.actions["person"].isEnabled()
    assert run_async(qapp, env.tools.select("person", "replace"))
    sel = doc.selection.copy()
    expected = person_mask(_load("mediapipe-selfie-segmentation"), img)
    assert np.abs(sel - expected).max() < 0.02  # the model's mask (8-bit photo round trip) is the selection
    assert 0.5 < (sel >= 0.5).mean() < 0.95
    doc.select_rect(Rect(0, 0, 20, 20), "replace")
    assert run_async(qapp, env.tools.select("person", "add"))  # Shift: the corner stays, the person joins
    added = doc.selection.copy()
    assert added[:20, :20].min() == 1.0 and np.array_equal(added[20:, 20:], np.maximum(sel, 0)[20:, 20:])
    assert run_async(qapp, env.tools.select("person", "subtract"))  # Alt: the person leaves again
    assert (
        float(doc.selection[sel >= 0.99].max()) <= 0.01
        and doc.selection[:20, :20][sel[:20, :20] == 0].min() == 1
    )
    doc.history.undo()  # one undo step each
    assert np.array_equal(doc.selection, added)


def _load(model_id: str):
    from editor.infer.safe_load import load_model
    from editor.infer.store import ModelStore

    return load_model(ModelStore().path(model_id))


SCALE = 0.5


def _man_doc(env):
    doc = photo_doc(_photo("matting/bgmv2_pair/test_fg.jpg", SCALE))
    env.window.add_document(doc)
    doc.select_polygon([(x * SCALE, y * SCALE) for x, y in LASSO])
    return doc


def _at(arr: np.ndarray, pts) -> np.ndarray:
    return np.array([arr[int(y * SCALE), int(x * SCALE)] for x, y in pts])


def test_refine_tightens_a_loose_lasso_to_the_man(env, qapp) -> None:
    doc = _man_doc(env)
    before = doc.selection.copy()
    assert run_async(qapp, env.tools.refine())
    after = doc.selection
    assert _at(after, ON_MAN).min() == 1.0 and _at(after, BACKGROUND_IN_LASSO).max() == 0.0
    assert after.sum() < 0.6 * before.sum()
    assert after[before == 0].max() == 0  # never grows outside the lasso
    doc.history.undo()
    assert np.array_equal(doc.selection, before)


def test_one_click_cutout_from_the_matte_panel_adds_a_result_layer_that_reruns(env, qapp) -> None:
    from editor.core.layers import ResultLayer
    from editor.ui.ai.matte_panel import MattePanel

    doc = _man_doc(env)
    panel = MattePanel(env.controller, env.window)
    inside = (doc.selection >= 0.5).astype(np.uint8)
    assert panel.band.value() == max(2, round(0.01 * max(doc.width, doc.height)))  # this photo's auto band
    panel.band.setValue(panel.band.value() + 3)  # the user's band is what the one click uses
    layer = run_async(qapp, panel.cut_out_subject(), timeout=240)
    assert isinstance(layer, ResultLayer) and layer.name == "Cut-out (subject)"
    assert layer.recipe.params["band_px"] == panel.band.value()
    assert layer.recipe.task == "cutout" and layer.recipe.model_id == "mediapipe-selfie-segmentation"
    assert layer.recipe.model_sha256
    assert np.array_equal(decode_codes(layer.recipe.params["selection"]), inside)  # packed off the GUI
    alpha = layer.pixels[..., 3].astype(np.float32) / 255
    assert _at(alpha, ON_MAN).min() > 0.8 and _at(alpha, BACKGROUND_IN_LASSO).max() < 0.1
    assert not doc.layers[0].visible  # the source is hidden, the cut-out shows
    doc.clear_selection()  # re-run uses the stored selection, not the current one
    again = run_async(qapp, env.controller.rerun(doc, layer), timeout=240)
    assert again is not None
    assert np.abs(again.pixels[..., 3].astype(int) - layer.pixels[..., 3].astype(int)).mean() < 1.0


def test_latent_find_face_places_draggable_points(env, qapp) -> None:
    from PySide6.QtCore import QPointF, Qt

    from editor.ui.ai.face_points import PointPickTool
    from editor.ui.ai.latent_panel import LatentPanel

    doc = photo_doc(_photo("sr/Set5/x4/img_005_SRF_4_HR.png"))
    env.window.add_document(doc)
    panel = LatentPanel(env.controller, env.window)
    assert panel.find_face_button.isEnabled()
    assert run_async(qapp, panel.find_face())
    pts = panel.points(doc)
    assert pts.complete
    (lx, ly), (rx, ry), (mx, my) = pts.points
    assert abs(lx - 77) < 6 and abs(ly - 102) < 6 and abs(rx - 140) < 6 and abs(ry - 92) < 6
    assert abs(mx - 122) < 6 and abs(my - 169) < 6
    assert len(panel._markers.items) == 3 and panel.invert_button.isEnabled()
    tool = env.window.current_tab().view.tool
    assert isinstance(tool, PointPickTool)
    none = Qt.KeyboardModifier.NoModifier
    tool.press(QPointF(124, 171), none, 1.0)  # grab the mouth and drag it
    tool.move(QPointF(126, 175), none, 1.0)
    tool.move(QPointF(130, 180), none, 1.0)
    tool.release(QPointF(130, 180), none)
    assert pts.points[2] == (130.0, 180.0) and pts.points[0] == (lx, ly)
    assert panel._markers.items[2].pos().x() == 130.0


def test_find_face_in_a_group_photo_steps_through_the_faces_or_takes_the_selected_one(env, qapp) -> None:
    """Two faces (the Set5 baby, and the woman at half size beside her): Find face places the best one,
    says how many there are, and each further Find face moves to the next; with a selection around the
    woman it places her at once."""
    from editor.core.geometry import Rect
    from editor.ui.ai.latent_panel import LatentPanel

    doc = photo_doc(group_photo())
    env.window.add_document(doc)
    panel = LatentPanel(env.controller, env.window)

    def left_eye_x() -> float:
        return panel.points(doc).points[0][0]

    assert run_async(qapp, panel.find_face())
    first = left_eye_x()
    assert "Face 1 of 2" in env.window.statusBar().currentMessage()
    assert run_async(qapp, panel.find_face())
    second = left_eye_x()
    assert "Face 2 of 2" in env.window.statusBar().currentMessage()
    assert sorted([first < 800, second < 800]) == [False, True]  # the baby and the woman, one each
    assert run_async(qapp, panel.find_face())
    assert left_eye_x() == first  # round again
    doc.select_rect(Rect(120, 380, 200, 220))  # around the woman
    panel.points(doc).clear()
    assert run_async(qapp, panel.find_face())
    assert left_eye_x() < 800
