"""The composition root, run as a real process: files from argv open, the sample photo opens by default,
and torch is never imported on the way to a shown window.

In a subprocess on purpose: `main()` owns the QApplication's event loop (qasync) and would leave the
test process's Qt/asyncio state changed for the tests after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from editor import app

REPO = Path(__file__).resolve().parents[2]
PROBE = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(["lucid"])
tries = []
def probe():
    from editor.ui.main_window import MainWindow
    wins = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if not wins or (wins[0].tabs.count() == 0 and len(tries) < 40 and "--no-sample" not in sys.argv):
        tries.append(1)
        QTimer.singleShot(25, probe)
        return
    docs = [[d.width, d.height, d.path.name if d.path else None] for d in wins[0].documents()]
    print("PROBE " + json.dumps({"docs": docs, "torch": "torch" in sys.modules}), flush=True)
    for d in wins[0].documents():
        d.modified = False
    wins[0].close()
QTimer.singleShot(0, probe)
from editor.app import main
sys.exit(main(sys.argv[1:]))
"""


def run_app(args: list[str], tmp_path: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LUCID_CONFIG_DIR=str(tmp_path / "cfg"))
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE "))


def test_main_opens_the_sample_photo_without_torch(tmp_path):
    seen = run_app([], tmp_path)
    assert seen == {"docs": [[600, 400, "coffee.png"]], "torch": False}


def test_main_opens_files_from_argv(tmp_path):
    import numpy as np
    from PIL import Image

    p = tmp_path / "a.png"
    Image.fromarray(np.zeros((30, 50, 3), np.uint8)).save(p)
    assert run_app([str(p)], tmp_path)["docs"] == [[50, 30, "a.png"]]
    assert run_app(["--no-sample"], tmp_path)["docs"] == []


def test_gui_import_path_does_not_import_torch():
    code = ("import sys, editor.app, editor.ui.main_window, editor.cli; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_self_test_flag_runs_the_installation_check(monkeypatch):
    """`--self-test` reaches editor.selftest (its steps are tested in tests/packaging)."""
    import editor.selftest

    calls = []
    monkeypatch.setattr(editor.selftest, "main", lambda argv: calls.append(argv) or 7)
    assert app.main(["--self-test"]) == 7 and calls == [[]]
