#!/usr/bin/env python3
"""Set up (or refresh) the local virtual environment, then run Lucid or its test suite.

    python3 packaging/dev.py run [FILE…]   # install everything, launch the app
    python3 packaging/dev.py test [ARGS…]  # install everything, run lint + import contracts + pytest

Safe to run again: the environment is rebuilt only when pyproject.toml (or this file) changed.
Stdlib only, because it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("LUCID_VENV", ROOT / ".venv"))
STAMP = VENV / ".lucid-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def _say(msg: str) -> None:
    print(f"[lucid-dev] {msg}", flush=True)


def _fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "packaging/dev.py"):
        h.update((ROOT / name).read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()


def ensure_env() -> None:
    """Create the venv if needed and install the project with its dev extras when out of date."""
    if sys.version_info < (3, 11):
        sys.exit(f"Lucid needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        _say(f"creating virtual environment in {VENV}")
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    want = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    _say("installing Lucid and its dependencies (first time: a few minutes; torch is large)")
    cmd = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", f"{ROOT}[dev]"]
    subprocess.run(cmd, check=True, cwd=ROOT)
    STAMP.write_text(want)


def _run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def cmd_run(args: list[str]) -> int:
    ensure_env()
    return _run([str(PY), "-m", "editor", *args])


def cmd_test(args: list[str]) -> int:
    ensure_env()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    steps = [
        ("ruff", [str(PY), "-m", "ruff", "check", "editor", "tests", "packaging"]),
        ("import contracts", [str(BIN / "lint-imports"), "--no-cache"]),
    ]
    for label, cmd in steps:
        _say(f"{label} …")
        if _run(cmd, env) != 0:
            _say(f"{label} failed")
            return 1
    _say("pytest …")
    return _run([str(PY), "-m", "pytest", *args], env)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test", "setup"}:
        print(__doc__)
        return 2
    verb, rest = sys.argv[1], sys.argv[2:]
    if verb == "setup":
        ensure_env()
        return 0
    return cmd_run(rest) if verb == "run" else cmd_test(rest)


if __name__ == "__main__":
    sys.exit(main())
