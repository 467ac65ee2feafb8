"""Obstruction panel and Open Burst dialog: frame checks, reference pick, two result layers (hidden
obstruction with the right blend mode), single-image mode, re-run of both layers. Fake task: plumbing."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QDialog

from editor.core.blend import BlendMode
from editor.core.layers import ResultLayer
from editor.infer.api import Result

from .ai_panel_helpers import ai_controller, run_async

pytestmark = pytest.mark.gui
H, W = 40, 48


def write_frames(folder, n=3, sizes=None):
    paths = []
    for i in range(n):
        h, w = sizes[i] if sizes else (H, W)
        rgb = np.full((h, w, 3), 40 * (i + 1), np.uint8)
        rgb[::6] = 250  # a "fence"
        p = folder / f"frame{i}.png"
        Image.fromarray(rgb).save(p)
        paths.append(p)
    return paths


class FakeObstruction:
    def __init__(self) -> None:
        self.requests = []

    def __call__(self, name):
        assert name == "obstruction"
        return self.run

    def run(self, request, progress, cancel):
        self.requests.append(request)
        n = len(self.requests)
        if "frames" in request.inputs:
            frames = request.inputs["frames"]
            h, w = frames.shape[1:3]
        else:
            h, w = request.image.shape[:2]
        kind = request.params.get("kind", "auto")
        found = "reflection" if kind == "reflection" else "fence"
        bg = np.full((h, w, 3), 0.1 * n, np.float32)
        obs = np.zeros((h, w, 4), np.float32)
        obs[::6, :, :3] = 0.9
        obs[::6, :, 3] = 1.0 if found == "fence" else 0.3
        blend = "svg:src-over" if found == "fence" else "svg:plus"
        return Result(images={"image": bg, "obstruction": obs}, mask=obs[..., 3],
                      info={"kind": found, "obstruction_blend": blend})


@pytest.fixture
def env(window):
    from editor.ui.ai.obstruction_panel import ObstructionPanel

    tasks = FakeObstruction()
    with ai_controller(window, tasks) as controller:
        panel = ObstructionPanel(controller, window)
        yield SimpleNamespace(window=window, panel=panel, controller=controller, tasks=tasks)


def test_burst_dialog_refuses_mismatched_sizes_and_counts(window, tmp_path, qtbot) -> None:
    from editor.ui.ai.burst_dialog import BurstDialog

    odd = write_frames(tmp_path, 3, sizes=[(H, W), (H, W), (H + 2, W)])
    dlg = BurstDialog(odd, parent=window)
    assert "same size" in dlg.error_label.text() and "Frame 3" in dlg.error_label.text()
    assert not dlg.ok_button.isEnabled() and dlg.burst() is None
    rotated = write_frames(tmp_path, 3, sizes=[(H, W), (W, H), (H, W)])
    assert not dlg.set_paths(rotated) and "rotated" in dlg.error_label.text()
    assert not dlg.set_paths(odd[:2]) and "3 to 7 frames" in dlg.error_label.text()
    good = write_frames(tmp_path, 5)
    assert dlg.set_paths(good) and dlg.ok_button.isEnabled() and not dlg.error_label.text()
    assert dlg.list.count() == 5 and not dlg.list.item(0).icon().isNull()
    assert dlg.reference == 2 and "frame 3" in dlg.reference_label.text()  # the middle one by default
    dlg.list.setCurrentRow(0)
    dlg.kind.setCurrentIndex(dlg.kind.findData("fence"))
    burst = dlg.burst()
    assert burst.reference == 0 and burst.kind == "fence" and burst.frames.shape == (5, H, W, 3)
    assert [f["path"] for f in burst.files] == [str(p) for p in good] and len(burst.files[0]["sha256"]) == 64
    dlg.deleteLater()


def test_burst_makes_background_and_hidden_obstruction_layers(env, tmp_path, qapp) -> None:
    from editor.ui.ai.burst_dialog import BurstDialog

    paths = write_frames(tmp_path, 3)
    dlg = BurstDialog(paths, parent=env.window)
    burst = dlg.burst()
    dlg.deleteLater()
    bg, obs = run_async(qapp, env.panel.remove_obstruction(burst))
    doc = env.window.current_doc()
    assert doc.path == paths[1]  # the reference frame opened as the document
    assert [x.name for x in doc.layers] == ["frame1", "Background", "Obstruction"]
    assert bg.visible and not obs.visible and obs.blend_mode is BlendMode.NORMAL
    assert doc.active_layer is bg
    alpha = obs.pixels[..., 3]
    assert alpha[0].min() == 255 and alpha[1].max() == 0  # an alpha layer for an opaque obstruction
    sent = env.tasks.requests[-1]
    assert sent.inputs["frames"].shape == (3, H, W, 3) and sent.params["reference"] == 1
    p = bg.recipe.params
    assert p["kind"] == "auto" and p["kind_found"] == "fence" and p["reference"] == 1
    assert [f["path"] for f in p["frames"]] == [str(x) for x in paths] and all(len(f["sha256"]) == 64
                                                                             for f in p["frames"])
    assert p["output"] == "image" and obs.recipe.params["output"] == "obstruction"
    doc.history.undo()  # one undo step removes both
    assert [x.name for x in doc.layers] == ["frame1"]


def test_reflection_layer_adds_light(env, tmp_path, qapp) -> None:
    from editor.ui.ai.burst_dialog import Burst, BurstDialog

    dlg = BurstDialog(write_frames(tmp_path, 4), parent=env.window)
    b = dlg.burst()
    dlg.deleteLater()
    _bg, obs = run_async(qapp, env.panel.remove_obstruction(Burst(b.frames, b.files, 2, "reflection")))
    assert obs.blend_mode is BlendMode.PLUS and not obs.visible
    assert env.tasks.requests[-1].params["kind"] == "reflection"


def test_rerun_remakes_both_layers_and_refuses_a_changed_frame(env, tmp_path, qapp, qtbot) -> None:
    from editor.ui.ai.burst_dialog import BurstDialog

    paths = write_frames(tmp_path, 3)
    dlg = BurstDialog(paths, parent=env.window)
    burst = dlg.burst()
    dlg.deleteLater()
    bg, obs = run_async(qapp, env.panel.remove_obstruction(burst))
    doc = env.window.current_doc()
    first = bg.pixels[0, 0, 0]

    async def rerun(layer):
        await env.controller.rerun(doc, layer)
        for task in list(env.controller.tasks):  # the panel re-makes both layers in its own coroutine
            await task

    run_async(qapp, rerun(obs))
    assert bg.pixels[0, 0, 0] != first  # both layers, from one job
    assert len(env.tasks.requests) == 2 and obs.recipe.params["output"] == "obstruction"
    assert obs.recipe.params["burst"] == bg.recipe.params["burst"]
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(paths[0])  # the frame changed on disk
    run_async(qapp, rerun(bg))
    assert "changed" in env.window.prompts.errors[-1] and len(env.tasks.requests) == 2


def test_single_image_mode_fills_the_brushed_mask(env, qapp) -> None:
    from .qt_helpers import gradient_doc

    doc = gradient_doc(48, 40)
    env.window.add_document(doc)
    assert run_async(qapp, env.panel.remove_brushed()) is None
    assert "mask" in env.window.prompts.errors[-1]
    doc.selection[10:20, 10:30] = 1.0
    layer = run_async(qapp, env.panel.remove_brushed())
    assert isinstance(layer, ResultLayer) and layer.name == "Obstruction removed"
    assert layer.mask[15, 15] == 1.0 and layer.mask[0, 0] == 0.0  # applies through the brushed mask only
    sent = env.tasks.requests[-1]
    assert "frames" not in sent.inputs and sent.mask[15, 15] == 1.0 and sent.params["engine"] == "patchmatch"


def test_file_menu_open_burst_opens_the_dialog(env, tmp_path, qtbot) -> None:
    action = env.panel.menu_action
    assert action is not None and action.text() == "Open &Burst…"
    env.window.prompts.open_answers.append(write_frames(tmp_path, 3))
    action.trigger()
    dlg = env.panel.dialog
    assert dlg is not None and dlg.isVisible() and dlg.list.count() == 3
    dlg.reject()
    qtbot.waitUntil(lambda: env.panel.dialog is None)
    assert QDialog.DialogCode.Rejected == dlg.result() and not env.tasks.requests


def test_dropping_frames_on_the_panel_starts_a_burst(env, tmp_path, qapp) -> None:
    from .qt_helpers import drop

    paths = write_frames(tmp_path, 3)

    async def drop_and_run():
        drop(env.panel, paths)
        dlg = env.panel.dialog
        assert dlg is not None and dlg.isVisible() and dlg.list.count() == 3 and dlg.ok_button.isEnabled()
        assert dlg.reference == 1  # the middle frame, as Open Burst… picks
        dlg.accept()  # "Remove obstruction"
        tasks = list(env.controller.tasks)
        assert tasks, "accepting the dropped burst starts no job"
        for task in tasks:
            await task
        return dlg

    run_async(qapp, drop_and_run())
    assert env.panel.dialog is None and not env.window.prompts.errors
    sent = env.tasks.requests[-1]
    assert sent.inputs["frames"].shape == (3, H, W, 3) and sent.params["reference"] == 1
    assert [f["path"] for f in sent.params["frames"]] == [str(p) for p in paths]
    doc = env.window.current_doc()
    assert doc.path == paths[1] and [x.name for x in doc.layers] == ["frame1", "Background", "Obstruction"]
    assert not doc.layers[-1].visible  # the removed obstruction waits, hidden, to be painted back


def test_dropping_one_unusable_frame_shows_why_and_starts_nothing(env, tmp_path, qtbot) -> None:
    from .qt_helpers import drop

    drop(env.panel, write_frames(tmp_path, 1))
    dlg = env.panel.dialog
    assert dlg is not None and "3 to 7 frames" in dlg.error_label.text() and not dlg.ok_button.isEnabled()
    dlg.reject()
    qtbot.waitUntil(lambda: env.panel.dialog is None)
    assert not env.tasks.requests
