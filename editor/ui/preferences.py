"""Preferences dialog: edits `editor.core.settings.Settings` (the schema and validation live in core)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from editor.core.settings import DEVICES, EXPORT_FORMATS, Settings, SettingsError

_OK, _CANCEL = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel


class PreferencesDialog(QDialog):
    """`result_settings()` returns the validated new Settings after `exec()` returns Accepted."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._result: Settings | None = None
        self._base = settings

        self.undo_mb = QSpinBox()
        self.undo_mb.setRange(64, 65536)
        self.undo_mb.setSingleStep(256)
        self.undo_mb.setSuffix(" MB")
        self.export_format = QComboBox()
        self.export_format.addItems(list(EXPORT_FORMATS))
        self.export_quality = QSpinBox()
        self.export_quality.setRange(1, 100)
        self.models_dir = QLineEdit()
        self.models_dir.setPlaceholderText("default (per-user data folder)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.device = QComboBox()
        self.device.addItems(list(DEVICES))
        self.autosave = QSpinBox()
        self.autosave.setRange(0, 240)
        self.autosave.setSuffix(" min")
        self.autosave.setSpecialValueText("off")
        self.memory_budget = QSpinBox()
        self.memory_budget.setRange(0, 4 << 20)
        self.memory_budget.setSingleStep(1024)
        self.memory_budget.setSuffix(" MB")
        self.memory_budget.setSpecialValueText("automatic")
        self.memory_budget.setToolTip("Largest document (canvas and layers, decoded) Lucid opens or creates; "
                                      "automatic = a quarter of this computer's memory.")
        self.error = QLabel()
        self.error.setStyleSheet("color: #c0392b")
        self.error.setWordWrap(True)

        models_row = QHBoxLayout()
        models_row.addWidget(self.models_dir, 1)
        models_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Undo memory", self.undo_mb)
        form.addRow("Default export format", self.export_format)
        form.addRow("Export quality (JPEG/WebP)", self.export_quality)
        form.addRow("Models folder", models_row)
        form.addRow("Compute device", self.device)
        form.addRow("Autosave every", self.autosave)
        form.addRow("Memory budget", self.memory_budget)
        buttons = QDialogButtonBox(_OK | _CANCEL)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self._load(settings)

    def _load(self, s: Settings) -> None:
        self.undo_mb.setValue(s.undo_memory_mb)
        self.export_format.setCurrentText(s.export_format)
        self.export_quality.setValue(s.export_quality)
        self.models_dir.setText(s.models_dir)
        self.device.setCurrentText(s.compute_device)
        self.autosave.setValue(s.autosave_minutes)
        self.memory_budget.setValue(s.memory_budget_mb)

    def edited(self) -> Settings:
        """The settings as the widgets show them (raises SettingsError if invalid)."""
        return replace(
            self._base,
            undo_memory_mb=self.undo_mb.value(),
            export_format=self.export_format.currentText(),
            export_quality=self.export_quality.value(),
            models_dir=self.models_dir.text().strip(),
            compute_device=self.device.currentText(),
            autosave_minutes=self.autosave.value(),
            memory_budget_mb=self.memory_budget.value(),
        ).validate()

    def accept(self) -> None:
        try:
            self._result = self.edited()
        except SettingsError as exc:
            self.error.setText(exc.message)
            return
        super().accept()

    def result_settings(self) -> Settings | None:
        return self._result

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Models folder", self.models_dir.text())
        if folder:
            self.models_dir.setText(folder)
