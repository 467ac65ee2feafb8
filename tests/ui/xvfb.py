"""Run a screenshot script on a real X server: Xvfb, installed with apt-get when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

APT = [
    "xvfb", "libegl1", "libgl1", "libxkbcommon-x11-0", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1",
    "libxcb-shape0", "libxcb-render-util0", "libxcb-image0", "libdbus-1-3", "libfontconfig1",
]
SCREEN = "-screen 0 1600x1000x24"


def ensure_display(script: str | Path, *args: str) -> None:
    """Return if an X display is there; otherwise re-run `script args…` under xvfb-run and exit."""
    if os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM", "xcb") == "xcb":
        return
    if shutil.which("xvfb-run") is None:
        print("xvfb-run not found: installing Xvfb and Qt's X11 libraries with apt-get …", flush=True)
        subprocess.run(["apt-get", "install", "-y", *APT], check=True)
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    cmd = ["xvfb-run", "-a", "-s", SCREEN, sys.executable, str(script), *args]
    sys.exit(subprocess.run(cmd, env=env).returncode)


def save_shot(app, window, path: Path, widget=None) -> str:
    """Save what the X server shows of `window` (as a user sees it), or a widget's own rendering."""
    if widget is None or widget is window:
        g = window.frameGeometry()
        pixmap = app.primaryScreen().grabWindow(0, g.x(), g.y(), g.width(), g.height())
    else:
        pixmap = widget.grab()
    pixmap.save(str(path))
    return f"saved {path} ({pixmap.width()}×{pixmap.height()})"


def prepare_output(folder: str | Path, script: str | Path, repo: Path) -> Path:
    """The screenshots folder, created; a real X display (this script re-run under Xvfb if needed); the
    app's settings kept inside the folder (never the user's); the repository importable."""
    out = Path(folder).resolve()
    out.mkdir(parents=True, exist_ok=True)
    ensure_display(script, str(out))
    os.environ.setdefault("LUCID_CONFIG_DIR", str(out / ".config"))  # leave the user's settings alone
    sys.path.insert(0, str(repo))
    return out


class LiveWindow:
    """The app's main window with its AI services on a qasync loop, as `editor.app` builds them.

    `settle()` lets Qt events and asyncio tasks (AI jobs) run; `shot()` saves what the screen shows;
    `close()` tears everything down without an unsaved-changes prompt. `prepare(services)` runs before
    the window is built (e.g. to import a model it should list).
    """

    def __init__(self, out: Path, *, settle_s: float = 0.3, prepare=None) -> None:
        import asyncio

        import qasync
        from PySide6.QtWidgets import QApplication

        from editor.app import build_services
        from editor.core.settings import Settings
        from editor.ui.main_window import MainWindow

        self.out, self.settle_s, self._asyncio = out, settle_s, asyncio
        self.app = QApplication(["lucid-screenshots"])
        self.loop = qasync.QEventLoop(self.app, already_running=False)
        asyncio.set_event_loop(self.loop)
        self.services = build_services(Settings())
        if prepare is not None:
            prepare(self.services)
        self.win = MainWindow(services=self.services)
        self.win.resize(1560, 960)
        self.win.move(20, 20)
        self.win.show()

    def settle(self, seconds: float | None = None) -> None:
        self.loop.run_until_complete(self._asyncio.sleep(self.settle_s if seconds is None else seconds))

    def shot(self, name: str, widget=None) -> None:
        self.settle()
        print(save_shot(self.app, self.win, self.out / f"{name}.png", widget), flush=True)

    def close(self) -> None:
        for d in self.win.documents():
            d.modified = False  # no unsaved-changes prompt on the way out
        self.win.close()
        self.services.shutdown()
        self.app.processEvents()
        self.loop.close()
