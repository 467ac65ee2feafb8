"""Jobs dock: every queued, running and finished AI job with progress, stage, ETA, Cancel and Retry."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from editor.infer.jobs import Job, JobState
from editor.ui.jobs import JobRunner

_STATE_TEXT = {
    JobState.QUEUED: "Waiting",
    JobState.RUNNING: "Running",
    JobState.DONE: "Done",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
}


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


class JobRow(QFrame):
    """One job: title, state/stage line, progress bar, ETA, and Cancel / Retry buttons."""

    retryRequested = Signal(object)

    def __init__(self, job: Job, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(job.title)
        self.title.setStyleSheet("font-weight: bold")
        self.stage = QLabel()
        self.stage.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.eta = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.retry_button = QPushButton(getattr(job, "retry_label", "Retry"))  # a batch resumes
        self.cancel_button.clicked.connect(lambda: self.job.cancel())
        self.retry_button.clicked.connect(lambda: self.retryRequested.emit(self.job))
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.retry_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.bar, 1)
        bottom.addWidget(self.eta)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addLayout(top)
        lay.addWidget(self.stage)
        lay.addLayout(bottom)
        self.refresh()

    def refresh(self) -> None:
        job = self.job
        state = job.state
        stage = job.stage if state is JobState.RUNNING and job.stage else _STATE_TEXT[state]
        if state is JobState.DONE and getattr(job, "summary_text", ""):
            stage = job.summary_text  # a batch: "76 done, 44 skipped, 0 failed in 97 s"
        if state is JobState.FAILED and job.error is not None:
            stage = f"Failed: {job.error.message}"
            self.stage.setToolTip(job.error.detail or "")
            self.stage.setStyleSheet("color: #c0392b")
        else:
            self.stage.setStyleSheet("")
        self.stage.setText(stage)
        fraction = 1.0 if state is JobState.DONE else job.fraction
        self.bar.setValue(round(fraction * 1000))
        self.bar.setFormat(f"{fraction * 100:.0f} %")
        self.bar.setEnabled(state in (JobState.RUNNING, JobState.DONE))
        self.eta.setText(format_eta(job.eta_s) if state is JobState.RUNNING else "")
        self.cancel_button.setVisible(not state.finished)
        self.retry_button.setVisible(state in (JobState.FAILED, JobState.CANCELLED))


class JobsPanel(QWidget):
    """Lists jobs newest first; keeps at most `max_finished` finished rows (oldest dropped)."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None, *, max_finished: int = 50) -> None:
        super().__init__(parent)
        self.runner = runner
        self.max_finished = max_finished
        self.rows: dict[str, JobRow] = {}
        self._box = QVBoxLayout()
        self._box.setContentsMargins(0, 0, 0, 0)
        self._box.addStretch(1)
        inner = QWidget()
        inner.setLayout(self._box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        self.empty_label = QLabel("No jobs yet. AI tools run here in the background.")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.empty_label)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.clear_button, 0, Qt.AlignmentFlag.AlignRight)
        runner.jobAdded.connect(self.add_job)
        runner.jobChanged.connect(self._on_changed)
        self._eta_timer = QTimer(self)  # ETAs count down between progress events
        self._eta_timer.setInterval(1000)
        self._eta_timer.timeout.connect(self._tick)
        self._eta_timer.start()
        self._update_empty()

    def add_job(self, job: Job) -> JobRow | None:
        if job.request.background:
            return None
        if job.id in self.rows:
            return self.rows[job.id]
        row = JobRow(job)
        row.retryRequested.connect(self._retry)
        self.rows[job.id] = row
        self._box.insertWidget(0, row)
        self._trim()
        self._update_empty()
        return row

    def track(self, job) -> JobRow | None:
        """List a job that does not go through the inference service (a folder batch, which has a
        `changed` signal and a `resume()`)."""
        job.changed.connect(self._on_changed)
        return self.add_job(job)

    def _retry(self, job) -> None:
        if hasattr(job, "resume"):
            job.resume()
        else:
            self.runner.retry(job)

    def _on_changed(self, job: Job) -> None:
        row = self.rows.get(job.id) or self.add_job(job)
        if row is None:
            return
        row.refresh()
        if job.state.finished:
            self._trim()

    def _tick(self) -> None:
        for row in self.rows.values():
            if row.job.state is JobState.RUNNING:
                row.refresh()

    def _finished_rows(self) -> list[JobRow]:
        order = [self._box.itemAt(i).widget() for i in range(self._box.count())]
        return [w for w in order if isinstance(w, JobRow) and w.job.state.finished]

    def _trim(self) -> None:
        for row in self._finished_rows()[self.max_finished :]:
            self._remove(row)

    def _remove(self, row: JobRow) -> None:
        self.rows.pop(row.job.id, None)
        self._box.removeWidget(row)
        row.deleteLater()

    def clear_finished(self) -> None:
        for row in self._finished_rows():
            self._remove(row)
        self._update_empty()

    def _update_empty(self) -> None:
        self.empty_label.setVisible(not self.rows)
