"""Side-by-side screenshot: an Adobe RGB photo on Lucid's canvas and the same photo in Krita (run by hand).

    .venv/bin/python tests/ui/screenshots_krita.py OUT_DIR

Makes the photo (an sRGB photo from ../shared/data converted to Adobe RGB by LittleCMS, profile from
tests/icc_profiles.py), saves it as a Lucid project, starts a private Xvfb, opens the project in Krita
and in Lucid there, grabs both windows and writes OUT_DIR/lucid_vs_krita_adobe_rgb.png (plus each half:
lucid.png, krita.png). Krita runs with OpenGL off (Xvfb has none) and its own HOME under OUT_DIR.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
PHOTO = REPO.parent / "shared" / "data" / "sr" / "Set5" / "x4" / "img_003_SRF_4_HR.png"

GRAB = r"""
import sys
from PySide6.QtWidgets import QApplication
app = QApplication(["grab"])
app.primaryScreen().grabWindow(0).save(sys.argv[1])
"""


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    import numpy as np
    from PIL import Image, ImageDraw

    from editor.core.document import Document, Metadata
    from editor.core.layers import PixelLayer
    from editor.io.ora import save_project
    from tests.icc_profiles import adobe_rgb_path, adobe_rgb_photo
    from tests.interop.krita import x_display

    rgb, icc = adobe_rgb_photo(PHOTO, size=256)
    doc = Document(rgb.shape[1], rgb.shape[0], metadata=Metadata(icc_profile=icc))
    doc.layers.append(PixelLayer("adobe photo", np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])))
    project = out / "adobe_photo.ora"
    save_project(doc, project)
    print(f"profile: {adobe_rgb_path()}")
    with x_display() as display:
        home = out / ".krita-home"
        (home / ".config").mkdir(parents=True, exist_ok=True)
        (home / ".config" / "kritadisplayrc").write_text("[General]\nOpenGLRenderer=none\n")  # no GL on Xvfb
        env = dict(os.environ, DISPLAY=display, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                   LUCID_CONFIG_DIR=str(out / ".cfg"))
        env.pop("QT_QPA_PLATFORM", None)
        krita = subprocess.Popen(["krita", "--nosplash", str(project)], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            shot = out / "krita.png"
            for _ in range(18):  # Krita's start takes tens of seconds on a shared 2-core machine
                time.sleep(10)
                subprocess.run([sys.executable, "-c", GRAB, str(shot)], env=env, check=True, timeout=60)
                if np.asarray(Image.open(shot).convert("L")).std() > 20:
                    time.sleep(10)  # let the canvas finish drawing
                    subprocess.run([sys.executable, "-c", GRAB, str(shot)], env=env, check=True, timeout=60)
                    break
        finally:
            os.killpg(krita.pid, 9)
            krita.wait()
        lucid = subprocess.run([sys.executable, "-c", LUCID, str(project), str(out / "lucid.png")], env=env,
                               cwd=REPO, timeout=120, capture_output=True, text=True)
        print(lucid.stdout, lucid.stderr[-2000:])
    left, right = Image.open(out / "lucid.png").convert("RGB"), Image.open(out / "krita.png").convert("RGB")
    h = max(left.height, right.height)
    both = Image.new("RGB", (left.width + right.width + 8, h + 30), (20, 20, 20))
    both.paste(left, (0, 30))
    both.paste(right, (left.width + 8, 30))
    draw = ImageDraw.Draw(both)
    draw.text((10, 8), "Lucid (canvas colour-managed: Adobe RGB -> sRGB display)", fill=(255, 255, 255))
    draw.text((left.width + 18, 8), "Krita 5 opening the same .ora", fill=(255, 255, 255))
    both.save(out / "lucid_vs_krita_adobe_rgb.png")
    print(f"saved {out / 'lucid_vs_krita_adobe_rgb.png'}")
    return 0


LUCID = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from editor.ui.main_window import MainWindow
from pathlib import Path
app = QApplication(["lucid"])
win = MainWindow()
win.resize(1200, 1000)
win.move(0, 0)
win.show()
win.open_paths([Path(sys.argv[1])])
tab = win.current_tab()
tab.view.set_zoom(2.0)
def shot():
    tab.view.centerOn(128, 128)
    app.processEvents()
    g = win.frameGeometry()
    app.primaryScreen().grabWindow(0, g.x(), g.y(), g.width(), g.height()).save(sys.argv[2])
    print("canvas:", tab.colour.display.describe(), "| display:", tab.display_source)
    for d in win.documents():
        d.modified = False
    win.close()
    app.quit()
QTimer.singleShot(1500, shot)
app.exec()
"""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
