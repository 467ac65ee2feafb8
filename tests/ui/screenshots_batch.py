"""Screenshots of File → Batch… under Xvfb (run by hand; not collected by pytest).

    .venv/bin/python tests/ui/screenshots_batch.py OUT_DIR

Opens a photo, shows the Batch dialog filled in (upscale, with the Upscale dialog's model and scale),
then runs the batch over 120 small crops of ../shared/data photos with the installed compact
upscaler (realesr-animevideov3) and grabs the window while the Jobs panel shows it running and a
mask is being painted (editing goes on), then after Cancel and after Resume has finished.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from xvfb import LiveWindow, prepare_output  # noqa: E402

PHOTO = REPO.parent / "shared" / "data" / "inpaint" / "iopaint" / "assets" / "unwant_person.jpg"


def main(argv: list[str]) -> int:
    out = prepare_output(argv[0], __file__, REPO)
    sys.path.insert(0, str(REPO / "tests" / "bench"))

    import time

    from bench_batch import make_photos
    from PySide6.QtCore import QEvent, QPointF, Qt

    from editor.infer.jobs import JobState
    from editor.ui.batch_dialog import BatchDialog
    from editor.ui.batch_job import BatchJob
    from tests.ui.qt_helpers import send_mouse

    work = Path(tempfile.mkdtemp(prefix="lucid-batch-shots-"))
    src = work / "catalogue"
    make_photos(src, 120, 64)
    live = LiveWindow(out)
    win, settle, shot = live.win, live.settle, live.shot

    settle(0.8)
    win.open_paths([PHOTO])
    win.upscale()  # the Upscale dialog: its model and scale are "the current tool's settings"
    up = win.upscale_dialog
    up.model.setCurrentIndex(max(0, up.model.findData("realesr-animevideov3")))
    up.scale.setValue(2.0)
    settle()
    dlg = BatchDialog(win)
    dlg.in_dir.setText(str(src))
    dlg.out_dir.setText(str(work / "catalogue-2x"))
    dlg.task.setCurrentText("upscale")
    dlg.show()
    dlg.move(400, 250)
    up.close()
    shot("01-batch-dialog", dlg)
    spec = dlg.spec()
    dlg.close()
    job = BatchJob(spec, win)
    win.jobs_panel.track(job)
    win.docks["Jobs"].show()
    win.docks["Jobs"].raise_()
    deadline = time.monotonic() + 300
    while job.fraction < 0.25 and not job.state.finished and time.monotonic() < deadline:
        settle(0.2)
    tab = win.current_tab()
    doc, view = tab.doc, tab.view
    win.tool_state.brush_size = max(12.0, doc.width * 0.035)
    vp = view.viewport()
    pts = [view.to_widget(QPointF(doc.width * (0.1 + i * 0.03), doc.height * 0.4)) for i in range(10)]
    send_mouse(vp, QEvent.Type.MouseButtonPress, pts[0])
    for p in pts[1:]:
        send_mouse(vp, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton)
        settle(0.05)
    send_mouse(vp, QEvent.Type.MouseButtonRelease, pts[-1], Qt.MouseButton.LeftButton,
               Qt.MouseButton.NoButton)
    shot("02-batch-running-while-painting")
    shot("03-jobs-panel-running", win.docks["Jobs"])
    job.cancel()
    while not job.state.finished:
        settle(0.2)
    shot("04-jobs-panel-cancelled", win.docks["Jobs"])
    job.resume()
    while not job.state.finished and time.monotonic() < deadline + 300:
        settle(0.3)
    shot("05-jobs-panel-resumed-done", win.docks["Jobs"])
    print(f"batch: {job.state.value}; {job.summary and job.summary['text']}")
    live.close()
    return 0 if job.state is JobState.DONE else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
