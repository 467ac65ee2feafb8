"""One tab: a document, its compositor and the canvas that shows it."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QVBoxLayout, QWidget

from editor.core.compositor import Compositor
from editor.core.document import Document
from editor.ui.canvas.colour import ColourManagedSource, DisplayTransform, display_profile
from editor.ui.canvas.view import CanvasView
from editor.ui.tool_state import ToolState


class DocumentTab(QWidget):
    def __init__(self, doc: Document, tool_state: ToolState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.compositor = Compositor(doc)
        self.display_icc, self.display_source = display_profile(QGuiApplication.primaryScreen())
        self.colour = ColourManagedSource(self.compositor, DisplayTransform(doc.metadata.icc_profile,
                                                                            self.display_icc))
        self.view = CanvasView(doc, self.colour, tool_state, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)

    def set_colour_management(self, on: bool) -> None:
        """Show the document converted to the display's profile (on) or its numbers as they are (off)."""
        self.colour.display = DisplayTransform(self.doc.metadata.icc_profile, self.display_icc, enabled=on)
        self.view.image_item.set_source(self.colour)

    def title(self) -> str:
        name = self.doc.path.name if self.doc.path else "Untitled"
        return f"{name} •" if self.doc.modified else name

    def close_document(self) -> None:
        """Detach from the document so nothing keeps listening after the tab is gone."""
        self.view.disconnect_model()
        self.colour.close()
        self.compositor.close()
