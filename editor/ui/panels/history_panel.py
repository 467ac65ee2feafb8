"""History dock: the undo steps by name; clicking a step jumps the document there."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from editor.core.document import Document

ORIGIN_LABEL = "Opened"


class HistoryPanel(QWidget):
    """Row 0 is the state before any kept step; row i is the state after step i. Redo rows are greyed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc: Document | None = None
        self.list = QListWidget()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.list)
        self.list.itemClicked.connect(self._on_clicked)
        self._rebuilding = False

    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            self.doc.history.events.changed.disconnect(self._rebuild)
        self.doc = doc
        if doc is not None:
            doc.history.events.changed.connect(self._rebuild)
        self._rebuild()

    def _rebuild(self) -> None:
        self._rebuilding = True
        try:
            self.list.clear()
            if self.doc is None:
                return
            history = self.doc.history
            grey = QBrush(QColor(140, 140, 140))
            for i, label in enumerate([ORIGIN_LABEL, *history.labels]):
                item = QListWidgetItem(label)
                item.setData(Qt.ItemDataRole.UserRole, i)
                if i > history.index:
                    item.setForeground(grey)
                self.list.addItem(item)
            self.list.setCurrentRow(history.index)
        finally:
            self._rebuilding = False

    def _on_clicked(self, item: QListWidgetItem) -> None:
        if self.doc is None or self._rebuilding:
            return
        self.doc.history.jump(int(item.data(Qt.ItemDataRole.UserRole)))
