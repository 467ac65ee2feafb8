"""Screenshots of the one-click subject tools under Xvfb (run by hand; not collected by pytest).

    .venv/bin/python tests/ui/screenshots_subject.py OUT_DIR

Uses the models installed in the user's models folder (MediaPipe person and face models, fetched at
set-up). Shots: a loose lasso around the man in bgmv2 test_fg.jpg, the one-click cut-out made from it,
Select → Person on Set5 "woman", and Latent Edit's Find face with its points.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from xvfb import ensure_display, save_shot  # noqa: E402  (a script beside this one, not a package)

SHARED = REPO.parent / "shared" / "data"
MAN = SHARED / "matting" / "bgmv2_pair" / "test_fg.jpg"
WOMAN = SHARED / "sr" / "Set5" / "x4" / "img_005_SRF_4_HR.png"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    out = Path(argv[0]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    ensure_display(__file__, str(out))
    os.environ.setdefault("LUCID_CONFIG_DIR", str(out / ".config"))
    sys.path.insert(0, str(REPO))

    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    from editor.app import build_services
    from editor.core.settings import Settings
    from editor.ui.main_window import MainWindow
    from tests.segment.mp_helpers import LASSO

    app = QApplication(["lucid-screenshots"])
    loop = qasync.QEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    services = build_services(Settings())
    win = MainWindow(services=services)
    win.resize(1560, 960)
    win.move(20, 20)
    win.show()

    def settle(seconds: float = 0.5) -> None:
        loop.run_until_complete(asyncio.sleep(seconds))

    def shot(name: str, widget=None) -> None:
        settle()
        print(save_shot(app, win, out / f"{name}.png", widget))

    def finish(coro, limit: float = 600.0):
        return loop.run_until_complete(asyncio.wait_for(coro, limit))

    settle(1.0)
    ai = win.ai
    if getattr(ai, "deferred", None) is not None:  # the app builds the other panels once idle
        for _ in range(100):
            if ai.deferred.loaded:
                break
            settle(0.2)
    win.open_paths([MAN])
    doc = win.current_doc()
    doc.select_polygon(LASSO)
    matte = ai.panels["Matte"]
    ai.show_panel(matte)
    shot("20-1-loose-lasso-before")
    layer = finish(matte.cut_out_subject())
    print(f"cut-out layer: {layer.name if layer else None}")
    doc.clear_selection()
    shot("20-2-cutout-after")

    win.open_paths([WOMAN])
    finish(ai.subject_select.select("person", "replace"))
    shot("20-3-select-person")
    latent = ai.panels["Latent Edit"]
    ai.show_panel(latent)
    win.current_doc().clear_selection()
    finish(latent.find_face())
    shot("20-4-latent-find-face")
    for d in win.documents():
        d.modified = False  # no unsaved-changes prompt on the way out
    win.close()
    services.shutdown()
    app.processEvents()
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
