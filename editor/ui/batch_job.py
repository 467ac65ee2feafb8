"""A folder batch in the Jobs panel: `lucid batch … --json` in a child process, read line by line.

Why a child process and not the inference service: a batch is hours of work spread over worker
processes; running it as its own `lucid batch` keeps the editor's single model thread free (editing
goes on), and Cancel can stop it at any moment because the batch's writes are atomic and its manifest
makes Resume pick up where it stopped. The object mimics `editor.infer.jobs.Job` for `JobRow`.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from editor.core.errors import LucidError
from editor.infer.api import Progress
from editor.infer.jobs import JobState, JobTimes

KILL_AFTER_MS = 5000  # a batch that ignores SIGTERM this long is killed (its outputs stay whole)


@dataclass
class BatchSpec:
    """What to run: `lucid batch TASK IN_DIR -o OUT_DIR OPTIONS…`."""

    task: str
    in_dir: Path
    out_dir: Path
    options: list[str] = field(default_factory=list)

    def argv(self, *, resume: bool) -> list[str]:
        return ["batch", self.task, str(self.in_dir), "-o", str(self.out_dir), *self.options, "--json",
                *(["--resume"] if resume else [])]


def lucid_command() -> list[str]:
    """How to start the `lucid` command line from this process (frozen build or Python).

    A frozen app may be the windowed `lucid-gui`, which would open `batch` as a photo: use the
    console `lucid` beside it when there is one."""
    if not getattr(sys, "frozen", False):
        return [sys.executable, "-m", "editor"]
    exe = Path(sys.executable)
    console = exe.with_name("lucid.exe" if exe.suffix.lower() == ".exe" else "lucid")
    return [str(console if console.is_file() else exe)]


@dataclass
class _Request:  # what JobsPanel reads of a job's request
    task: str
    background: bool = False
    model_id: str | None = None


class BatchJob(QObject, JobTimes):
    """One batch as a job: state, progress (files done / to do), ETA, cancel, and resume as its retry."""

    changed = Signal(object)  # self, on the main thread
    retry_label = "Resume"

    def __init__(self, spec: BatchSpec, parent: QObject | None = None, *, resume: bool = False) -> None:
        super().__init__(parent)
        self.spec = spec
        self.id = f"batch-{uuid.uuid4().hex[:8]}"
        self.request = _Request(task=f"batch {spec.task}")
        self.state = JobState.QUEUED
        self.progress: Progress | None = None
        self.error: LucidError | None = None
        self.summary: dict | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self._eta: tuple[float, float] | None = None  # (eta seconds, when it was reported)
        self._cancelled = False
        self._stderr: list[str] = []
        self._proc: QProcess | None = None
        self._start(resume)

    @property
    def title(self) -> str:
        return f"Batch {self.spec.task}: {self.spec.in_dir.name} → {self.spec.out_dir.name}"

    @property
    def summary_text(self) -> str:
        return str(self.summary.get("text", "")) if self.summary else ""

    @property
    def eta_s(self) -> float | None:
        if self.state is not JobState.RUNNING or self._eta is None:
            return None
        eta, when = self._eta
        return max(0.0, eta - (time.monotonic() - when))

    def _start(self, resume: bool) -> None:
        if self._proc is not None:
            self._proc.deleteLater()
        proc = QProcess(self)
        cmd = lucid_command()
        proc.setProgram(cmd[0])
        proc.setArguments([*cmd[1:], *self.spec.argv(resume=resume)])
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._finished)
        self._proc = proc
        self._cancelled = False
        self._stderr.clear()
        self.summary = None
        self.error = None
        self.state = JobState.RUNNING
        self.started_at, self.finished_at = time.monotonic(), None
        self.progress = Progress(0.0, "Starting the batch…")
        proc.start()

    def cancel(self) -> bool:
        """Stop the batch (SIGTERM: it saves its manifest and exits); Resume continues it."""
        if self._proc is None or self.state.finished:
            return False
        self._cancelled = True
        self._proc.terminate()
        QTimer.singleShot(KILL_AFTER_MS, self._proc, self._proc.kill)  # dropped if the process is gone
        return True

    def resume(self) -> None:
        """Run the same batch again with --resume: finished files are skipped, failed ones retried."""
        if self.state.finished:
            self._start(resume=True)
            self.changed.emit(self)

    def wait(self, msecs: int = 30000) -> bool:
        return self._proc is None or self._proc.waitForFinished(msecs)

    def _read_stdout(self) -> None:
        assert self._proc is not None
        while self._proc.canReadLine():
            line = bytes(self._proc.readLine().data()).decode("utf-8", "replace").strip()
            if not line.startswith("{"):
                continue
            try:
                self._on_event(json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue
        self.changed.emit(self)

    def _read_stderr(self) -> None:
        assert self._proc is not None
        text = bytes(self._proc.readAllStandardError().data()).decode("utf-8", "replace")
        self._stderr.extend(line for line in text.splitlines() if line.strip())
        del self._stderr[:-20]

    def _on_event(self, event: dict) -> None:
        kind = event["event"]
        if kind == "start":
            todo = event["todo"]
            self.progress = Progress(0.0, f"{todo} of {event['total']} files to do · {event['workers']}")
        elif kind == "file":
            finished, todo = event["done"] + event["failed"], max(1, event["todo"])
            failed = f", {event['failed']} failed" if event["failed"] else ""
            self.progress = Progress(finished / todo, f"{finished} of {todo} files{failed} · "
                                                      f"{event['rate']:.2f} files/s")
            if event.get("eta_s") is not None:
                self._eta = (float(event["eta_s"]), time.monotonic())
        elif kind == "summary":
            self.summary = event

    def _finished(self, code: int, _status) -> None:
        self.finished_at = time.monotonic()
        summary = self.summary
        if self._cancelled:
            self.state = JobState.CANCELLED
        elif summary is not None and not summary["failed"] and code == 0:
            self.state = JobState.DONE
            self.progress = Progress(1.0, summary["text"])
        else:
            self.state = JobState.FAILED
            if summary is not None and summary["failed"]:
                lines = [f"{f['path']}: {f['error']}" for f in summary["failures"]]
                self.error = LucidError(f"{summary['failed']} file(s) failed (first: {lines[0]}); "
                                        "fix them and Resume", "\n".join(lines))
            else:
                last = self._stderr[-1] if self._stderr else f"exit code {code}"
                self.error = LucidError(last.removeprefix("lucid: error: "), "\n".join(self._stderr))
        self.changed.emit(self)
