"""The composition root: files from argv open, the sample photo opens by default, torch is never imported."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from editor import app
from editor.ui.main_window import MainWindow


def _run_main_and_capture(argv):
    """Run app.main with a timer that records the window's documents and closes it."""
    seen: dict = {}

    def probe():
        win = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        if win.tabs.count() == 0 and "tries" not in seen and "--no-sample" not in argv:
            seen["tries"] = 1  # files open on the first loop turn; look again
            QTimer.singleShot(50, probe)
            return
        seen["docs"] = [(d.width, d.height, d.path.name if d.path else None) for d in win.documents()]
        seen["torch"] = "torch" in sys.modules
        for d in win.documents():
            d.modified = False
        win.close()
        win.deleteLater()

    QTimer.singleShot(0, probe)
    assert app.main(argv) == 0
    return seen


def test_main_opens_the_sample_photo_without_torch(qapp):
    seen = _run_main_and_capture([])
    assert seen["docs"] == [(600, 400, "coffee.png")]
    assert seen["torch"] is False


def test_main_opens_files_from_argv(qapp, tmp_path):
    import numpy as np
    from PIL import Image

    p = tmp_path / "a.png"
    Image.fromarray(np.zeros((30, 50, 3), np.uint8)).save(p)
    assert _run_main_and_capture([str(p)])["docs"] == [(50, 30, "a.png")]
    assert _run_main_and_capture(["--no-sample"])["docs"] == []


def test_gui_import_path_does_not_import_torch():
    code = ("import sys, editor.app, editor.ui.main_window, editor.cli; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_self_test_is_reserved(capsys):
    assert app.main(["--self-test"]) == 2
    assert "self-test" in capsys.readouterr().err
