"""Colour questions asked while exporting and saving: convert to sRGB or keep the profile, and what to do
with blend modes other OpenRaster programs do not know. The text says what will happen before it does."""

from __future__ import annotations

from typing import Literal

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QWidget,
)

from editor.io.export import SRGB_BY_DEFAULT, conversion_summary
from editor.io.icc import DEFAULT_INTENT, INTENTS, is_srgb

NonOraChoice = Literal["keep", "bake", "cancel"]
INTENT_LABELS = {"perceptual": "Perceptual", "relative": "Relative colorimetric", "saturation": "Saturation",
                 "absolute": "Absolute colorimetric"}


class ExportColourDialog(QDialog):
    """"Convert to sRGB" (ticked for JPEG/WebP) with a rendering intent, and a live sentence saying what
    the export will do to the colours."""

    def __init__(self, fmt: str, icc: bytes | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export colours")
        self._icc = icc
        self.to_srgb = QCheckBox("Convert to sRGB (for the web and most viewers)")
        self.to_srgb.setChecked(fmt in SRGB_BY_DEFAULT and not is_srgb(icc))
        self.to_srgb.setEnabled(not is_srgb(icc))
        self.intent = QComboBox()
        for key in INTENTS:
            self.intent.addItem(INTENT_LABELS[key], key)
        self.intent.setCurrentIndex(list(INTENTS).index(DEFAULT_INTENT))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setMinimumWidth(380)
        form = QFormLayout(self)
        form.addRow(self.to_srgb)
        form.addRow("Rendering intent", self.intent)
        form.addRow(self.summary)
        ok, cancel = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok | cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.to_srgb.toggled.connect(self._update)
        self.intent.currentIndexChanged.connect(self._update)
        self._update()

    def choice(self) -> tuple[bool, str]:
        return self.to_srgb.isChecked(), str(self.intent.currentData())

    def _update(self) -> None:
        to_srgb, intent = self.choice()
        self.intent.setEnabled(to_srgb)
        self.summary.setText(conversion_summary(self._icc, to_srgb, intent))


def ask_export_colour(parent: QWidget | None, fmt: str, icc: bytes | None) -> tuple[bool, str] | None:
    dlg = ExportColourDialog(fmt, icc, parent)
    return dlg.choice() if dlg.exec() == QDialog.DialogCode.Accepted else None


def ask_non_ora(parent: QWidget | None, names: list[str]) -> NonOraChoice:
    """Asked once per document: other programs will show these layers as Normal."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Blend modes other programs lack")
    listed = ", ".join(f"“{n}”" for n in names[:5]) + (" …" if len(names) > 5 else "")
    box.setText(f"{listed} use Exclusion, which OpenRaster does not define: Krita and GIMP will show "
                f"{'it' if len(names) == 1 else 'them'} as Normal.")
    box.setInformativeText("Keep them for Lucid, or bake just those layers into the pixels they show "
                           "(undoable) so every program shows the same picture. Lucid will not ask again "
                           "for this document.")
    keep = box.addButton("Keep", QMessageBox.ButtonRole.AcceptRole)
    bake = box.addButton("Bake those layers", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep)
    box.exec()
    clicked = box.clickedButton()
    return "keep" if clicked is keep else "bake" if clicked is bake else "cancel"
