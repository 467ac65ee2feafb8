"""Jobs panel and JobRunner: progress reaches the main thread, Cancel and Retry work, awaiting a job."""

from __future__ import annotations

import threading

import pytest

from editor.core.errors import LucidError
from editor.infer.api import Cancelled, Progress, Request, Result
from editor.infer.service import InferenceService, JobState
from editor.ui.jobs import JobRunner
from editor.ui.jobs_panel import JobsPanel, format_eta

pytestmark = pytest.mark.gui


class GatedTasks:
    def __init__(self) -> None:
        self.gate = threading.Event()
        self.threads: list[str] = []

    def __call__(self, name: str):
        return {"half": self.half, "fail": self.fail}[name]

    def half(self, request, progress, cancel):
        self.threads.append(threading.current_thread().name)
        progress(Progress(0.5, "Thinking hard"))
        while not self.gate.wait(0.005):
            cancel.check()
        progress(Progress(1.0, "Finished"))
        return Result(info={"ok": True})

    def fail(self, request, progress, cancel):
        raise LucidError("The selection is empty.", detail="no pixels")


@pytest.fixture
def env(qtbot):
    tasks = GatedTasks()
    service = InferenceService(None, device="cpu", task_resolver=tasks)
    runner = JobRunner(service)
    panel = JobsPanel(runner)
    qtbot.addWidget(panel)
    panel.show()
    yield tasks, service, runner, panel
    tasks.gate.set()
    service.shutdown()
    runner.close()


def test_progress_is_shown_and_cancel_works(env, qtbot) -> None:
    tasks, _service, runner, panel = env
    main_thread = threading.current_thread()
    seen_threads = []
    runner.jobChanged.connect(lambda job: seen_threads.append(threading.current_thread()))
    job = runner.submit(Request(task="half"))
    qtbot.waitUntil(lambda: job.id in panel.rows and panel.rows[job.id].bar.value() == 500, timeout=15000)
    row = panel.rows[job.id]
    assert row.stage.text() == "Thinking hard" and row.bar.text() == "50 %"
    assert row.cancel_button.isVisible() and not row.retry_button.isVisible()
    assert seen_threads and all(t is main_thread for t in seen_threads)
    assert tasks.threads == ["lucid-inference"]
    qtbot.mouseClick(row.cancel_button, qtbot_button())
    qtbot.waitUntil(lambda: row.stage.text() == "Cancelled", timeout=5000)
    assert job.state is JobState.CANCELLED and isinstance(job.future.exception(), Cancelled)
    assert row.retry_button.isVisible() and not row.cancel_button.isVisible()


def test_background_jobs_run_but_are_not_listed(env, qtbot) -> None:
    tasks, _service, runner, panel = env
    tasks.gate.set()
    quiet = runner.submit(Request(task="half", background=True))
    shown = runner.submit(Request(task="half"))
    qtbot.waitUntil(lambda: quiet.state is JobState.DONE and shown.state is JobState.DONE, timeout=15000)
    qtbot.waitUntil(lambda: shown.id in panel.rows, timeout=5000)
    assert quiet.id not in panel.rows and quiet.future.result().info["ok"] is True


def test_retry_runs_the_request_again_and_failure_is_shown(env, qtbot) -> None:
    tasks, _service, runner, panel = env
    failed = runner.submit(Request(task="fail"))
    qtbot.waitUntil(
        lambda: failed.id in panel.rows and panel.rows[failed.id].stage.text().startswith("Failed"),
        timeout=15000,
    )
    row = panel.rows[failed.id]
    assert "The selection is empty." in row.stage.text() and row.stage.toolTip() == "no pixels"
    first = runner.submit(Request(task="half"))
    qtbot.waitUntil(lambda: first.id in panel.rows and first.state is JobState.RUNNING, timeout=5000)
    qtbot.mouseClick(panel.rows[first.id].cancel_button, qtbot_button())
    qtbot.waitUntil(
        lambda: first.id in panel.rows and panel.rows[first.id].retry_button.isVisible(), timeout=5000
    )
    tasks.gate.set()
    qtbot.mouseClick(panel.rows[first.id].retry_button, qtbot_button())
    qtbot.waitUntil(lambda: len(panel.rows) == 3, timeout=5000)
    retried = next(r.job for r in panel.rows.values() if r.job not in (failed, first))
    assert retried.request.task == "half" and retried.id != first.id
    qtbot.waitUntil(lambda: panel.rows[retried.id].stage.text() == "Done", timeout=15000)
    assert panel.rows[retried.id].bar.value() == 1000
    panel.clear_finished()
    assert not panel.rows and panel.empty_label.isVisibleTo(panel)


def test_runner_run_awaits_the_result_with_qasync(env, qtbot, qapp) -> None:
    import asyncio

    import qasync

    tasks, _service, runner, _panel = env
    tasks.gate.set()
    loop = qasync.QEventLoop(qapp, already_running=False)
    try:
        result = loop.run_until_complete(asyncio.wait_for(runner.run(Request(task="half")), 15))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert result.info["ok"] is True


def test_format_eta() -> None:
    assert format_eta(None) == ""
    assert format_eta(4.2) == "about 4 s left"
    assert format_eta(150) == "about 2 min left"


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
