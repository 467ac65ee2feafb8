#!/usr/bin/env python3
"""Dependency locks: one pinned requirements file per platform and Python, made by `uv pip compile`.

    python3 packaging/lock.py                      # refresh every lock after editing pyproject.toml
    python3 packaging/lock.py --upgrade            # move every pin to the newest allowed release
    python3 packaging/lock.py --upgrade-package X  # move one package (repeatable)

Why uv: `uv pip compile` resolves for a platform and Python other than the one it runs on
(`--python-platform`, `--python-version`), so one Linux machine writes the Windows and macOS locks
too; pip-tools and `pip lock` can only lock the interpreter they run in. An existing lock is kept as
the preference, so a refresh changes only what pyproject.toml forces; upgrades are explicit.

The locks cover every extra (dev, bench, packaging, …); `packaging/dev.py` and `packaging/build.py`
install with the right file as pip *constraints* (`pip install -c LOCK .[dev]`), so each installs
exactly the locked versions of what it needs and nothing else. `PINS` holds the pins that are not a
resolver's choice (see its comments). Stdlib only: dev.py and build.py import `current_lock`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "packaging" / "locks"
PINS = LOCKS / "pins.txt"
PYTHONS = ("3.11", "3.12", "3.13")
# Lock name → uv's --python-platform. Linux wheels are chosen for glibc 2.34 (Ubuntu 22.04, Debian 12,
# RHEL 9 and newer), the oldest that PySide6 6.10+ supports; macOS for 14 (Sonoma), torch's oldest.
MACOS_TARGET = "14.0"
PLATFORMS = {
    "linux-x86_64": "x86_64-manylinux_2_34",
    "windows-x86_64": "x86_64-pc-windows-msvc",
    "macos-arm64": "aarch64-apple-darwin",
}


def platform_name() -> str | None:
    """This machine's lock platform, or None where Lucid has no lock (e.g. Linux on ARM)."""
    machine = platform.machine().lower()
    if sys.platform.startswith("linux") and machine in {"x86_64", "amd64"}:
        return "linux-x86_64"
    if sys.platform == "win32" and machine in {"amd64", "x86_64"}:
        return "windows-x86_64"
    if sys.platform == "darwin" and machine == "arm64":
        return "macos-arm64"
    return None


def lock_path(plat: str, python: str) -> Path:
    return LOCKS / f"{plat}-py{python.replace('.', '')}.txt"


def current_lock() -> Path | None:
    """The lock for the running interpreter, or None when there is none for this platform/Python."""
    plat = platform_name()
    if plat is None:
        return None
    path = lock_path(plat, f"{sys.version_info.major}.{sys.version_info.minor}")
    return path if path.exists() else None


def _uv() -> str:
    venv_uv = ROOT / ".venv" / ("Scripts/uv.exe" if sys.platform == "win32" else "bin/uv")
    found = str(venv_uv) if venv_uv.exists() else shutil.which("uv")
    if not found:
        sys.exit("uv is needed to write the locks: `python3 packaging/dev.py setup` installs it into .venv")
    return found


def compile_lock(plat: str, python: str, upgrade: list[str] | None) -> None:
    out = lock_path(plat, python)
    cmd = [_uv(), "pip", "compile", "pyproject.toml", "--all-extras", "--quiet",
           "--python-version", python, "--python-platform", PLATFORMS[plat],
           "--constraint", str(PINS.relative_to(ROOT)), "--output-file", str(out.relative_to(ROOT)),
           "--custom-compile-command", "python3 packaging/lock.py"]
    if upgrade == []:
        cmd.append("--upgrade")
    for name in upgrade or ():
        cmd += ["--upgrade-package", name]
    print(f"[lucid-lock] {out.relative_to(ROOT)}", flush=True)
    env = dict(os.environ, MACOSX_DEPLOYMENT_TARGET=MACOS_TARGET)
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upgrade", action="store_true", help="re-resolve every package to its newest release")
    ap.add_argument("--upgrade-package", action="append", default=[], metavar="NAME")
    args = ap.parse_args(argv)
    upgrade = [] if args.upgrade else (args.upgrade_package or None)
    for plat in PLATFORMS:
        for python in PYTHONS:
            compile_lock(plat, python, upgrade)
    return 0


if __name__ == "__main__":
    sys.exit(main())
