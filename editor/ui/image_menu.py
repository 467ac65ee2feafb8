"""Image menu entries for geometry: rotate, flip, canvas size, image size (with "Upscale with AI…" one
click away), and the crop tool's options bar. Shortcuts: see `SHORTCUTS` for where editors disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QPushButton,
    QSpinBox,
    QWidget,
)

from editor.core import transform
from editor.ui.crop_tool import CropBar, CropTool
from editor.ui.tool_state import ToolKind

if TYPE_CHECKING:
    from editor.ui.main_window import MainWindow

# Photoshop and Krita agree on Ctrl+Alt+I (image size) and Ctrl+Alt+C (canvas size) and C (crop); GIMP has
# no default for the sizes and uses Shift+C for crop, so the majority wins. No two of them share rotate
# shortcuts (none by default): Lightroom's Ctrl+] / Ctrl+[ are used. Flips have no shortcut anywhere.
SHORTCUTS = {"rotate_cw": "Ctrl+]", "rotate_ccw": "Ctrl+[", "canvas_size": "Ctrl+Alt+C",
             "image_size": "Ctrl+Alt+I"}


OK_CANCEL = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel


class ImageSizeDialog(QDialog):
    """Width and height (linked by default) for a Lanczos resample; "Upscale with AI…" hands over to the
    super-resolution dialog instead."""

    def __init__(self, width: int, height: int, parent: QWidget | None = None, on_ai=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Image Size")
        self._ratio = width / height
        form = QFormLayout(self)
        self.width_box = QSpinBox(minimum=1, maximum=transform.MAX_SIDE, value=width, suffix=" px")
        self.height_box = QSpinBox(minimum=1, maximum=transform.MAX_SIDE, value=height, suffix=" px")
        self.link = QCheckBox("Keep proportions")
        self.link.setChecked(True)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("", self.link)
        self.width_box.valueChanged.connect(self._width_changed)
        self.height_box.valueChanged.connect(self._height_changed)
        buttons = QDialogButtonBox(OK_CANCEL)
        self.ai_button = buttons.addButton("Upscale with AI…", QDialogButtonBox.ButtonRole.ActionRole)
        self.ai_button.setEnabled(on_ai is not None)
        if on_ai is not None:
            self.ai_button.clicked.connect(lambda: (self.reject(), on_ai()))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._busy = False

    def _width_changed(self, w: int) -> None:
        if self.link.isChecked() and not self._busy:
            self._busy = True
            self.height_box.setValue(max(1, round(w / self._ratio)))
            self._busy = False

    def _height_changed(self, h: int) -> None:
        if self.link.isChecked() and not self._busy:
            self._busy = True
            self.width_box.setValue(max(1, round(h * self._ratio)))
            self._busy = False

    def size(self) -> tuple[int, int]:  # type: ignore[override]
        return self.width_box.value(), self.height_box.value()


class CanvasSizeDialog(QDialog):
    """New canvas width and height and a 3×3 anchor; nothing is resampled and nothing is cut for good."""

    def __init__(self, width: int, height: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Canvas Size")
        form = QFormLayout(self)
        self.width_box = QSpinBox(minimum=1, maximum=transform.MAX_SIDE, value=width, suffix=" px")
        self.height_box = QSpinBox(minimum=1, maximum=transform.MAX_SIDE, value=height, suffix=" px")
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        grid = QGridLayout()
        self.anchors = QButtonGroup(self)
        names = list(transform.ANCHORS)
        for i, name in enumerate(names):
            b = QPushButton("●" if name == "center" else "")
            b.setCheckable(True)
            b.setFixedSize(26, 26)
            b.setToolTip(name)
            b.setObjectName(f"anchor-{name}")
            self.anchors.addButton(b, i)
            grid.addWidget(b, i // 3, i % 3)
        self.anchors.button(names.index("center")).setChecked(True)
        self.anchors.idClicked.connect(lambda i: [self.anchors.button(j).setText("●" if j == i else "")
                                                 for j in range(9)])
        box = QWidget()
        box.setLayout(grid)
        form.addRow("Anchor", box)
        buttons = QDialogButtonBox(OK_CANCEL)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def anchor(self) -> str:
        return list(transform.ANCHORS)[self.anchors.checkedId()]


def install_image_menu(win: MainWindow) -> dict[str, QAction]:
    """Add the geometry entries to the Image menu and the crop options bar to the window."""
    menu = win.image_menu
    acts: dict[str, QAction] = {}

    def add(name: str, text: str, fn, shortcut: str | None = None) -> None:
        a = QAction(text, win)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(lambda *_: win.run(fn))
        menu.addAction(a)
        acts[name] = a
        win.actions[name] = a

    menu.addSeparator()
    crop = win.actions.get("tool_crop")
    if crop is not None:
        menu.addAction(crop)
    add("rotate_cw", "Rotate 90° &Clockwise", lambda d: transform.rotate(d, 90), SHORTCUTS["rotate_cw"])
    add("rotate_ccw", "Rotate 90° Counter-clock&wise", lambda d: transform.rotate(d, 270),
        SHORTCUTS["rotate_ccw"])
    add("rotate_180", "Rotate &180°", lambda d: transform.rotate(d, 180))
    add("flip_h", "Flip &Horizontal", lambda d: transform.flip(d, "h"))
    add("flip_v", "Flip &Vertical", lambda d: transform.flip(d, "v"))
    menu.addSeparator()
    add("canvas_size", "Ca&nvas Size…", lambda d: canvas_size_dialog(win, d), SHORTCUTS["canvas_size"])
    add("image_size", "&Image Size…", lambda d: image_size_dialog(win, d), SHORTCUTS["image_size"])

    bar = CropBar(win)
    win.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    bar.setVisible(False)
    win.crop_bar = bar

    def follow(*_: object) -> None:
        on = win.tool_state.tool == ToolKind.CROP
        bar.setVisible(on)
        tab = win.current_tab()
        if on and tab is not None and isinstance(tab.view.tool, CropTool):
            bar.attach(tab.view.tool)

    # after the views have made their new tool (they listen to the same event, connected earlier)
    win.tool_state.events.tool.connect(lambda *_: QTimer.singleShot(0, follow))
    win.tabs.currentChanged.connect(lambda *_: QTimer.singleShot(0, follow))
    return acts


def canvas_size_dialog(win: MainWindow, doc) -> None:
    dlg = CanvasSizeDialog(doc.width, doc.height, win)
    if dlg.exec() == QDialog.DialogCode.Accepted:
        transform.canvas_size(doc, dlg.width_box.value(), dlg.height_box.value(), dlg.anchor())


def image_size_dialog(win: MainWindow, doc) -> None:
    upscale = win.actions.get("upscale")
    on_ai = upscale.trigger if upscale is not None and upscale.isEnabled() else None
    dlg = ImageSizeDialog(doc.width, doc.height, win, on_ai)
    if dlg.exec() == QDialog.DialogCode.Accepted:
        transform.image_size(doc, *dlg.size())

