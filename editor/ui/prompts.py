"""Every question the window asks the user, behind one object so tests can answer them without dialogs.

`MainWindow(prompts=...)` takes any object with these methods; `QtPrompts` is the real one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QMessageBox,
    QSpinBox,
    QWidget,
)

Choice = Literal["save", "discard", "cancel"]

IMAGE_FILTER = "Images and projects (*.png *.jpg *.jpeg *.tif *.tiff *.webp *.bmp *.gif *.ora);;All files (*)"
PROJECT_FILTER = "OpenRaster project (*.ora)"
EXPORT_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp);;TIFF (*.tif *.tiff)"


_BTN = QMessageBox.StandardButton
_OK, _CANCEL = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel


class Prompts(Protocol):
    def unsaved_changes(self, name: str) -> Choice: ...

    def error(self, message: str, detail: str | None = None) -> None: ...

    def open_paths(self, start: Path | None) -> list[Path]: ...

    def save_path(self, suggested: Path) -> Path | None: ...

    def export_path(self, suggested: Path) -> Path | None: ...

    def new_size(self) -> tuple[int, int] | None: ...

    def about(self, text: str) -> None: ...

    def export_colour(self, fmt: str, icc: bytes | None) -> tuple[bool, str] | None: ...

    def non_ora_layers(self, names: list[str]) -> str: ...


class QtPrompts:
    """Modal Qt dialogs parented to the main window."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def unsaved_changes(self, name: str) -> Choice:
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save the changes to “{name}” before closing?")
        box.setInformativeText("Your changes will be lost if you don't save them.")
        box.setStandardButtons(
            _BTN.Save | _BTN.Discard | _BTN.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(QMessageBox.StandardButton(answer), "cancel")

    def error(self, message: str, detail: str | None = None) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, "Lucid", message, _BTN.Ok, self.parent)
        if detail:
            box.setDetailedText(detail)
        box.exec()

    def open_paths(self, start: Path | None) -> list[Path]:
        names, _ = QFileDialog.getOpenFileNames(self.parent, "Open", str(start or ""), IMAGE_FILTER)
        return [Path(n) for n in names]

    def save_path(self, suggested: Path) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self.parent, "Save project", str(suggested), PROJECT_FILTER)
        if not name:
            return None
        path = Path(name)
        return path if path.suffix.lower() == ".ora" else path.with_name(path.name + ".ora")

    def export_path(self, suggested: Path) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self.parent, "Export image", str(suggested), EXPORT_FILTER)
        return Path(name) if name else None

    def new_size(self) -> tuple[int, int] | None:
        dlg = QDialog(self.parent)
        dlg.setWindowTitle("New image")
        w, h = QSpinBox(), QSpinBox()
        for box, value in ((w, 1920), (h, 1080)):
            box.setRange(1, 30000)
            box.setValue(value)
            box.setSuffix(" px")
        form = QFormLayout(dlg)
        form.addRow("Width", w)
        form.addRow("Height", h)
        buttons = QDialogButtonBox(_OK | _CANCEL)
        buttons.accepted.connect(dlg.accept)
        buttons.rejected.connect(dlg.reject)
        form.addRow(buttons)
        return (w.value(), h.value()) if dlg.exec() == QDialog.DialogCode.Accepted else None

    def about(self, text: str) -> None:
        QMessageBox.about(self.parent, "About Lucid", text)

    def export_colour(self, fmt: str, icc: bytes | None) -> tuple[bool, str] | None:
        """(convert to sRGB, rendering intent), or None to cancel the export."""
        from editor.ui.colour_dialogs import ask_export_colour

        return ask_export_colour(self.parent, fmt, icc)

    def non_ora_layers(self, names: list[str]) -> str:
        """"keep", "bake" or "cancel" for layers whose blend mode OpenRaster lacks."""
        from editor.ui.colour_dialogs import ask_non_ora

        return ask_non_ora(self.parent, names)
