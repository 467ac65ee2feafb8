"""On start after a crash: list what can be recovered (name, original file, time, thumbnail) and let the
user Recover or Discard each; recovered documents open as unsaved, with their original path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor.core.document import Document
from editor.core.errors import LucidError
from editor.io.recovery import RecoveryEntry

THUMB = 96


def describe(entry: RecoveryEntry) -> str:
    when = dt.datetime.fromtimestamp(entry.saved_at).strftime("%Y-%m-%d %H:%M:%S")
    source = str(entry.source) if entry.source else "never saved"
    return f"{entry.name}\n{source}\nautosaved {when}"


class RecoveryDialog(QDialog):
    """Each row is checked; Recover opens the checked entries, Discard deletes them, Later keeps all."""

    def __init__(self, entries: list[RecoveryEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work")
        self.entries = entries
        self.action = "later"
        self.list = QListWidget()
        self.list.setIconSize(QSize(THUMB, THUMB))
        for entry in entries:
            item = QListWidgetItem(describe(entry))
            thumb = entry.thumbnail()
            if thumb:
                pixmap = QPixmap()
                if pixmap.loadFromData(thumb):
                    item.setIcon(QIcon(pixmap))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        buttons = QDialogButtonBox()
        self.recover_button = QPushButton("Recover")
        self.discard_button = QPushButton("Discard")
        self.later_button = QPushButton("Decide later")
        buttons.addButton(self.recover_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.later_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.recover_button.clicked.connect(lambda: self._finish("recover"))
        self.discard_button.clicked.connect(lambda: self._finish("discard"))
        self.later_button.clicked.connect(lambda: self._finish("later"))
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Lucid did not close properly last time. These documents had unsaved changes:"))
        lay.addWidget(self.list)
        lay.addWidget(buttons)
        self.resize(560, 360)

    def checked(self) -> list[RecoveryEntry]:
        return [e for i, e in enumerate(self.entries)
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def _finish(self, action: str) -> None:
        self.action = action
        (self.reject if action == "later" else self.accept)()


def open_recovered(entry: RecoveryEntry) -> Document:
    """The entry's document, unsaved, with its original path (Save goes there, or asks for one)."""
    from editor.io.ora import load_project

    doc = load_project(entry.project)
    doc.path = entry.source
    doc.modified = True
    return doc


def apply_choice(dialog: RecoveryDialog, add_document: Callable[[Document, RecoveryEntry], None],
                 report: Callable[[str, str | None], None]) -> list[Document]:
    """Carry out the dialog's choice: open (and hand over) or delete the checked entries."""
    opened: list[Document] = []
    for entry in dialog.checked() if dialog.action != "later" else []:
        if dialog.action == "discard":
            entry.remove()
            continue
        try:
            doc = open_recovered(entry)
        except LucidError as exc:
            report(f"Could not recover {entry.name}: {exc.message}", exc.detail)
            continue
        add_document(doc, entry)
        opened.append(doc)
    return opened
