"""Latent Edit panel: clicking eyes and mouth, invert (fake task) with previews and sliders, a slider
move sends a render request, Apply adds a result layer whose recipe re-runs without the session."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt

from editor.core.layers import ResultLayer
from editor.infer.api import InferenceError, Result
from editor.ui.ai.face_points import PointPickTool

from .qt_helpers import gradient_doc, send_mouse

pytestmark = pytest.mark.gui


class FakeLatent:
    """Stands in for task "latent": remembers requests, answers each action like the real one."""

    def __init__(self) -> None:
        self.requests = []
        self.lock = threading.Lock()

    def __call__(self, name):
        assert name == "latent"
        return self.run

    def actions(self, action):
        with self.lock:
            return [r for r in self.requests if r.params.get("action") == action]

    def run(self, request, progress, cancel):
        with self.lock:
            self.requests.append(request)
        p = request.params
        action = p["action"]
        if action == "invert":
            crop = np.full((64, 64, 3), 0.5, np.float32)
            return Result(images={"crop": crop, "aligned": crop * 0.8},
                          info={"session": "s1", "psnr_final": 27.5, "directions": [
                              {"name": "pca0", "source": "ganspace"}, {"name": "sefa0", "source": "sefa"}]})
        if action == "render":
            if p["session"] != "s1":
                raise InferenceError("This latent edit has expired: invert the face again.")
            amount = float(p["edits"].get("pca0", 0.0))
            return Result(images={"crop": np.full((p["size"], p["size"], 3), 0.5 + amount / 10, np.float32)})
        if action == "apply":
            image = request.image.copy()
            mask = np.zeros(image.shape[:2], np.float32)
            mask[10:30, 20:40] = 1.0
            image[10:30, 20:40, :3] = 0.2
            return Result(images={"image": image, "crop": image[:64, :64, :3]}, mask=mask,
                          info={"recipe": {"amounts": p["edits"], "latent": [0.1, 0.2]}})
        return Result(info={"closed": True})


@pytest.fixture
def env(window, tmp_path):
    from editor.ui.ai.latent_panel import LatentPanel

    from .ai_panel_helpers import ai_controller

    tasks = FakeLatent()
    doc = gradient_doc(80, 60)
    with ai_controller(window, tasks) as controller:
        window.add_document(doc)
        panel = LatentPanel(controller, window)
        gen = tmp_path / "tiny.pt"
        gen.write_bytes(b"not really a generator")
        yield SimpleNamespace(window=window, panel=panel, controller=controller, tasks=tasks, doc=doc,
                              gen=gen)


def click(view, x, y):
    pos = view.to_widget(QPointF(x, y))
    send_mouse(view.viewport(), QEvent.Type.MouseButtonPress, pos)
    send_mouse(view.viewport(), QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.LeftButton,
               Qt.MouseButton.NoButton)


def place_points(env):
    view = env.window.current_tab().view
    env.panel.pick_button.setChecked(True)
    for x, y in ((30, 20), (50, 20), (40, 45)):
        click(view, x, y)
    return view


def test_three_clicks_set_eyes_and_mouth_with_markers(env) -> None:
    panel = env.panel
    assert not panel.invert_button.isEnabled() and "left eye" in panel.points_label.text()
    view = place_points(env)
    assert isinstance(view.tool, PointPickTool)
    pts = panel.points(env.doc)
    assert pts.complete and pts.eyes() == pytest.approx([30, 20, 50, 20], abs=0.6)
    assert pts.mouth() == pytest.approx([40, 45], abs=0.6)
    assert len(panel._markers.items) == 3 and all(m.scene() is view.scene() for m in panel._markers.items)
    assert panel.invert_button.isEnabled()
    click(view, 52, 22)  # a fourth click moves the nearest point (the right eye)
    assert pts.eyes()[2:] == pytest.approx([52, 22], abs=0.6) and len(pts.points) == 3
    panel.clear_points()
    assert not pts.points and not panel._markers.items and not panel.invert_button.isEnabled()


def test_invert_shows_previews_and_sliders_then_a_slider_renders(env, qapp, qtbot) -> None:
    from .ai_panel_helpers import run_async

    panel = env.panel
    place_points(env)
    assert run_async(qapp, panel.invert()) is False  # no generator chosen yet: explained, nothing sent
    assert "generator" in env.window.prompts.errors[-1] and not env.tasks.requests
    panel.set_generator_file(env.gen)
    assert run_async(qapp, panel.invert())
    inv = env.tasks.actions("invert")[-1]
    assert inv.params["generator"] == str(env.gen) and inv.params["eyes"] == pytest.approx([30, 20, 50, 20],
                                                                                          abs=0.6)
    assert inv.image.shape == (60, 80, 4)
    assert panel.session == "s1" and set(panel.sliders) == {"pca0", "sefa0"}
    assert not panel.preview.pixmap().isNull() and not panel.aligned_view.pixmap().isNull()
    assert "27.5 dB" in panel.status.text()
    before = panel.preview.pixmap().toImage().pixelColor(75, 75).red()
    panel.sliders["pca0"].setValue(2.0)
    qtbot.waitUntil(lambda: any(r.params["edits"] == {"pca0": 2.0} for r in env.tasks.actions("render")),
                    timeout=5000)
    render = env.tasks.actions("render")[-1]
    assert render.params["session"] == "s1" and render.params["size"] == 128
    qtbot.waitUntil(lambda: panel._render_job is None, timeout=5000)
    assert panel.preview.pixmap().toImage().pixelColor(75, 75).red() > before  # the new render is shown


def test_apply_adds_a_result_layer_whose_recipe_reruns_from_scratch(env, qapp) -> None:
    from .ai_panel_helpers import run_async

    panel = env.panel
    place_points(env)
    panel.set_generator_file(env.gen)
    run_async(qapp, panel.invert())
    panel.sliders["sefa0"].blockSignals(True)
    panel.sliders["sefa0"].setValue(-1.5)
    panel.sliders["sefa0"].blockSignals(False)
    layer = run_async(qapp, panel.apply())
    assert isinstance(layer, ResultLayer) and env.doc.layers[-1] is layer and "sefa0 -1.5" in layer.name
    assert layer.mask[20, 30] == 1.0 and layer.mask[0, 0] == 0.0
    apply = env.tasks.actions("apply")[-1]
    assert apply.params == {"action": "apply", "session": "s1", "edits": {"sefa0": -1.5}}
    p = layer.recipe.params
    assert layer.recipe.task == "latent" and p["action"] == "edit" and "session" not in p
    assert p["edits"] == {"sefa0": -1.5} and p["generator"] == str(env.gen) and p["steps"] == 200
    assert p["result"]["latent"] == [0.1, 0.2]
    request = env.controller.default_rebuild(env.doc, layer)  # what Re-run sends: a one-shot edit
    assert request.task == "latent" and request.params["action"] == "edit" and request.params["mouth"]
    env.doc.history.undo()
    assert layer not in env.doc.layers


def test_expired_session_is_reported_and_apply_refused_without_one(env, qapp, qtbot) -> None:
    from .ai_panel_helpers import run_async

    panel = env.panel
    assert run_async(qapp, panel.apply()) is None and "Invert" in env.window.prompts.errors[-1]
    place_points(env)
    panel.set_generator_file(env.gen)
    run_async(qapp, panel.invert())
    panel.session = "gone"  # the worker forgot it (e.g. two newer sessions)
    panel.request_render()
    qtbot.waitUntil(lambda: "expired" in panel.status.text(), timeout=5000)
    assert panel.session is None
