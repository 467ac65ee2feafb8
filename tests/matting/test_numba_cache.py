"""numba's cache goes to a per-user folder set before pymatting is imported (fresh processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, env: dict[str, str]) -> str:
    res = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_default_is_the_user_cache_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)  # platformdirs' user cache on Linux
    code = (
        "import editor.infer.matting as m, os, numba; "
        "print(os.environ['NUMBA_CACHE_DIR']); print(numba.config.CACHE_DIR)"
    )
    env_dir, numba_dir = _run(code, env).splitlines()
    if sys.platform.startswith("linux"):
        assert env_dir == str(tmp_path / "Lucid" / "numba")
    assert numba_dir == env_dir and Path(env_dir).is_dir()


def test_environment_override_wins_even_after_numba_import(tmp_path: Path) -> None:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "mine"))
    code = (
        "import numba; import editor.infer.matting as m; "
        "print(m.configure_numba_cache()); print(numba.config.CACHE_DIR)"
    )
    assert _run(code, env).splitlines() == [str(tmp_path / "mine")] * 2


def test_importing_the_package_does_not_import_pymatting() -> None:
    code = "import sys, editor.infer.matting; print('pymatting' in sys.modules, 'numba' in sys.modules)"
    assert _run(code, dict(os.environ)) == "False False"


def test_warm_cache_needs_no_background_work(matting_warm: dict[str, float], tmp_path: Path) -> None:
    from editor.infer.matting import configure_numba_cache, is_warm, start_warm_up

    assert is_warm(configure_numba_cache())
    assert start_warm_up() is None  # nothing to do: the app starts no thread or process
    assert not is_warm(tmp_path)  # an empty folder is cold
