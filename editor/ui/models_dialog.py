"""Models dialog: every model with status, size and licences; Download / Import file… / Delete.

Downloads and imports run as jobs on the inference service (they also show in the Jobs panel), so
the dialog never blocks; their progress appears in the Status column. Offline is not an error box:
the message says so and points at Import file….
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from editor.infer.jobs import FETCH_TASK, Job, JobState, fetch_request, import_request
from editor.ui.jobs import JobRunner

COLUMNS = ("Model", "Task", "Status", "Size", "Code licence", "Weights licence", "")
WEIGHT_FILTER = "Model weights (*.safetensors *.pth *.pt *.ckpt *.bin *.param);;All files (*)"


def format_size(n: int | None) -> str:
    if n is None:
        return "unknown"
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e6:.1f} MB"


def short_licence(text: str) -> str:
    """The licence name without its explanation ("Apache-2.0 (the repo's licence; …)" → "Apache-2.0")."""
    return text.split(" (", 1)[0].strip() or text


def _busy_text(job: Job) -> str:
    if job.state is JobState.QUEUED:
        return "queued"
    verb = "downloading" if job.request.task == FETCH_TASK else "importing"
    return f"{verb} {job.fraction * 100:.0f} %"


class ModelsDialog(QDialog):
    """`store` is an `editor.infer.store.ModelStore` (duck-typed: list/get/remove/models_dir)."""

    def __init__(self, store: Any, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(980, 420)
        self.store = store
        self.runner = runner
        self.jobs: dict[str, Job] = {}  # model id → its running download/import job
        self.ask_open_file: Callable[[], str] = self._ask_open_file
        self.confirm: Callable[[str], bool] = self._confirm
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.folder_label = QLabel(f"Models folder: {store.models_dir}")
        self.folder_label.setStyleSheet("color: gray")
        import_any = QPushButton("Import file…")
        import_any.setToolTip(
            "Install a weights file you already have (matched by checksum, or as your own model)"
        )
        import_any.clicked.connect(lambda: self.import_file(None))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.folder_label, 1)
        bottom.addWidget(import_any)
        bottom.addWidget(buttons)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.message)
        lay.addLayout(bottom)
        runner.jobChanged.connect(self._on_job_changed)
        self.refresh()

    # --- table ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        infos = self.store.list()
        self.table.setRowCount(len(infos))
        for r, info in enumerate(infos):
            m = info.manifest
            job = self.jobs.get(info.id)
            status = info.status.value
            if job is not None and not job.state.finished:
                status = _busy_text(job)
            elif info.problem:
                status = f"{status} ({info.problem})"
            nc = "" if m.commercial_use else " (non-commercial)"
            cells = (
                m.name,
                m.task,
                status,
                format_size(info.size_bytes),
                short_licence(m.code_license),
                short_licence(m.weights_license) + nc,
            )
            lines = (f"Code: {m.code_license}", f"Weights: {m.weights_license}", m.notes, m.source)
            tip = "\n".join(t for t in lines if t)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                if c == 5 and nc:
                    item.setForeground(QColor("#b9770e"))
                if c == 2 and info.installed:
                    item.setForeground(QColor("#1e8449"))
                self.table.setItem(r, c, item)
            self.table.setCellWidget(r, 6, self._actions(info, job))
        for err in getattr(self.store, "errors", []):
            self.show_message(err.message, error=True)

    def _actions(self, info: Any, job: Job | None) -> QWidget:
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(2, 0, 2, 0)
        busy = job is not None and not job.state.finished
        if busy:
            cancel = QPushButton("Cancel")
            cancel.clicked.connect(lambda: job.cancel())
            lay.addWidget(cancel)
        elif not info.installed:
            size = info.download_bytes
            download = QPushButton(f"Download ({format_size(size)})" if size is not None else "Download")
            download.setEnabled(info.manifest.downloadable)
            if not info.manifest.downloadable:
                download.setToolTip("No verified download is available: use Import file…")
            download.clicked.connect(lambda: self.download(info.id))
            lay.addWidget(download)
            imp = QPushButton("Import file…")
            imp.clicked.connect(lambda: self.import_file(info.id))
            lay.addWidget(imp)
        if not busy and (info.installed or info.status.value in ("partial", "corrupt")) and not info.bundled:
            delete = QPushButton("Delete")
            delete.clicked.connect(lambda: self.delete(info.id))
            lay.addWidget(delete)
        box.setObjectName(f"actions-{info.id}")
        return box

    def row_of(self, model_id: str) -> int:
        for r, info in enumerate(self.store.list()):
            if info.id == model_id:
                return r
        raise KeyError(model_id)

    def button(self, model_id: str, text_prefix: str) -> QPushButton:
        """The action button of a model's row whose text starts with `text_prefix` (tests, automation)."""
        box = self.table.cellWidget(self.row_of(model_id), 6)
        for b in box.findChildren(QPushButton):
            if b.text().startswith(text_prefix):
                return b
        raise KeyError(f"{model_id}: no '{text_prefix}' button")

    # --- actions --------------------------------------------------------------------------------

    def download(self, model_id: str) -> Job:
        job = self.runner.submit(fetch_request(model_id))
        self.jobs[model_id] = job
        self.show_message("")
        self.refresh()
        return job

    def import_file(self, model_id: str | None) -> Job | None:
        path = self.ask_open_file()
        if not path:
            return None
        job = self.runner.submit(import_request(Path(path), model_id))
        self.jobs[model_id or f"import:{path}"] = job
        self.refresh()
        return job

    def delete(self, model_id: str) -> None:
        info = self.store.get(model_id)
        if not self.confirm(f"Delete the files of {info.name} ({format_size(info.size_bytes)})?"):
            return
        try:
            self.store.remove(model_id)
        except Exception as exc:  # LucidError from the store; OSError from the file system
            self.show_message(getattr(exc, "message", str(exc)), error=True)
        self.refresh()

    def _on_job_changed(self, job: Job) -> None:
        key = next((k for k, j in self.jobs.items() if j is job), None)
        if key is None:
            return
        if job.state.finished:
            del self.jobs[key]
            if job.state is JobState.FAILED and job.error is not None:
                self.show_message(job.error.message, error=True)
            elif job.state is JobState.DONE:
                done = job.future.result().info.get("model_id", key)
                self.show_message(f"{self.store.get(done).name} is installed.")
            self.refresh()
        else:
            self._update_status(key, job)

    def _update_status(self, model_id: str, job: Job) -> None:
        try:
            r = self.row_of(model_id)
        except KeyError:
            return
        item = self.table.item(r, 2)
        if item is not None:
            item.setText(_busy_text(job))

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c0392b" if error else "")

    def _ask_open_file(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Import model file", "", WEIGHT_FILTER)
        return path

    def _confirm(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Delete model", question)
        return answer == QMessageBox.StandardButton.Yes
