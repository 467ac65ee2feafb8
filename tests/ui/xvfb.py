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
