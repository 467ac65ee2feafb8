"""The PyInstaller spec, checked without building (CI cannot fit a 5 GB torch build in 15 minutes).

`packaging/build.py --dry-run` executes `packaging/lucid.spec` with recording stand-ins for
PyInstaller's build steps and checks what it names: data sources, hidden imports (every plugin module
found by pkgutil at run time), runtime hook, icons, exclusions, numba source shipping, trim rules.
The full build is `python packaging/build.py` (README "Building the installers").
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "io.github.lucid_editor.Lucid"


def _load_build():
    spec = importlib.util.spec_from_file_location("lucid_build", ROOT / "packaging" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dry_run_passes() -> None:
    proc = subprocess.run([sys.executable, "packaging/build.py", "--dry-run"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lucid.spec: ok" in proc.stdout


def test_dry_run_catches_a_broken_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = _load_build()
    text = (ROOT / "packaging" / "lucid.spec").read_text(encoding="utf-8")
    broken = text.replace('HIDDEN_IMPORTS = ["editor.app",', 'HIDDEN_IMPORTS = ["editor.no_such_module",')
    broken = broken.replace("*all_modules()]", "]")  # the registered panels and tasks would be missing
    broken = broken.replace('"editor.cli.commands", ', "")  # and the CLI's commands
    broken = broken.replace('"PyQt5", ', "")
    broken = broken.replace("    DATAS += copy_metadata(_dist)", "    pass")
    assert broken != text
    spec = tmp_path / "lucid.spec"
    spec.write_text(broken, encoding="utf-8")
    monkeypatch.setattr(build, "SPEC", spec)
    problems = build.spec_problems()
    assert "hidden import not found: editor.no_such_module" in problems
    assert "editor.infer.tasks.inpaint is registered in editor/modules.py but not a hidden import" in problems
    assert "editor.ui.ai.matte_panel is registered in editor/modules.py but not a hidden import" in problems
    assert "editor.cli.commands.info is discovered at run time but not a hidden import" in problems
    assert "PyQt5 must be excluded (one Qt binding)" in problems
    assert "dependency pymatting: its metadata is not copied (importlib.metadata would fail)" in problems


def test_trim_rules_keep_what_the_app_loads() -> None:
    ns, _calls = _load_build().exec_spec()
    dropped = ns["dropped"]
    for keep in ["torch/lib/libtorch_cuda.so", "nvidia/cudnn/lib/libcudnn.so.9", "cv2/cv2.abi3.so",
                 "PySide6/Qt/plugins/platforms/libqoffscreen.so", "PySide6/Qt/lib/libQt6Svg.so.6",
                 "numba/core/runtime/_nrt_python.cpython-311-x86_64-linux-gnu.so",
                 "resources/icons/app/lucid.svg", "pymatting/util/util.py"]:
        assert not dropped(keep), keep
    for drop in ["triton/_C/libtriton.so", "torch/include/c10/core/Device.h",
                 "PySide6/Qt/translations/qt_de.qm", "scipy/linalg/tests/data/x.npz",
                 "torch/share/cmake/Torch/TorchConfig.cmake"]:
        assert dropped(drop), drop


def test_runtime_hook_sets_a_user_cache_and_the_qt_api(tmp_path: Path) -> None:
    hook = ROOT / "packaging" / "hooks" / "rth_lucid.py"
    code = (f"import os, runpy; runpy.run_path({str(hook)!r});"
            "print(os.environ['NUMBA_CACHE_DIR']); print(os.environ['QT_API']); import sys;"
            "print(sys.dont_write_bytecode)")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "QT_API")}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    cache, api, no_bytecode = out.stdout.split()
    assert Path(cache) == tmp_path / "cache" / "Lucid" / "numba" and Path(cache).is_dir()
    assert api == "pyside6" and no_bytecode == "True"
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")  # the user's choice wins
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert Path(out.stdout.split()[0]) == tmp_path / "mine"


def test_app_icons_are_generated_from_the_svg() -> None:
    """The committed PNG/ICO/ICNS files are what packaging/make_icons.py makes from lucid.svg."""
    pytest.importorskip("PySide6.QtSvg")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "packaging/make_icons.py", "--check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    with Image.open(ROOT / "resources" / "icons" / "app" / "lucid.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(ROOT / "resources" / "icons" / "app" / "lucid-16.png") as png:
        assert png.size == (16, 16) and png.mode == "RGBA"
        assert png.getpixel((0, 0))[3] < 64 < png.getpixel((8, 8))[3]  # rounded corner, opaque middle


def _make_icons():
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "packaging" / "make_icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _encode(fmt: str, image, **kw) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def test_icon_check_compares_what_the_icons_show() -> None:
    """Re-encoded with other settings the same pixels pass; other pixels or a lost size do not."""
    from PIL import Image, ImageDraw

    icons = _make_icons()
    committed = (ROOT / "resources" / "icons" / "app" / "lucid.ico").read_bytes()
    frames = icons.decode_frames(committed)
    assert {(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)} == set(frames)
    with Image.open(io.BytesIO(committed)) as ico:
        each = [ico.ico.getimage(size).convert("RGBA") for size in sorted(frames)]
    big = each[-1]
    # the same pictures stored another way (BMP frames instead of PNG): other bytes, same look
    same = _encode("ICO", big, sizes=sorted(frames), append_images=each[:-1], bitmap_format="bmp")
    assert same != committed and icons.icon_difference(committed, same) is None
    fewer = _encode("ICO", big, sizes=[(16, 16), (32, 32), (256, 256)])
    assert "sizes" in icons.icon_difference(committed, fewer)
    edited = big.copy()
    ImageDraw.Draw(edited).ellipse((64, 64, 192, 192), fill=(255, 0, 0, 255))  # a red dot on the icon
    assert "differs" in icons.icon_difference(committed, _encode("ICO", edited, sizes=sorted(frames)))
    icns = (ROOT / "resources" / "icons" / "app" / "lucid.icns").read_bytes()
    assert (512, 512, 2) in icons.decode_frames(icns)
    assert "differs" in icons.icon_difference(icns, _encode("ICNS", edited.resize((1024, 1024))))


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_file_validates() -> None:
    path = ROOT / "packaging" / "linux" / f"{APP_ID}.desktop"
    proc = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli not installed")
def test_metainfo_validates() -> None:
    path = ROOT / "packaging" / "linux" / f"{APP_ID}.metainfo.xml"
    proc = subprocess.run(["appstreamcli", "validate", "--no-net", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
