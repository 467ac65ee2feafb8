"""File → Batch…: run a single-file task over a folder with the current tool's settings, as a Jobs row.

The task list is the batch tasks the command line offers; the combo is editable so a command that
declares itself batchable later (`edit --preset …`) is usable before this list learns its name.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor.ui.batch_job import BatchSpec

if TYPE_CHECKING:
    from editor.ui.main_window import MainWindow

TASKS = ("upscale", "convert", "inpaint", "matte")
# Options that name one file per photo; in a batch they name a folder matched by file name.
PER_PHOTO = {"inpaint": ("--mask", "Masks folder"), "matte": ("--trimap", "Trimaps folder")}
MANIFEST = ".lucid-batch.json"  # written by `lucid batch` in the output folder


def current_tool_options(win: MainWindow, task: str) -> list[str]:
    """The settings the matching tool shows now (Upscale dialog, Inpaint or Matte panel, export)."""
    import shiboken6

    ai = getattr(win, "ai", None)
    panels = getattr(ai, "panels", {}) if ai is not None else {}
    if task == "upscale":
        dlg = getattr(win, "upscale_dialog", None)
        if dlg is not None and shiboken6.isValid(dlg) and dlg.model.currentData():
            return ["--model", str(dlg.model.currentData()), "--scale", f"{dlg.scale.value():g}"]
        return []
    if task == "inpaint" and (panel := panels.get("Inpaint")) is not None:
        engine = str(panel.engine.currentData() or "patchmatch")
        return ["--engine", engine, "--seed", str(panel.seed.value())]
    if task == "matte" and (panel := panels.get("Matte")) is not None:
        return ["--engine", str(panel.engine.currentData() or "cf")]
    if task == "convert":
        return ["--quality", str(win.settings.export_quality)]
    return []


class BatchDialog(QDialog):
    def __init__(self, win: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or win)
        self.setWindowTitle("Batch")
        self.setObjectName("batch-dialog")
        self.win = win
        self.task = QComboBox()
        self.task.setEditable(True)
        self.task.addItems(TASKS)
        self.in_dir, in_row = self._folder_row("Choose the folder of photos")
        self.out_dir, out_row = self._folder_row("Choose the output folder")
        self.matched, matched_row = self._folder_row("Choose the folder of per-photo files")
        self.matched_label = QLabel()
        self.pattern = QLineEdit()
        self.pattern.setPlaceholderText("every image (or e.g. *.jpg)")
        self.options = QLineEdit()
        self.options.setObjectName("batch-options")
        self.options.setToolTip("Options of the single-file command, e.g. --scale 2; filled from the "
                                "current tool's settings")
        self.resume = QCheckBox("Resume the batch in this folder (skip finished files, retry failed)")
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #c0392b")
        form = QFormLayout()
        form.addRow("Task", self.task)
        form.addRow("Photos", in_row)
        form.addRow("Output", out_row)
        form.addRow(self.matched_label, matched_row)
        form.addRow("Files", self.pattern)
        form.addRow("Options", self.options)
        form.addRow("", self.resume)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.run_button = buttons.addButton("Run", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.problem)
        lay.addWidget(buttons)
        self.task.currentTextChanged.connect(self._on_task)
        self.out_dir.textChanged.connect(self._on_out)
        self._on_task(self.task.currentText())
        self.resize(640, self.sizeHint().height())

    def _folder_row(self, title: str) -> tuple[QLineEdit, QWidget]:
        edit = QLineEdit()
        browse = QPushButton("Browse…")

        def pick() -> None:
            folder = QFileDialog.getExistingDirectory(self, title, edit.text() or str(Path.home()))
            if folder:
                edit.setText(folder)

        browse.clicked.connect(pick)
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(edit, 1)
        h.addWidget(browse)
        return edit, row

    def _on_task(self, task: str) -> None:
        flag, label = PER_PHOTO.get(task, ("", "Per-photo files"))
        self.matched_label.setText(label)
        self.matched.setEnabled(bool(flag))
        self.matched.parentWidget().setEnabled(bool(flag))
        self.options.setText(shlex.join(current_tool_options(self.win, task)))

    def _on_out(self, text: str) -> None:
        has_batch = bool(text) and (Path(text) / MANIFEST).is_file()
        self.resume.setChecked(has_batch)

    def spec(self) -> BatchSpec | None:
        """The batch to run, or None with the reason shown in the dialog."""
        task = self.task.currentText().strip()
        in_dir, out_dir = Path(self.in_dir.text().strip()), Path(self.out_dir.text().strip())
        problem = ""
        if not task:
            problem = "Choose a task."
        elif not self.in_dir.text().strip() or not in_dir.is_dir():
            problem = "Choose the folder of photos."
        elif not self.out_dir.text().strip():
            problem = "Choose an output folder."
        elif in_dir.resolve() == out_dir.resolve():
            problem = "The output folder must differ from the photos' folder."
        elif task in PER_PHOTO and not (self.matched.text().strip()
                                        and Path(self.matched.text().strip()).is_dir()):
            problem = f"Choose the {PER_PHOTO[task][1].lower()}."
        try:
            options = shlex.split(self.options.text())
        except ValueError as exc:
            problem = problem or f"Options: {exc}"
            options = []
        self.problem.setText(problem)
        if problem:
            return None
        if task in PER_PHOTO:
            options = [PER_PHOTO[task][0], self.matched.text().strip(), *options]
        if self.pattern.text().strip():
            options += ["--pattern", self.pattern.text().strip()]
        return BatchSpec(task, in_dir, out_dir, options)

    def _accept(self) -> None:
        if self.spec() is not None:
            self.accept()
