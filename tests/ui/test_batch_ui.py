"""File → Batch…: the dialog takes the current tool's settings; the batch runs in the Jobs panel as a
child `lucid batch` process (editing goes on), with progress, Cancel and Resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.infer.jobs import JobState
from editor.ui.batch_job import BatchJob, BatchSpec

from .ai_support import make_env

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot, qapp, prompts, tmp_path, monkeypatch):
    yield from make_env(qtbot, qapp, prompts, tmp_path, monkeypatch)


def photos(folder: Path, n: int) -> list[str]:
    rng = np.random.default_rng(3)
    names = []
    for i in range(n):
        rel = f"{'sub/' if i % 2 else ''}p{i:02d}.jpg"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random((16, 20, 3)) * 255).astype(np.uint8)).save(folder / rel)
        names.append(rel)
    return names


def test_batch_dialog_takes_the_inpaint_panels_settings_and_the_mask_folder(env, tmp_path: Path) -> None:
    from editor.ui.batch_dialog import BatchDialog

    panel = env.ai.panels["Inpaint"]
    panel.engine.setCurrentIndex(panel.engine.findData("telea"))
    panel.seed.setValue(7)
    (tmp_path / "in").mkdir()
    (tmp_path / "masks").mkdir()
    dlg = BatchDialog(env.window)
    try:
        dlg.task.setCurrentText("inpaint")
        assert dlg.options.text() == "--engine telea --seed 7"
        assert dlg.matched_label.text() == "Masks folder" and dlg.matched.isEnabled()
        dlg.in_dir.setText(str(tmp_path / "in"))
        dlg.out_dir.setText(str(tmp_path / "in"))
        assert dlg.spec() is None and "must differ" in dlg.problem.text()
        dlg.out_dir.setText(str(tmp_path / "out"))
        assert dlg.spec() is None and "masks folder" in dlg.problem.text()
        dlg.matched.setText(str(tmp_path / "masks"))
        spec = dlg.spec()
        assert spec is not None and spec.argv(resume=False)[:2] == ["batch", "inpaint"]
        assert spec.options == ["--mask", str(tmp_path / "masks"), "--engine", "telea", "--seed", "7"]
        dlg.task.setCurrentText("convert")
        assert not dlg.matched.isEnabled() and dlg.options.text().startswith("--quality ")
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / ".lucid-batch.json").write_text("{}")
        dlg.out_dir.setText(str(tmp_path / "out") + "/")
        assert dlg.resume.isChecked()  # an earlier batch in that folder: offer to resume it
    finally:
        dlg.deleteLater()


def test_file_batch_runs_in_the_jobs_panel_cancel_and_resume(env, qtbot, tmp_path: Path, monkeypatch) -> None:
    from editor.ui import batch_dialog

    src, out = tmp_path / "in", tmp_path / "out"
    names = photos(src, 40)
    win = env.window

    def fake_exec(dlg) -> int:  # the person fills the dialog in and presses Run
        dlg.task.setCurrentText("convert")
        dlg.in_dir.setText(str(src))
        dlg.out_dir.setText(str(out))
        dlg.options.setText(dlg.options.text() + " --workers 1 --format png")
        return 1

    monkeypatch.setattr(batch_dialog.BatchDialog, "exec", fake_exec)
    win.actions["batch"].trigger()
    rows = [r for r in win.jobs_panel.rows.values() if isinstance(r.job, BatchJob)]
    assert len(rows) == 1
    row, job = rows[0], rows[0].job
    assert job.state is JobState.RUNNING and "Batch convert" in row.title.text()
    # The window stays responsive while the batch runs: the event loop keeps turning.
    qtbot.waitUntil(lambda: job.fraction > 0, timeout=60000)
    assert row.cancel_button.isVisible()
    row.cancel_button.click()
    qtbot.waitUntil(lambda: job.state is JobState.CANCELLED, timeout=20000)
    assert row.retry_button.text() == "Resume" and row.retry_button.isVisible()
    manifest = json.loads((out / ".lucid-batch.json").read_text())
    assert {e["state"] for e in manifest["files"].values()} <= {"pending", "done"}

    row.retry_button.click()
    qtbot.waitUntil(lambda: job.state.finished, timeout=60000)
    assert job.state is JobState.DONE, job.error
    assert row.bar.value() == 1000 and row.stage.text() == job.summary["text"]
    assert "0 failed" in row.stage.text()
    assert job.summary["done"] > 0 and job.summary["done"] + job.summary["skipped"] == len(names)
    for rel in names:
        assert (out / Path(rel).with_suffix(".png")).is_file()
    assert not list(out.rglob("*.tmp"))


def test_a_failed_file_shows_in_the_row(qtbot, tmp_path: Path) -> None:
    from editor.ui.jobs_panel import JobRow

    src = tmp_path / "in"
    photos(src, 2)
    (src / "broken.jpg").write_bytes(b"nope")
    job = BatchJob(BatchSpec("convert", src, tmp_path / "out", ["--workers", "1"]))
    row = JobRow(job)
    qtbot.addWidget(row)
    job.changed.connect(lambda _j: row.refresh())
    qtbot.waitUntil(lambda: job.state.finished, timeout=60000)
    assert job.state is JobState.FAILED
    assert "1 file(s) failed" in row.stage.text() and "broken.jpg" in row.stage.text()
    job.deleteLater()
