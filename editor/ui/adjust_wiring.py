"""Wires the finishing tools into the main window: the Adjustments and Histogram docks, and the Image
menu's geometry entries with the crop options bar. Kept out of main_window.py so the window stays a shell."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from editor.ui.image_menu import install_image_menu
from editor.ui.panels.adjust_panel import AdjustPanel
from editor.ui.panels.histogram_panel import HistogramPanel

if TYPE_CHECKING:
    from editor.ui.main_window import MainWindow


def install_finishing(win: MainWindow) -> None:
    win.histogram_panel = HistogramPanel()
    win.adjust_panel = AdjustPanel(win)
    win.add_dock("Histogram", win.histogram_panel, Qt.DockWidgetArea.RightDockWidgetArea)
    win.add_dock("Adjustments", win.adjust_panel, Qt.DockWidgetArea.RightDockWidgetArea)
    install_image_menu(win)

    watched: list = []

    def size_changed(*_: object) -> None:
        doc = win.current_doc()
        if doc is not None:
            win.status_size.setText(f"{doc.width}×{doc.height} · {doc.depth}-bit")

    def follow(doc) -> None:
        win.histogram_panel.set_document(doc)
        win.adjust_panel.set_document(doc)
        while watched:
            watched.pop().events.canvas.disconnect(size_changed)
        if doc is not None:
            doc.events.canvas.connect(size_changed)
            watched.append(doc)

    win.active_document_changed.connect(follow)
    follow(win.current_doc())
