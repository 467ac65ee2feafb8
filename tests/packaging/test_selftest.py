"""`lucid --self-test` from source: every step passes, one line each, and a failure is reported as such."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from editor.modules import PANELS, TASKS

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^\[(ok|FAIL)\] (.+?)(?: \((\d+\.\d\d) s\)(?: — .*)?|: .*)$")


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ if env is None else env, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "editor", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_self_test_passes_from_source(tmp_path: Path) -> None:
    env = dict(os.environ, LUCID_MODELS_DIR=str(tmp_path / "models"))  # no model: the random-weight path
    proc = _run(["--self-test"], env)
    lines = [m for m in map(LINE.match, proc.stdout.splitlines()) if m]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = [m.group(2).strip() for m in lines]
    assert steps == ["load commands", *[f"task {t}" for t in TASKS], "start Qt", "open sample photo",
                     "main window", *[f"panel {p.title}" for p in PANELS], "paint mask",
                     "inpaint (PatchMatch via service)", "ncnn runtime", "upscale", "save and reopen .ora"]
    assert {"panel Inpaint", "panel Matte", "panel Obstruction", "panel Latent Edit"} <= set(steps)
    assert all(m.group(1) == "ok" for m in lines)
    assert "random weights" in proc.stdout  # no upscaler in the empty models folder
    assert "2 layers" in proc.stdout  # the fill came back from the .ora as its own layer
    assert not list((tmp_path / "models").glob("*")), "the self-test wrote into the user's models folder"


def test_self_test_reports_a_failure_and_exits_non_zero(tmp_path: Path) -> None:
    """A build without its resources must fail loudly, not pass: hide the sample photo from it."""
    code = (
        "import sys, editor.resources as r; from pathlib import Path;"
        f"r.sample_photo = lambda: Path({str(tmp_path / 'missing.png')!r});"
        + _only_steps("open sample photo", "paint mask")
    )
    proc = _run_code(code)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout.splitlines()
    assert out[0].startswith("[FAIL] open sample photo: sample photo missing:")
    assert out[1] == "[FAIL] paint mask: skipped: needs the doc from an earlier step"
    assert out[-1].startswith("self-test 2 of 2 steps failed")


def _only_steps(*names: str) -> str:
    """Python source that runs the self-test with only the named steps."""
    return ("import editor.selftest as st; _all = st.steps;"
            f"st.steps = lambda: [s for s in _all() if s[0] in {names!r}];"
            "sys.exit(st.main([]))")


def _run_code(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)


# Makes one module unimportable, as if the installer had not bundled it.
_HIDE = ("import sys, importlib.abc\n"
         "class Hide(importlib.abc.MetaPathFinder):\n"
         "    def find_spec(self, name, path=None, target=None):\n"
         "        if name == {name!r}: raise ModuleNotFoundError(f'No module named {{name!r}}', name=name)\n"
         "sys.meta_path.insert(0, Hide())\n")


@pytest.mark.slow
def test_a_missing_panel_module_fails_the_self_test() -> None:
    """An installer that lost a panel module must not pass: its line fails, the exit status is 1."""
    code = (_HIDE.format(name="editor.ui.ai.matte_panel")
            + _only_steps("start Qt", "open sample photo", "main window", "panel Inpaint", "panel Matte"))
    proc = _run_code(code)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout.splitlines()
    assert any(line.startswith("[ok] panel Inpaint") for line in out), proc.stdout
    assert any(line.startswith("[FAIL] panel Matte: ModuleNotFoundError") for line in out), proc.stdout
    assert any(line.startswith("[FAIL] main window: the window reported: This installation of Lucid is "
                               "incomplete: the Matte tool") for line in out), proc.stdout


def test_a_missing_task_module_fails_the_self_test() -> None:
    code = _HIDE.format(name="editor.infer.tasks.salient") + _only_steps("task salient", "task inpaint")
    proc = _run_code(code)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "[FAIL] task salient: The task 'salient' is missing from this installation" in proc.stdout
    assert "[ok] task inpaint" in proc.stdout


def test_resources_are_found_from_source_and_frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from editor import resources

    assert resources.sample_photo().is_file()
    assert resources.resources_dir() == ROOT / "resources"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.sample_photo() == tmp_path / "resources" / "samples" / "coffee.png"
    assert resources.app_icon_dir() == tmp_path / "resources" / "icons" / "app"
