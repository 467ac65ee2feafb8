"""Never lose work: the real app (a subprocess) autosaves a mask stroke, is killed with SIGKILL, and the
next start offers the recovery file, which reopens unsaved with the stroke and its original path; a
clean close removes it. Plus the pieces: incremental, bounded, `lucid recover --list`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.cli import main as cli_main
from editor.core.document import Document
from editor.core.layers import PixelLayer
from editor.core.snapshot import freeze_document
from editor.io import recovery
from editor.io.ora import load_project

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

FIRST_RUN = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QPointF, QTimer
from PySide6.QtWidgets import QApplication
from qt_helpers import drag
app = QApplication(["lucid"])
def probe():
    from editor.ui.autosave import Autosaver
    from editor.ui.main_window import MainWindow
    wins = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if not wins or wins[0].tabs.count() == 0:
        QTimer.singleShot(25, probe)
        return
    win = wins[0]
    view = win.current_tab().view
    view.set_zoom(2.0)
    view.centerOn(60, 40)
    win.tool_state.brush_size = 10
    a, b = view.to_widget(QPointF(30, 40)), view.to_widget(QPointF(90, 40))
    drag(view.viewport(), [a + (b - a) * (i / 10) for i in range(11)])
    saver = win.findChild(Autosaver)
    def saved(doc, entry):
        print("SAVED", entry.project, round(saver.last_snapshot_ms, 2), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # a crash: nothing runs after this
    saver.saved.connect(saved)
QTimer.singleShot(0, probe)
QTimer.singleShot(30000, lambda: (print("NO AUTOSAVE", flush=True), os._exit(3)))
from editor.app import main
sys.exit(main([sys.argv[2], "--no-sample"]))
"""

SECOND_RUN = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(["lucid"])
seen = {}
def answer():
    from editor.ui.recovery_dialog import RecoveryDialog
    dialogs = [w for w in app.topLevelWidgets() if isinstance(w, RecoveryDialog) and w.isVisible()]
    if not dialogs:
        QTimer.singleShot(25, answer)
        return
    d = dialogs[0]
    seen["offered"] = [d.list.item(i).text() for i in range(d.list.count())]
    seen["thumbnail"] = not d.list.item(0).icon().isNull()
    d.recover_button.click()
    QTimer.singleShot(0, probe)
def probe():
    from editor.ui.main_window import MainWindow
    win = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    docs = win.documents()
    seen["docs"] = [[str(d.path), d.modified, float(d.selection[40, 30:91].min()),
                     float(d.selection[10].max())] for d in docs]
    print("PROBE " + json.dumps(seen), flush=True)
    for d in docs:
        d.modified = False  # close without the unsaved-changes question: a clean close
    win.close()
QTimer.singleShot(0, answer)
from editor.app import main
sys.exit(main(["--no-sample"]))
"""


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", LUCID_CONFIG_DIR=str(tmp_path / "cfg"),
                LUCID_RECOVERY_DIR=str(tmp_path / "recovery"), LUCID_AUTOSAVE_SECONDS="0.5",
                PYTHONPATH=str(REPO))


def test_kill_9_after_a_mask_stroke_then_recover(tmp_path, env, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((80, 120, 3), 90, np.uint8)).save(photo)
    original = photo.read_bytes()
    first = subprocess.run([sys.executable, "-c", FIRST_RUN, str(REPO / "tests" / "ui"), str(photo)],
                           capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert first.returncode == -signal.SIGKILL, first.stderr[-3000:]
    assert "SAVED" in first.stdout
    folder = tmp_path / "recovery"

    assert cli_main(["recover", "--list", "--dir", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    project, source, when, state = lines[0].split("\t")
    assert source == str(photo) and state == "recoverable" and when[:4].isdigit()
    doc = load_project(project)
    assert doc.selection[40, 30:91].min() > 0.9 and doc.selection[10].max() == 0  # the stroke is there

    second = subprocess.run([sys.executable, "-c", SECOND_RUN], capture_output=True, text=True, cwd=REPO,
                            env=env, timeout=120)
    assert second.returncode == 0, second.stderr[-3000:]
    seen = json.loads(next(ln for ln in second.stdout.splitlines() if ln.startswith("PROBE "))[6:])
    assert len(seen["offered"]) == 1 and "photo.png" in seen["offered"][0] and seen["thumbnail"]
    [[path, modified, stroke_min, far_max]] = seen["docs"]
    assert path == str(photo) and modified and stroke_min > 0.9 and far_max == 0
    assert recovery.list_entries(folder) == []  # the clean close removed it
    assert photo.read_bytes() == original  # autosave never writes the user's file


def _doc(n_layers: int = 3) -> Document:
    doc = Document(64, 48)
    for i in range(n_layers):
        doc.root.children.append(PixelLayer(str(i), np.full((48, 64, 4), 40 * i, np.uint8)))
    return doc


def test_unchanged_layers_are_not_reencoded(tmp_path, monkeypatch):
    import editor.io.ora as ora

    calls = []
    real = ora.PngEncoder.encode
    monkeypatch.setattr(ora.PngEncoder, "encode",
                        lambda self, px, **kw: calls.append(px.shape) or real(self, px, **kw))
    session, cache, doc = recovery.Session.current(), {}, _doc()
    save = lambda: recovery.write_entry(freeze_document(doc), session, "k", name="d", source=None,  # noqa: E731
                                        folder=tmp_path, cache=cache)
    save()
    first = len(calls)
    from editor.core.geometry import Rect

    doc.paste(doc.layers[1], "pixels", Rect(0, 0, 2, 2), np.zeros((2, 2, 4), np.uint8), "paint")
    calls.clear()
    save()
    assert first == 3 + 1 and len(calls) == 1 + 1  # 3 layers + merged image, then the changed layer + merged
    assert load_project(tmp_path / f"{session.id}-k.ora").layers[1].pixels[0, 0, 0] == 0


def test_folder_is_bounded_and_live_sessions_are_kept(tmp_path):
    dead = recovery.Session("999999-dead", 999_999, 1.0)
    live = recovery.Session.current()
    for i in range(3):
        recovery.write_entry(freeze_document(_doc()), dead, f"d{i}", name="x", source=None, folder=tmp_path)
        time.sleep(0.01)
    recovery.write_entry(freeze_document(_doc()), live, "l", name="x", source=None, folder=tmp_path)
    size = recovery.list_entries(tmp_path)[0].project.stat().st_size
    recovery.prune(tmp_path, max_bytes=2 * size + size // 2)
    left = recovery.list_entries(tmp_path)
    assert [e.session for e in left].count(dead.id) == 1 and any(e.session == live.id for e in left)
    assert {e.project.name for e in left if e.session == dead.id} == {f"{dead.id}-d2.ora"}  # newest kept
    assert [e.session for e in recovery.recoverable(tmp_path)] == [dead.id]
