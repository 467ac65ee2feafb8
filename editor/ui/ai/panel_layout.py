"""Layout shared by the AI tool panels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget


def scroll_body(panel: QWidget) -> QVBoxLayout:
    """Give `panel` a vertically scrolling body and return the body's layout.

    Why: a tool panel can be taller than the dock (the Latent Edit sliders, a laptop screen); without
    a scroll area the dock's minimum height would make the whole main window taller than the screen.
    """
    outer = QVBoxLayout(panel)
    outer.setContentsMargins(0, 0, 0, 0)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    body = QWidget()
    scroll.setWidget(body)
    outer.addWidget(scroll)
    lay = QVBoxLayout(body)
    lay.setContentsMargins(4, 4, 4, 4)
    return lay
