#!/usr/bin/env python3
"""Build Lucid's installers: clean venv → PyInstaller (one folder) → frozen self-test → archive.

    python3 packaging/build.py              # full build (venv in build/venv, bundle in dist/lucid)
    python3 packaging/build.py --skip-venv  # use the current interpreter's packages
    python3 packaging/build.py --dry-run    # check the spec (datas, hidden imports, hooks) in seconds

Stdlib only, because it runs before anything is installed. Why a separate venv: PyInstaller bundles
whatever the analysis can reach, so dev tools (pytest, hypothesis, ruff…) in `.venv` would leak
into the bundle; `pip install .[packaging]` gives exactly the app's dependencies plus PyInstaller, at
the versions of this platform's lock in `packaging/locks/` (the ones the test suite passed with).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lock import current_lock

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "lucid.spec"
BUILD = ROOT / "build"
DIST = ROOT / "dist"
VENV = BUILD / "venv"
STAMP = VENV / ".lucid-build-installed"
APP_ID = "io.github.lucid_editor.Lucid"


def _say(msg: str) -> None:
    print(f"[lucid-build] {msg}", flush=True)


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _fingerprint() -> str:
    h = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    lock = current_lock()
    h.update(lock.read_bytes() if lock else b"unlocked")
    h.update(sys.version.encode())
    return h.hexdigest()


def _version() -> str:
    for line in (ROOT / "editor" / "__init__.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise SystemExit("no __version__ in editor/__init__.py")


def _run(cmd: list[str | Path], **kw) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)


def _du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def ensure_venv(fresh: bool) -> Path:
    """A venv with exactly `.[packaging]` (app deps + PyInstaller), reused while pyproject is unchanged.

    The project itself is uninstalled again: the spec analyses the source tree, and a stale installed
    copy of `editor` must not be found instead.
    """
    py = _venv_python(VENV)
    if fresh or not py.exists():
        shutil.rmtree(VENV, ignore_errors=True)
        _say(f"creating {VENV.relative_to(ROOT)}")
        _run([sys.executable, "-m", "venv", VENV])
    if not (STAMP.exists() and STAMP.read_text() == _fingerprint()):
        lock = current_lock()
        if lock is None:
            raise SystemExit("no dependency lock for this platform and Python: an installer is only "
                             "built from locked versions (write one with `python3 packaging/lock.py`)")
        _say(f"installing .[packaging] pinned by {lock.relative_to(ROOT)} (torch is large: minutes)")
        _run([py, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-c", lock,
              f"{ROOT}[packaging]"])
        _run([py, "-m", "pip", "uninstall", "--disable-pip-version-check", "-q", "-y", "lucid-editor"])
        STAMP.write_text(_fingerprint())
    return py


# --- dry run: execute the spec against recording stand-ins and check what it names -------------------


class _Recorder:
    """Stands in for PyInstaller's Analysis/PYZ/EXE/COLLECT/BUNDLE: keeps the arguments, builds nothing."""

    def __init__(self, kind: str, calls: list[_Recorder], *args, **kwargs) -> None:
        self.kind, self.args, self.kwargs = kind, args, kwargs
        self.binaries: list = []
        self.datas: list = []
        self.pure: list = []
        self.scripts: list = []
        calls.append(self)


def _fallback_collect_submodules(package: str, filter=None, on_error=None) -> list[str]:
    """pkgutil version of PyInstaller's collect_submodules, for machines without PyInstaller (CI)."""
    import importlib
    import pkgutil

    mod = importlib.import_module(package)
    names = [package]
    if hasattr(mod, "__path__"):
        names += [m.name for m in pkgutil.walk_packages(mod.__path__, package + ".")]
    return [n for n in names if filter is None or filter(n)]


def _fallback_collect_dynamic_libs(package: str, destdir=None, search_patterns=("*.so", "*.so.*", "*.dll",
                                                                               "*.dylib")) -> list:
    """Shared libraries under an installed package as (source, bundle folder), like PyInstaller's."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    found = []
    for base in map(Path, spec.submodule_search_locations):
        for pattern in search_patterns:
            for lib in base.rglob(pattern):
                dest = destdir or str(Path(*package.split(".")) / lib.parent.relative_to(base))
                found.append((str(lib), dest))
    return found


def _fallback_copy_metadata(dist_name: str) -> list:
    """A distribution's metadata folder as (source, bundle folder), like PyInstaller's copy_metadata."""
    from importlib import metadata

    dist = metadata.distribution(dist_name)  # raises PackageNotFoundError, as PyInstaller's does
    path = Path(str(dist.locate_file(""))) / next(
        (str(f).split("/")[0] for f in dist.files or [] if str(f).split("/")[0].endswith(".dist-info")), ""
    )
    return [(str(path), path.name)]


def exec_spec() -> tuple[dict, list[_Recorder]]:
    """Run lucid.spec with recording stand-ins; return its namespace and the recorded build steps."""
    import types

    calls: list[_Recorder] = []
    try:
        import PyInstaller.utils.hooks  # noqa: F401 - the real collect_submodules when installed
    except ImportError:
        pkg = types.ModuleType("PyInstaller")
        utils = types.ModuleType("PyInstaller.utils")
        hooks = types.ModuleType("PyInstaller.utils.hooks")
        hooks.collect_submodules = _fallback_collect_submodules
        hooks.collect_dynamic_libs = _fallback_collect_dynamic_libs
        hooks.copy_metadata = _fallback_copy_metadata
        pkg.utils, utils.hooks = utils, hooks
        sys.modules.update({"PyInstaller": pkg, "PyInstaller.utils": utils, "PyInstaller.utils.hooks": hooks})
    ns: dict = {"SPECPATH": str(PACKAGING), "__file__": str(SPEC), "__name__": "__main__"}
    for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"):
        ns[kind] = lambda *a, _k=kind, **kw: _Recorder(_k, calls, *a, **kw)
    code = compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec")
    exec(code, ns)
    return ns, calls


# Packages whose modules the app finds at run time (pkgutil.iter_modules), independent of the spec's
# own list so the dry run catches a spec that forgets one. `_discovery_sites` keeps this honest.
# Which source file discovers which packages: a new discovery site must be added here (and the spec).
DISCOVERY_SITES = {
    "editor/cli/__init__.py": ["editor.cli.commands"],
    "editor/infer/safe_load.py": ["editor.infer.archs"],
}
DISCOVERED_PACKAGES = [package for packages in DISCOVERY_SITES.values() for package in packages]


def _discovery_sites() -> list[str]:
    """Source files of the app that discover modules with pkgutil.iter_modules."""
    return [str(p.relative_to(ROOT)) for p in sorted((ROOT / "editor").rglob("*.py"))
            if "pkgutil.iter_modules(" in p.read_text(encoding="utf-8")]


def _numba_cached_modules() -> list[str]:
    """Modules of the source tree that use `@njit(cache=True)` (they must ship their .py)."""
    import re

    pattern = re.compile(r"@(?:numba\.)?n?jit\([^)]*cache\s*=\s*True")
    found = []
    for path in sorted((ROOT / "editor").rglob("*.py")):
        if pattern.search(path.read_text(encoding="utf-8")):
            found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def registry_problems(hidden: set[str]) -> list[str]:
    """editor/modules.py (the plug-ins the app imports by name) agrees with the source tree and the spec:
    every registered module exists and is bundled; every task, converter and panel module is registered."""
    import importlib.util

    from editor import modules

    problems = [f"{name} is registered in editor/modules.py but not a hidden import"
                for name in modules.all_modules() if name not in hidden]
    problems += [f"{name} is registered in editor/modules.py but does not exist"
                 for name in modules.all_modules() if importlib.util.find_spec(name) is None]
    on_disk = {
        modules.TASKS_PACKAGE: {p.stem for p in (ROOT / "editor/infer/tasks").glob("[!_]*.py")},
        modules.CONVERTERS_PACKAGE: {p.stem for p in (ROOT / "editor/infer/convert").glob("[!_]*.py")},
    }
    registered = {modules.TASKS_PACKAGE: set(modules.TASKS),
                  modules.CONVERTERS_PACKAGE: set(modules.CONVERTERS)}
    for package, names in on_disk.items():
        problems += [f"{package}.{name} exists but is not registered in editor/modules.py"
                     for name in sorted(names - registered[package])]
    panels = {f"editor.ui.ai.{p.stem}" for p in (ROOT / "editor/ui/ai").glob("*_panel.py")}
    problems += [f"{name} is a panel module but not registered in editor/modules.py (PANELS)"
                 for name in sorted(panels - {p.module for p in modules.PANELS})]
    return problems


def spec_problems() -> list[str]:
    """Everything wrong with the spec that can be found without building (empty list: fine)."""
    import importlib.util
    import pkgutil
    import re

    sys.path.insert(0, str(ROOT))
    try:
        ns, calls = exec_spec()
    except Exception as exc:  # e.g. a dependency missing from this interpreter
        return [f"the spec raised {type(exc).__name__}: {exc} (run with the app's environment: "
                ".venv/bin/python or build/venv/bin/python)"]
    problems: list[str] = []
    kinds = [c.kind for c in calls]
    if kinds.count("Analysis") != 1 or "COLLECT" not in kinds or "PYZ" not in kinds:
        problems.append(f"expected one Analysis, a PYZ and a COLLECT, got {kinds}")
        return problems
    an = next(c for c in calls if c.kind == "Analysis")
    kw = an.kwargs
    for script in an.args[0]:
        if not Path(script).is_file():
            problems.append(f"entry script missing: {script}")
    for hook in kw.get("runtime_hooks", []):
        if not Path(hook).is_file():
            problems.append(f"runtime hook missing: {hook}")
    datas = kw.get("datas", [])
    for src, _dest in datas:
        if not Path(src).exists():
            problems.append(f"data source missing: {src}")
    for src, _dest in kw.get("binaries", []):
        if not Path(src).is_file():
            problems.append(f"binary missing: {src}")
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "_", name).lower()

    shipped_meta = {norm(Path(dest).name.split("-", 1)[0]) for _src, dest in datas
                    if dest.endswith(".dist-info")}
    for dep in deps:
        name = re.match(r"[A-Za-z0-9_.\-]+", dep).group(0)
        if norm(name) not in shipped_meta:
            problems.append(f"dependency {name}: its metadata is not copied (importlib.metadata would fail)")
    tv = importlib.util.find_spec("torchvision")
    if tv is not None and tv.submodule_search_locations:  # its ops libraries load by path, not import
        shipped = {Path(src).name for src, _dest in kw.get("binaries", [])}
        for folder in map(Path, tv.submodule_search_locations):
            for lib in [*folder.glob("_C*.so"), *folder.glob("_C*.pyd")]:
                if lib.name not in shipped:
                    problems.append(f"torchvision's {lib.name} is not shipped (torchvision ops would fail)")
    dests = {dest for _src, dest in datas}
    for need in ("resources", "models"):
        if need not in dests:
            problems.append(f"nothing is copied to '{need}/' in the bundle")
    if not any(dest == "models" and src.endswith(".toml") for src, dest in datas):
        problems.append("no model manifests (models/*.toml) in datas")
    for rel in ("samples/coffee.png", "icons/app/lucid.svg", "icons/app/lucid-256.png"):
        if not (ROOT / "resources" / rel).is_file():
            problems.append(f"resources/{rel} is missing")
    for icon in ("lucid.ico", "lucid.icns"):
        if not (ns["ICONS"] / icon).is_file():
            problems.append(f"{icon} (Windows/macOS executable icon) is missing")
    hidden = set(kw.get("hiddenimports", []))
    for name in sorted(hidden):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            problems.append(f"hidden import not found: {name}")
    sites = _discovery_sites()
    if sites != sorted(DISCOVERY_SITES):
        problems.append(f"editor/ calls pkgutil.iter_modules in {sites}; build.py's DISCOVERY_SITES "
                        f"names {sorted(DISCOVERY_SITES)}: update it (and the spec)")
    for package in DISCOVERED_PACKAGES:
        pkg_path = importlib.util.find_spec(package).submodule_search_locations
        for m in pkgutil.iter_modules(pkg_path):
            if f"{package}.{m.name}" not in hidden:
                problems.append(f"{package}.{m.name} is discovered at run time but not a hidden import")
    problems += registry_problems(hidden)
    excludes = set(kw.get("excludes", []))
    for name in ("PySide6", "torch", "numba", "editor"):
        if name in excludes:
            problems.append(f"{name} must not be excluded")
    for name in ("PyQt5", "PyQt6", "PySide2"):
        if name not in excludes:
            problems.append(f"{name} must be excluded (one Qt binding)")
    modes = kw.get("module_collection_mode", {})
    for name in _numba_cached_modules():
        if modes.get(name) != "py" and modes.get(name.rsplit(".", 1)[0]) != "py":
            problems.append(f"{name} uses numba cache=True but is not collected as source ('py')")
    dropped = ns["dropped"]
    for keep in ("resources/samples/coffee.png", "models/big-lama.toml", "torch/lib/libtorch_cpu.so",
                 "nvidia/cu13/lib/libcublas.so.13", "PySide6/Qt/plugins/platforms/libqxcb.so",
                 "PySide6/Qt/plugins/imageformats/libqsvg.so", "torch/testing/__init__.py"):
        if dropped(keep):
            problems.append(f"the trim rules would drop {keep}")
    for drop in ("torch/include/ATen/ATen.h", "triton/backends/nvidia/bin/ptxas", "torch/lib/libfoo.a"):
        if not dropped(drop):
            problems.append(f"the trim rules keep {drop}")
    for exe in (c for c in calls if c.kind == "EXE"):
        if exe.kwargs.get("upx") or not exe.kwargs.get("exclude_binaries"):
            name = exe.kwargs.get("name")
            problems.append(f"EXE {name}: must be one-folder (exclude_binaries) and without UPX")
    return problems


def dry_run() -> int:
    t0 = time.perf_counter()
    problems = spec_problems()
    for p in problems:
        print(f"[lucid-build] spec problem: {p}", file=sys.stderr)
    verdict = "ok" if not problems else f"{len(problems)} problem(s)"
    _say(f"dry run of {SPEC.relative_to(ROOT)}: {verdict} ({time.perf_counter() - t0:.1f} s)")
    return 1 if problems else 0


# --- the real build ------------------------------------------------------------------------------------


def run_pyinstaller(py: Path) -> Path:
    cmd = [py, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", DIST,
           "--workpath", BUILD / "pyinstaller", SPEC]
    _run(cmd)
    out = DIST / "lucid"
    if not out.is_dir():
        raise SystemExit(f"PyInstaller produced no {out}")
    return out


def frozen_executable(bundle: Path) -> Path:
    return bundle / ("lucid.exe" if os.name == "nt" else "lucid")


def frozen_self_test(bundle: Path) -> float:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.perf_counter()
    proc = subprocess.run([str(frozen_executable(bundle)), "--self-test"], env=env, cwd=BUILD)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"the frozen self-test failed (exit {proc.returncode})")
    return dt


def top_folders(bundle: Path, n: int = 10) -> list[tuple[str, int]]:
    """Largest folders two levels below the bundle's library root (where the size is)."""
    lib = bundle / "_internal" if (bundle / "_internal").is_dir() else bundle
    sizes: dict[str, int] = {}
    for p in lib.rglob("*"):
        if p.is_file() and not p.is_symlink():
            rel = p.relative_to(lib).parts
            key = "/".join(rel[:2]) if len(rel) > 2 else (rel[0] if len(rel) > 1 else "(top-level files)")
            sizes[key] = sizes.get(key, 0) + p.stat().st_size
    return sorted(sizes.items(), key=lambda kv: -kv[1])[:n]


def linux_archive(bundle: Path) -> Path:
    """`dist/lucid-<v>-linux-x86_64.tar.gz`: the one-folder build, the .desktop file, metainfo, icons."""
    version = _version()
    machine = platform.machine() or "x86_64"
    top = f"lucid-{version}"
    out = DIST / f"lucid-{version}-linux-{machine}.tar.gz"
    linux = PACKAGING / "linux"
    icons = ROOT / "resources" / "icons" / "app"
    extra: list[tuple[Path, str]] = [
        (linux / f"{APP_ID}.desktop", f"share/applications/{APP_ID}.desktop"),
        (linux / f"{APP_ID}.metainfo.xml", f"share/metainfo/{APP_ID}.metainfo.xml"),
        (icons / "lucid.svg", f"share/icons/hicolor/scalable/apps/{APP_ID}.svg"),
        (linux / "install.sh", "install.sh"),
        (linux / "README.txt", "README.txt"),
    ]
    for png in sorted(icons.glob("lucid-*.png")):
        size = png.stem.split("-")[1]
        extra.append((png, f"share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png"))
    tmp = out.with_suffix(".part")
    with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=f"{top}/lucid")
        for src, arc in extra:
            tar.add(src, arcname=f"{top}/{arc}")
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-venv", action="store_true", help="build with the current interpreter's packages")
    ap.add_argument("--fresh-venv", action="store_true", help="recreate build/venv even if it is up to date")
    ap.add_argument("--dry-run", action="store_true", help="only check the spec (seconds; what CI runs)")
    ap.add_argument("--no-self-test", action="store_true", help="skip the frozen self-test")
    ap.add_argument("--no-archive", action="store_true", help="skip the Linux .tar.gz")
    args = ap.parse_args(argv)
    if args.dry_run:
        return dry_run()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    py = Path(sys.executable) if args.skip_venv else ensure_venv(args.fresh_venv)
    timings["venv"] = time.perf_counter() - t
    # The spec imports the app's dependencies, so check it with the interpreter that will build.
    if subprocess.run([str(py), str(Path(__file__).resolve()), "--dry-run"], cwd=ROOT).returncode != 0:
        return 1
    t = time.perf_counter()
    bundle = run_pyinstaller(py)
    timings["pyinstaller"] = time.perf_counter() - t
    if not args.no_self_test:
        timings["frozen self-test"] = frozen_self_test(bundle)
    archive = None
    if sys.platform.startswith("linux") and not args.no_archive:
        t = time.perf_counter()
        archive = linux_archive(bundle)
        timings["archive"] = time.perf_counter() - t
    _say("timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    _say(f"bundle {bundle.relative_to(ROOT)}: {_mb(_du(bundle))} on disk")
    if archive is not None:
        _say(f"archive {archive.relative_to(ROOT)}: {_mb(archive.stat().st_size)}")
    for name, size in top_folders(bundle):
        _say(f"  {_mb(size):>12}  {name}")
    if sys.platform == "darwin":
        _say("macOS: dist/Lucid.app (sign and notarise it before shipping; see README)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
