"""Screenshots of the Matte, Obstruction and Latent Edit tools under Xvfb (run by hand; not collected).

    .venv/bin/python tests/ui/screenshots_tools.py [OUT_DIR]      (default /tmp/lucid-screens-tools)

Without an X display the script installs Xvfb if needed (apt-get) and re-runs itself under
`xvfb-run`. It drives the real panels with the real tasks on a real inference service:
- Matte: the lemur photo with a trimap (the dataset's trimap as the painted state, plus a brush stroke
  painted with simulated mouse input), then the closed-form cut-out, then a blurred-background layer;
- Obstruction: the fence burst 00001_I0…I4 (downscaled ×0.5 for speed): the Open Burst dialog, then
  the Background layer, then with the hidden Obstruction layer shown;
- Latent Edit: the Set5 "head" photo, eyes and mouth clicked, inverted into the BEGAN test generator
  (64×64 CelebA faces; tests only, never shipped), two sliders moved, the edit applied.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from xvfb import prepare_output, save_shot  # noqa: E402  (a script beside this one, not a package)

SHARED = REPO.parent / "shared" / "data"
LEMUR = SHARED / "matting" / "pymatting" / "lemur"
BURST = sorted((SHARED / "obstruction" / "ObstructionRemoval_imgs").glob("00001_I*.png"))
FACE = SHARED / "sr" / "Set5" / "x4" / "img_004_SRF_4_HR.png"
FACE_POINTS = ((165, 170), (220, 170), (200, 275))  # profile: the far eye guessed (as bench_latent does)
BEGAN = SHARED / "weights" / "gan" / "began_celeba64_sunshineatnoon" / "netG_200000.pth"
DEFAULT_OUT = Path("/tmp/lucid-screens-tools")



def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print(__doc__)
        return 2
    out = prepare_output(argv[0] if argv else DEFAULT_OUT, __file__, REPO)

    import asyncio

    import numpy as np
    import qasync
    from PIL import Image
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtWidgets import QApplication, QScrollArea

    from editor.infer.registry import get_task
    from editor.infer.service import InferenceService
    from editor.ui.ai.burst_dialog import BurstDialog
    from editor.ui.ai.controller import AiController
    from editor.ui.ai.latent_panel import LatentPanel
    from editor.ui.ai.matte_panel import MattePanel
    from editor.ui.ai.obstruction_panel import ObstructionPanel
    from editor.ui.jobs import JobRunner
    from editor.ui.jobs_panel import JobsPanel
    from editor.ui.main_window import MainWindow
    from tests.ui.qt_helpers import drag, send_mouse

    app = QApplication(["lucid-screenshots-tools"])
    loop = qasync.QEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    service = InferenceService(None, device="cpu", task_resolver=get_task)
    runner = JobRunner(service)
    win = MainWindow()
    controller = AiController(win, runner, None)
    win.add_dock("Jobs", JobsPanel(runner), Qt.DockWidgetArea.RightDockWidgetArea)
    matte = MattePanel(controller, win)
    obstruction = ObstructionPanel(controller, win)
    latent = LatentPanel(controller, win)
    win.resize(1560, 960)
    win.move(20, 20)
    win.show()

    def settle(seconds: float = 0.4) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str, widget=None) -> None:
        settle()
        print(save_shot(app, win, out / f"{name}.png", widget), flush=True)

    def tall_ai_dock() -> None:
        """Most of the left column for the AI dock (Tool Options keeps what it needs)."""
        settle(0.2)
        win.resizeDocks([win.docks["Tool Options"], controller.dock], [120, 900], Qt.Orientation.Vertical)
        settle(0.2)

    def wait(coro, what: str):
        t0 = time.perf_counter()
        result = loop.run_until_complete(coro)
        print(f"{what}: {time.perf_counter() - t0:.1f} s", flush=True)
        return result

    # --- Matte ----------------------------------------------------------------------------------
    controller.show_panel(matte)
    tall_ai_dock()
    doc = win.open_path(LEMUR / "lemur.png")
    view = win.current_tab().view
    view.fit()
    trimap = matte.trimap(doc)
    reference = np.asarray(Image.open(LEMUR / "lemur_trimap.png").convert("L"), np.float32) / 255
    trimap.set_from_task_trimap(reference)  # the dataset's trimap as what the user painted so far …
    win.tool_state.brush_size = 40
    matte.brushes["background"].setChecked(True)  # … and one more stroke painted with the mouse
    points = [view.to_widget(QPointF(x, 400)) for x in range(20, 140, 15)]
    drag(view.viewport(), points)
    matte.brushes["unknown"].setChecked(True)
    win.tool_state.brush_size = 14
    drag(view.viewport(), [view.to_widget(QPointF(x, 60 + (x - 300) * 0.1)) for x in range(300, 380, 10)])
    send_mouse(view.viewport(), QEvent.Type.MouseMove, view.to_widget(QPointF(420, 300)),
               Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    shot("matte-1-trimap")
    layer = wait(matte.cut_out(), "cut-out (closed-form, lemur)")
    assert layer is not None, "the cut-out failed"
    shot("matte-2-cutout")
    matte.bg_kind.setCurrentIndex(matte.bg_kind.findData("blur"))
    matte.replace_background("blur")
    shot("matte-3-blurred-background")

    # --- Obstruction ----------------------------------------------------------------------------
    frames_dir = out / "burst-frames"
    frames_dir.mkdir(exist_ok=True)
    paths = []
    for p in BURST:
        im = Image.open(p).convert("RGB")
        small = im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS)
        small.save(frames_dir / p.name)
        paths.append(frames_dir / p.name)
    controller.show_panel(obstruction)
    dialog = BurstDialog(paths, parent=win)
    dialog.kind.setCurrentIndex(dialog.kind.findData("fence"))
    dialog.show()
    shot("obstruction-1-burst-dialog", dialog)
    burst = dialog.burst()
    dialog.close()
    dialog.deleteLater()
    background, obs_layer = wait(obstruction.remove_obstruction(burst), "obstruction removal (5 × 480×270)")
    win.current_tab().view.fit()
    shot("obstruction-2-background")
    odoc = win.current_doc()
    odoc.set_property(obs_layer, "visible", True)  # the obstruction alone, on the checkerboard
    odoc.set_property(background, "visible", False)
    odoc.set_property(odoc.layers[0], "visible", False)
    odoc.active_layer = obs_layer
    shot("obstruction-3-obstruction-layer")

    # --- Latent Edit ----------------------------------------------------------------------------
    controller.show_panel(latent)
    win.docks["Tool Options"].hide()  # the sliders need the height (View → Panels brings it back)
    fdoc = win.open_path(FACE)
    fview = win.current_tab().view
    fview.fit()
    latent.set_generator_file(BEGAN)
    latent.steps.setValue(150)
    latent.pick_button.setChecked(True)
    for x, y in FACE_POINTS:
        pos = fview.to_widget(QPointF(x, y))
        send_mouse(fview.viewport(), QEvent.Type.MouseButtonPress, pos)
        send_mouse(fview.viewport(), QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.LeftButton,
                   Qt.MouseButton.NoButton)
    ok = wait(latent.invert(), "invert (BEGAN 64 px, 150 steps)")
    assert ok, "the inversion failed"
    for name, amount in (("pca0", 2.0), ("pca1", -1.5)):
        if name in latent.sliders:
            latent.sliders[name].setValue(amount)
    end = time.monotonic() + 20
    while time.monotonic() < end and (latent._render_job is not None or latent.renders_sent == 0):
        settle(0.1)
    latent.findChild(QScrollArea).ensureWidgetVisible(latent.apply_button)
    shot("latent-1-sliders")
    applied = wait(latent.apply(), "apply")
    assert applied is not None, "apply failed"
    fdoc.active_layer = applied
    shot("latent-2-applied")

    for d in win.documents():
        d.history.mark_saved()
    win.close()
    service.shutdown(wait=True)
    runner.close()
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
