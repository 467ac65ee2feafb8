"""`lucid --self-test` from source: every step passes, one line each, and a failure is reported as such."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert steps == ["load tasks and commands", "start Qt", "open sample photo", "main window", "paint mask",
                     "inpaint (PatchMatch via service)", "upscale", "save and reopen .ora"]
    assert all(m.group(1) == "ok" for m in lines)
    assert "random weights" in proc.stdout  # no upscaler in the empty models folder
    assert "2 layers" in proc.stdout  # the fill came back from the .ora as its own layer
    assert not list((tmp_path / "models").glob("*")), "the self-test wrote into the user's models folder"


def test_self_test_reports_a_failure_and_exits_non_zero(tmp_path: Path) -> None:
    """A build without its resources must fail loudly, not pass: hide the sample photo from it."""
    code = (
        "import sys, editor.resources as r; from pathlib import Path;"
        f"r.sample_photo = lambda: Path({str(tmp_path / 'missing.png')!r});"
        "from editor.selftest import STEPS, main;"
        "STEPS[:] = [s for s in STEPS if s[0] in ('open sample photo', 'paint mask')];"
        "sys.exit(main([]))"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout.splitlines()
    assert out[0].startswith("[FAIL] open sample photo: sample photo missing:")
    assert out[1] == "[FAIL] paint mask: skipped: needs the doc from an earlier step"
    assert out[-1].startswith("self-test 2 of 2 steps failed")


def test_resources_are_found_from_source_and_frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from editor import resources

    assert resources.sample_photo().is_file()
    assert resources.resources_dir() == ROOT / "resources"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.sample_photo() == tmp_path / "resources" / "samples" / "coffee.png"
    assert resources.app_icon_dir() == tmp_path / "resources" / "icons" / "app"
