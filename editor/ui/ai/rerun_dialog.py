"""Re-run with…: a small dialog offering a new seed and the task's choices (e.g. the inpaint engine)."""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from editor.core.layers import ResultLayer

MAX_SEED = 2**31 - 1


class RerunDialog(QDialog):
    """`choices`: {param: [(value, label)]} offered as combo boxes, preset to the recipe's values."""

    def __init__(self, layer: ResultLayer, choices: dict[str, list[tuple[Any, str]]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Re-run “{layer.name}”")
        recipe = layer.recipe
        form = QFormLayout(self)
        form.addRow(QLabel(f"Made by <b>{recipe.task}</b>; the layer's mask is kept."))
        self.combos: dict[str, QComboBox] = {}
        for param, options in choices.items():
            combo = QComboBox()
            for value, label in options:
                combo.addItem(label, value)
            current = combo.findData(recipe.params.get(param))
            combo.setCurrentIndex(max(0, current))
            form.addRow(param.replace("_", " ").capitalize(), combo)
            self.combos[param] = combo
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setValue(((recipe.seed or 0) + 1) % MAX_SEED)
        self.seed.setToolTip("Another seed gives another plausible result")
        self.seed_row = recipe.seed is not None
        if self.seed_row:
            form.addRow("Seed", self.seed)
            dice = QDialogButtonBox()
            dice.addButton("Random seed", QDialogButtonBox.ButtonRole.ActionRole).clicked.connect(
                lambda: self.seed.setValue(random.randrange(MAX_SEED)))
            form.addRow(dice)
        std = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(std.Ok | std.Cancel)
        buttons.button(std.Ok).setText("Re-run")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {param: combo.currentData() for param, combo in self.combos.items()}
        if self.seed_row:
            out["seed"] = self.seed.value()
        return out
