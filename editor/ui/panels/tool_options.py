"""Tool Options dock: brush size/hardness/opacity, mask display, and the mask (selection) commands."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider, QLabeledSlider

from editor.ui.tool_state import MAX_BRUSH, MIN_BRUSH, ToolState


class ToolOptionsPanel(QWidget):
    """Edits the shared ToolState; mask commands are emitted for the main window to run on the document."""

    # ("invert" | "clear" | "all" | "grow" | "shrink" | "feather", amount in px)
    mask_command = Signal(str, float)

    def __init__(self, state: ToolState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.tool_label = QLabel()
        self.size = QLabeledSlider(Qt.Orientation.Horizontal)
        self.size.setRange(int(MIN_BRUSH), int(MAX_BRUSH))
        self.hardness = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.hardness.setRange(0.0, 1.0)
        self.hardness.setDecimals(2)
        self.opacity = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0.01, 1.0)
        self.opacity.setDecimals(2)
        self.pressure = QCheckBox("Pen pressure drives size")
        self.show_mask = QCheckBox("Show mask overlay")

        brush = QGroupBox("Brush")
        form = QFormLayout(brush)
        form.addRow("Size", self.size)
        form.addRow("Hardness", self.hardness)
        form.addRow("Opacity", self.opacity)
        form.addRow(self.pressure)

        mask = QGroupBox("Mask")
        grid = QGridLayout(mask)
        self.amount = QDoubleSpinBox()
        self.amount.setRange(0.5, 500.0)
        self.amount.setValue(4.0)
        self.amount.setSuffix(" px")
        self.mask_buttons: dict[str, QPushButton] = {}
        for i, (key, text) in enumerate(
            (("all", "All"), ("clear", "Clear"), ("invert", "Invert"), ("grow", "Grow"), ("shrink", "Shrink"),
             ("feather", "Feather"))
        ):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, k=key: self.mask_command.emit(k, self.amount.value()))
            grid.addWidget(b, i // 3, i % 3)
            self.mask_buttons[key] = b
        grid.addWidget(QLabel("Amount"), 2, 0)
        grid.addWidget(self.amount, 2, 1, 1, 2)
        grid.addWidget(self.show_mask, 3, 0, 1, 3)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tool_label)
        lay.addWidget(brush)
        lay.addWidget(mask)
        lay.addStretch(1)

        self._pull()
        self.size.valueChanged.connect(lambda v: setattr(state, "brush_size", float(v)))
        self.hardness.valueChanged.connect(lambda v: setattr(state, "hardness", float(v)))
        self.opacity.valueChanged.connect(lambda v: setattr(state, "opacity", float(v)))
        self.pressure.toggled.connect(lambda v: setattr(state, "use_pressure", bool(v)))
        self.show_mask.toggled.connect(lambda v: setattr(state, "show_mask", bool(v)))
        state.events.connect(self._pull)

    def _pull(self, *_) -> None:
        """Model → widgets (shortcuts like `]` change the state directly)."""
        s = self.state
        self.tool_label.setText(f"<b>{s.tool.label}</b>")
        for widget, value in (
            (self.size, round(s.brush_size)), (self.hardness, s.hardness), (self.opacity, s.opacity),
            (self.pressure, s.use_pressure), (self.show_mask, s.show_mask),
        ):
            widget.blockSignals(True)
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            else:
                widget.setValue(value)
            widget.blockSignals(False)
