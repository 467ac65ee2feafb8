"""Screenshots of the finishing tools under Xvfb (run by hand; not collected by pytest).

    PYTHONPATH=$PWD .venv/bin/python tests/ui/screenshots_finishing.py OUT_DIR

A beach photo from ../shared/data (its horizon leans ~2.2°) is enlarged and tilted 2° more, then: the
crop tool levels it by a horizon drawn with Ctrl-drag (crop_straighten.png); a curves layer over its
histogram (curves_panel.png); an exposure layer whose mask was painted with the mask brush, in the layers
panel (layers_adjustment_mask.png, and layers_adjustment_effect.png without the mask overlay).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from xvfb import prepare_output, save_shot  # noqa: E402  (a script beside this one, not a package)

PHOTO = REPO.parent / "shared" / "data" / "sr" / "realesrgan_inputs" / "ADE_val_00000114.jpg"
TILT = -2.0  # on top of the photo's own lean


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    out = prepare_output(argv[0], __file__, REPO)

    import numpy as np
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtWidgets import QApplication

    from editor.core import transform
    from editor.core.adjust.edits import set_params
    from editor.core.document import Document
    from editor.core.layers import PixelLayer
    from editor.io.images import load_image
    from editor.ui.main_window import MainWindow
    from editor.ui.tool_state import ToolKind
    from tests.ui.qt_helpers import drag

    app = QApplication(["lucid-screenshots"])
    win = MainWindow()
    win.resize(1600, 1000)
    win.show()

    def settle(ms: int = 300) -> None:
        end = __import__("time").monotonic() + ms / 1000
        while __import__("time").monotonic() < end:
            app.processEvents()

    # a tilted photo: enlarge 3×, then rotate by TILT (we know where the horizon goes)
    src = load_image(PHOTO).pixels
    doc0 = Document(src.shape[1], src.shape[0])
    doc0.add_layer(PixelLayer("beach", src))
    transform.image_size(doc0, 768, 768)
    # the sea horizon of this photo: a line fitted through the sub-pixel luminance edge of columns
    # 185…254 of the 256-px original (it already leans ~2.2° counter-clockwise)
    lum = src[..., :3].astype(float).mean(axis=2)
    xs = np.arange(185, 255)
    edges = []
    for col in xs:
        g = np.abs(np.diff(lum[98:118, col]))
        k = int(np.clip(np.argmax(g), 1, len(g) - 2))
        edges.append(98 + k + 1 + 0.5 * (g[k - 1] - g[k + 1]) / (g[k - 1] - 2 * g[k] + g[k + 1]))
    fit = np.polyfit(xs + 0.5, edges, 1)
    horizon = [(x * 3, np.polyval(fit, x) * 3) for x in (190.5, 250.5)]
    transform.straighten(doc0, TILT, auto_crop=False)
    c = np.array([384.0, 384.0])
    rot = np.array([[math.cos(math.radians(TILT)), -math.sin(math.radians(TILT))],
                    [math.sin(math.radians(TILT)), math.cos(math.radians(TILT))]])
    ends = [rot @ (np.array(p) - c) + c for p in horizon]
    transform.crop(doc0, transform.Rect(40, 40, 688, 688))
    layer = doc0.layers[0]
    flat = np.zeros((688, 688, 4), np.uint8)
    ox, oy = layer.offset
    flat[...] = layer.pixels[-oy:-oy + 688, -ox:-ox + 688]
    doc = Document(688, 688)
    doc.add_layer(PixelLayer("beach (tilted)", flat))
    doc.active_layer = doc.layers[0]
    doc.modified = False
    doc.history.clear()
    win.add_document(doc)
    win.docks["History"].setVisible(False)
    settle()

    # 1. crop tool: level by a drawn horizon (a little off; the tool snaps to the edge)
    win.tool_state.tool = ToolKind.CROP
    settle()
    view = win.current_tab().view
    p0 = QPointF(ends[0][0] - 40, ends[0][1] - 40 + 3)
    p1 = QPointF(ends[1][0] - 40, ends[1][1] - 40 - 2)
    drag(view.viewport(), [view.to_widget(p0), view.to_widget((p0 + p1) / 2), view.to_widget(p1)],
         Qt.KeyboardModifier.ControlModifier)
    win.crop_bar.aspect.setCurrentText("4:5")
    settle()
    lean = math.degrees(math.atan2(ends[1][1] - ends[0][1], ends[1][0] - ends[0][0]))
    print(f"angle from the drawn horizon: {view.tool.angle:.3f}° (the horizon leans {lean:.3f}°)")
    print(save_shot(app, win, out / "crop_straighten.png"))
    win.crop_bar.apply()
    settle()

    # 2. curves over the histogram
    win.tool_state.tool = ToolKind.HAND
    future = win.histogram_panel.refresh()
    if future is not None:
        future.result()  # computed on its thread; the next settle delivers it
    curves = win.adjust_panel.add("curves")
    set_params(doc, curves, {"master": [[0, 0], [0.25, 0.18], [0.7, 0.8], [1, 1]],
                             "b": [[0, 0], [0.5, 0.45], [1, 1]]})
    win.adjust_panel._show(curves)
    settle()
    print(save_shot(app, win, out / "curves_panel.png"))
    print(save_shot(app, win, out / "curves_panel_widget.png", win.adjust_panel))

    # 3. an exposure layer with a painted mask
    exposure = win.adjust_panel.add("exposure")
    set_params(doc, exposure, {"ev": 0.8})
    win.adjust_panel.paint_mask.click()
    win.tool_state.tool = ToolKind.ERASER
    win.tool_state.brush_size = 90
    win.tool_state.hardness = 0.3
    for y in range(40, 300, 60):  # keep the sky as it was: erase the brightening there
        drag(view.viewport(), [view.to_widget(QPointF(x, y)) for x in range(0, doc.width, 30)])
    win.tool_state.show_mask = True
    settle(600)
    print(save_shot(app, win, out / "layers_adjustment_mask.png"))
    print(save_shot(app, win, out / "layers_panel_widget.png", win.layers_panel))
    win.tool_state.show_mask = False  # the effect itself: brighter beach and sea, the sky as it was
    settle(600)
    print(save_shot(app, win, out / "layers_adjustment_effect.png"))
    for d in win.documents():
        d.modified = False
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
