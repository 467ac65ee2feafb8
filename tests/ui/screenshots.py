"""Screenshots of the real window under Xvfb (run by hand; not collected by pytest).

    .venv/bin/python tests/ui/screenshots.py OUT_DIR

Without an X display the script installs Xvfb if needed (apt-get) and re-runs itself under
`xvfb-run`. It opens a photo from ../shared/data, paints a mask with simulated mouse input, builds a
few layers, and saves PNGs of the main states into OUT_DIR. The AI states run real jobs on the
inference service (a PatchMatch fill grabbed while it runs, so the Jobs panel shows a moving bar), with
a models folder of its own under OUT_DIR/.models (SRGAN imported from ../shared/data when present, so
the Models dialog shows one installed model beside the not-installed ones).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from xvfb import LiveWindow, prepare_output  # noqa: E402  (a script beside this one, not a package)

SHARED = REPO.parent / "shared" / "data"
PHOTO = SHARED / "inpaint" / "iopaint" / "assets" / "unwant_person.jpg"



def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    out = prepare_output(argv[0], __file__, REPO)
    os.environ.setdefault("LUCID_MODELS_DIR", str(out / ".models"))  # and the user's models folder

    import asyncio

    import numpy as np
    from PySide6.QtCore import QEvent, QPointF, Qt

    from editor.app import start_warm_ups
    from editor.core.blend import BlendMode
    from editor.core.layers import ResultLayer
    from editor.core.recipe import Recipe
    from tests.ui.qt_helpers import send_mouse

    def import_srgan(services) -> None:
        srgan = SHARED / "weights" / "srgan_leftthomas_x4" / "netG_epoch_4_100.pth"
        if srgan.is_file() and not services.store.get("srgan-x4").installed:
            try:
                services.store.import_file(srgan, id="srgan-x4")
            except Exception as exc:  # the shot still shows the not-installed rows
                print(f"SRGAN import skipped: {exc}")

    live = LiveWindow(out, prepare=import_srgan)
    loop, services, win, settle, shot = live.loop, live.services, live.win, live.settle, live.shot

    settle(0.8)
    shot("01-empty-window")

    if not PHOTO.is_file():
        print(f"photo not found: {PHOTO} (needs ../shared/data beside the repository)")
        return 1
    win.open_paths([PHOTO])
    tab = win.current_tab()
    doc, view = tab.doc, tab.view
    shot("02-photo-open")

    def paint_mask(x0: float = 0.05, cols: int = 6, y0: float = 0.09, rows: int = 11) -> None:
        """Brush over the person walking on the left with simulated mouse input (press, moves, release)."""
        win.tool_state.brush_size = max(12.0, doc.width * 0.035)
        vp = view.viewport()
        for col in range(cols):
            x = doc.width * (x0 + col * 0.018)
            pts = [view.to_widget(QPointF(x, doc.height * (y0 + i * 0.05))) for i in range(rows)]
            send_mouse(vp, QEvent.Type.MouseButtonPress, pts[0])
            for p in pts[1:]:
                send_mouse(vp, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton)
            send_mouse(vp, QEvent.Type.MouseButtonRelease, pts[-1], Qt.MouseButton.LeftButton,
                       Qt.MouseButton.NoButton)
        send_mouse(vp, QEvent.Type.MouseMove, view.to_widget(QPointF(doc.width * 0.25, doc.height * 0.45)),
                   Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)  # brush outline beside the mask

    paint_mask()
    shot("03-mask-painted")

    # several layers: a duplicate in multiply, an empty layer, and a result layer with its recipe
    win.actions["duplicate"].trigger()
    doc.set_property(doc.active_layer, "blend_mode", BlendMode.MULTIPLY)
    doc.set_property(doc.active_layer, "opacity", 0.6)
    win.actions["new_layer"].trigger()
    doc.set_property(doc.active_layer, "name", "Retouch")
    pixels = np.zeros((doc.height, doc.width, 4), doc.dtype)
    recipe = Recipe(task="inpaint", model_id="lama")
    result = ResultLayer("Remove person", pixels, doc.selection.copy(), recipe)
    doc.add_layer(result)
    doc.active_layer = result
    shot("04-layers-several")
    shot("05-layers-panel", win.docks["Layers"])

    view.set_zoom(8.0, view.to_widget(QPointF(doc.width * 0.16, doc.height * 0.3)))
    shot("06-zoom-800")
    view.show_before(True)
    view.fit()
    shot("07-before")
    view.show_before(False)

    # --- AI: a fresh copy of the photo, the mask, then a real PatchMatch fill grabbed while it runs
    doc.modified = False
    win.close_tab()
    win.open_paths([PHOTO])
    tab = win.current_tab()
    doc, view = tab.doc, tab.view
    ai = win.ai
    start_warm_ups(services, matting=False)  # as the app does after showing the window: torch loads now
    panel = ai.panels["Inpaint"]
    ai.show_panel(panel)
    win.docks["Jobs"].raise_()
    paint_mask(x0=0.005, cols=10, y0=0.07, rows=12)  # the whole person, bag and hand included
    shot("08-inpaint-panel-mask")
    shot("09-inpaint-panel", win.docks["AI"])
    task = panel.start_fill()

    def wait_fraction(at_least: float, limit_s: float = 120.0) -> None:
        """Settle until the running fill has reported `at_least` progress (shots of a moving bar)."""
        for _ in range(int(limit_s / 0.1)):
            job = services.service.running
            filling = job is not None and job.request.task == "inpaint"
            if task.done() or (filling and job.fraction >= at_least):
                return
            settle(0.1)

    wait_fraction(0.2)
    shot("10-job-running")
    shot("11-jobs-panel-running", win.docks["Jobs"])
    first = services.service.running
    wait_fraction((first.fraction if first is not None else 0.0) + 0.05)  # the bar has moved on
    shot("12-jobs-panel-later", win.docks["Jobs"])
    layer = loop.run_until_complete(asyncio.wait_for(task, 300))
    m = layer.mask[layer.mask > 0]
    print(f"result mask: {m.size} px > 0, {np.mean(m < 0.99):.0%} of them soft (< 0.99)")
    shot("13-result-layer")
    shot("14-layers-panel-result", win.docks["Layers"])
    win.show_models()
    dlg = win.models_dialog
    dlg.resize(1380, 560)
    dlg.move(win.x() + 80, win.y() + 120)
    shot("15-models-dialog", dlg)
    dlg.close()
    win.actions["upscale"].trigger()
    shot("16-upscale-dialog", win.upscale_dialog)
    win.upscale_dialog.reject()

    live.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
