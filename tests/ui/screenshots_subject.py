"""Screenshots of the one-click subject tools under Xvfb (run by hand; not collected by pytest).

    .venv/bin/python tests/ui/screenshots_subject.py OUT_DIR

Uses the models installed in the user's models folder (MediaPipe person and face models, fetched at
set-up). Shots: the Select menu, a loose lasso around the man in bgmv2 test_fg.jpg, the one-click
cut-out made from it, Select → Person on Set5 "woman", and Latent Edit's Find face with its points; when
the bench's face photos are cached (`tests/bench/face_photos.py`), Find face twice on a group photo.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from xvfb import LiveWindow, prepare_output  # noqa: E402  (a script beside this one, not a package)

SHARED = REPO.parent / "shared" / "data"
MAN = SHARED / "matting" / "bgmv2_pair" / "test_fg.jpg"
WOMAN = SHARED / "sr" / "Set5" / "x4" / "img_005_SRF_4_HR.png"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    out = prepare_output(argv[0], __file__, REPO)

    import asyncio

    from tests.segment.mp_helpers import LASSO

    live = LiveWindow(out, settle_s=0.5)
    loop, win, settle, shot = live.loop, live.win, live.settle, live.shot

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
    bar = win.menuBar()
    select = next(a for a in bar.actions() if a.menu() and a.text().replace("&", "") == "Select")
    select.menu().popup(bar.mapToGlobal(bar.actionGeometry(select).bottomLeft()))
    shot("20-0-select-menu")
    select.menu().hide()
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
    group = Path.home() / ".cache" / "lucid-bench" / "faces" / "faceapi-sample5.jpg"
    if group.is_file():
        win.open_paths([group])
        for k in (1, 2):
            finish(latent.find_face())
            shot(f"20-5-group-find-face-{k}")
    else:
        print(f"{group} is not cached: no group shot")
    live.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
