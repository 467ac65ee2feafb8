"""The AI wiring in the main window: Jobs dock, AI menu (Models…, tool panels), Preferences reaching the
service, the start-up warm-up (hidden from the Jobs list), build_services, the controller's helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from editor.core.geometry import Rect
from editor.core.recipe import Recipe
from editor.core.settings import Settings
from editor.infer.jobs import JobState

from .ai_support import make_env, photo_doc

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(qtbot, qapp, prompts, tmp_path, monkeypatch):
    yield from make_env(qtbot, qapp, prompts, tmp_path, monkeypatch)


def test_models_dialog_opens_from_the_ai_menu(env, qtbot):
    action = env.window.actions["models"]
    assert action.isEnabled() and action in env.window.ai_menu.actions()
    action.trigger()
    dlg = env.window.models_dialog
    qtbot.waitUntil(dlg.isVisible, timeout=3000)
    row = dlg.row_of("realesrgan-x4plus")
    assert dlg.table.item(row, 2).text() == "not installed"
    assert dlg.store is env.services.store and dlg.runner is env.services.runner
    dlg.close()


def test_jobs_dock_and_ai_panels_are_in_the_window(env):
    win = env.window
    assert win.docks["Jobs"].widget() is win.jobs_panel and "AI" in win.docks
    entry = next(a for a in win.ai_menu.actions() if a.text() == "Inpaint")
    win.docks["AI"].hide()
    entry.trigger()
    assert win.docks["AI"].isVisible() and win.ai.dock_tabs.currentWidget() is win.ai.panels["Inpaint"]


def test_warm_up_job_runs_hidden_from_the_jobs_list(env, qtbot):
    from editor.app import start_warm_ups

    panel = env.window.jobs_panel
    start_warm_ups(env.services, matting=False)
    assert env.services.warm_up_job is not None
    job = env.services.warm_up_job
    qtbot.waitUntil(lambda: job.state is JobState.DONE and job.id not in panel.rows, timeout=60000)
    assert panel.empty_label.isVisibleTo(panel) and job.future.result().info["warm_up"] is True


def test_preferences_reach_the_service(env, tmp_path, monkeypatch):
    monkeypatch.delenv("LUCID_MODELS_DIR")
    folder = tmp_path / "elsewhere"
    env.window.apply_settings(replace(Settings(), models_dir=str(folder), compute_device="cpu"))
    assert env.services.store.models_dir == folder and env.services.service.device == "cpu"


def test_warm_ups_are_off_under_pytest_unless_asked(monkeypatch):
    from editor.app import warm_ups_wanted

    assert os.environ.get("PYTEST_CURRENT_TEST") and warm_ups_wanted() == set()
    monkeypatch.setenv("LUCID_WARMUP", "1")
    assert warm_ups_wanted() == {"torch", "matting"}
    monkeypatch.setenv("LUCID_WARMUP", "torch")
    assert warm_ups_wanted() == {"torch"}
    monkeypatch.setenv("LUCID_WARMUP", "0")
    assert warm_ups_wanted() == set()


def test_when_idle_waits_for_a_quiet_moment(qtbot, qapp):
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QWidget

    from editor.ui.ai.idle import WhenIdle

    fired = []
    widget = QWidget()
    qtbot.addWidget(widget)
    trigger = WhenIdle(lambda: fired.append(1), idle_ms=150)
    for _ in range(4):  # keep moving the mouse: it must not fire meanwhile
        qtbot.wait(60)
        move = QMouseEvent(QEvent.Type.MouseMove, QPointF(5, 5), QPointF(5, 5), Qt.MouseButton.NoButton,
                           Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        qapp.sendEvent(widget, move)
    assert fired == [] and trigger.pending
    qtbot.waitUntil(lambda: fired == [1], timeout=3000)
    assert not trigger.pending


def test_build_services_does_not_import_torch(tmp_path):
    code = ("import sys\nfrom PySide6.QtWidgets import QApplication\napp = QApplication([])\n"
            "from editor.app import build_services\nfrom editor.core.settings import Settings\n"
            "s = build_services(Settings())\nok = 'torch' not in sys.modules and s.store is not None\n"
            "s.shutdown()\nsys.exit(0 if ok else 1)\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LUCID_MODELS_DIR=str(tmp_path))
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, timeout=120).returncode == 0


def test_result_layer_helper_converts_depth_and_is_one_undo_step(env):
    ai = env.window.ai
    doc = photo_doc(30, 20, depth=16)
    env.window.add_document(doc)
    image = np.full((20, 30, 3), 0.25, np.float32)
    mask = np.zeros((20, 30), np.float32)
    mask[5:10, 5:10] = 1
    steps = len(doc.history.labels)
    layer = ai.add_result_layer(doc, image, name="Test", recipe=Recipe(task="x"), mask=mask)
    assert layer.pixels.dtype == np.uint16 and layer.pixels[0, 0].tolist() == [16384, 16384, 16384, 65535]
    assert np.array_equal(layer.mask, mask) and len(doc.history.labels) == steps + 1
    default = ai.add_result_layer(doc, image, name="Plain", recipe=Recipe(task="x"), above=doc.layers[0])
    assert doc.layers.index(default) == 1 and default.mask.min() == 1.0


def test_snapshots_are_frozen_and_rendered_later(env):
    """Snapshots copy nothing when taken and render what the document was then, not what it became."""
    ai = env.window.ai
    doc = photo_doc(30, 20)
    env.window.add_document(doc)
    assert ai.selection_mask(doc) is None
    doc.select_rect(Rect(2, 2, 5, 5))
    original = doc.layers[0].pixels.copy()
    sel = ai.selection_mask(doc)
    comp = ai.snapshot(doc)
    active = ai.snapshot(doc, "active")
    assert np.shares_memory(sel.mask, doc.selection)  # shared, not copied
    assert np.shares_memory(active.layers[0].pixels, doc.layers[0].pixels)
    doc.clear_selection()  # the user edits on: the live document copies, the snapshots keep theirs
    doc.paste(doc.layers[0], "pixels", Rect(0, 0, 30, 20), np.zeros((20, 30, 4), np.uint8), "wipe")
    assert sel.render()[2:7, 2:7].min() == 1.0 and sel.render().sum() == 25
    assert comp.render().dtype == np.float32 and active.shape == (20, 30, 4)
    assert np.allclose(active.render(), original / 255.0)
    assert np.allclose(comp.render(), original / 255.0, atol=1e-6)
    assert np.array_equal(ai.snapshot(doc, channels=3).render(Rect(1, 2, 4, 3)),
                          ai.snapshot(doc).render()[2:5, 1:5, :3])  # a region is the whole render's crop


def test_deferred_panels_load_after_the_window_is_up(env, qtbot, prompts):
    """The app builds Inpaint at once and the other tool panels shortly after (startup time)."""
    from editor.ui.ai import PANELS
    from editor.ui.ai.services import Services
    from editor.ui.main_window import MainWindow

    s = env.services
    services = Services(service=s.service, runner=s.runner, store=s.store, defer_panels=True)
    win = MainWindow(prompts=prompts, services=services)
    qtbot.addWidget(win)
    try:
        assert list(win.ai.panels) == ["Inpaint"] and not win.ai.deferred.loaded
        qtbot.waitUntil(lambda: win.ai.deferred.loaded, timeout=30000)
        assert len(win.ai.panels) == len(env.window.ai.panels) <= len(PANELS)
        assert [a.text() for a in win.ai_menu.actions() if a.text() in win.ai.panels] == list(win.ai.panels)
    finally:
        win.close()
