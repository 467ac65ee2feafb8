"""The dependency locks agree with pyproject.toml, and this environment was installed from its lock.

Why: the README's commands install `packaging/locks/<platform>-py<version>.txt` as pip constraints.
A requirement added to pyproject.toml without re-running `python3 packaging/lock.py` would then be
installed at whatever version the index serves that day — this test turns that into a red run.
"""

from __future__ import annotations

import importlib.metadata
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import lock  # noqa: E402 - packaging/lock.py

# The marker environment of each lock platform, enough for the markers pyproject uses.
MARKERS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                     "os_name": "posix"},
    "windows-x86_64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
                       "os_name": "nt"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64",
                    "os_name": "posix"},
}
LOCKS = [(plat, py) for plat in lock.PLATFORMS for py in lock.PYTHONS]


def read_pins(path: Path) -> dict[str, str]:
    """name → version of every `name==version` line of a requirements file."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path.name}: not an exact pin: {line!r}"
            pins[canonicalize_name(name.split("[")[0])] = version.split(";")[0].strip()
    return pins


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in extra]
    return reqs


def test_every_platform_and_python_has_a_lock():
    missing = [lock.lock_path(p, v).name for p, v in LOCKS if not lock.lock_path(p, v).exists()]
    assert not missing, f"run `python3 packaging/lock.py`; missing: {missing}"


@pytest.mark.parametrize(("plat", "python"), LOCKS, ids=[f"{p}-py{v}" for p, v in LOCKS])
def test_lock_satisfies_pyproject(plat, python):
    path = lock.lock_path(plat, python)
    pins = read_pins(path)
    env = dict(MARKERS[plat], python_version=python, python_full_version=f"{python}.0", extra="")
    problems = []
    for req in project_requirements():
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        version = pins.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req.name} is not in the lock")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}=={version} does not satisfy {req}")
    for name, version in read_pins(lock.PINS).items():
        if pins.get(name) != version:
            problems.append(f"{name} is {pins.get(name)} in the lock; pins.txt says {version}")
    assert not problems, f"{path.name} disagrees with pyproject.toml (run packaging/lock.py): {problems}"


def test_lock_check_catches_a_drifted_pin(tmp_path):
    """The check above is not vacuous: a lock pinning a version pyproject excludes is reported."""
    drifted = tmp_path / "drifted.txt"
    drifted.write_text("opencv-python-headless==99.0.0\n")
    pins = read_pins(drifted)
    req = next(r for r in project_requirements() if r.name == "opencv-python-headless")
    assert not req.specifier.contains(pins["opencv-python-headless"])


def test_this_environment_matches_its_lock():
    """Installed versions of the locked packages equal the lock (what `packaging/dev.py` promises)."""
    path = lock.current_lock()
    if path is None:
        pytest.skip("no lock for this platform and Python")
    wrong = []
    for name, version in read_pins(path).items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # an extra this environment does not use (packaging, bench)
        if installed != version:
            wrong.append(f"{name} {installed} (lock: {version})")
    assert not wrong, f"installed versions differ from {path.name}: {wrong}"
