"""Headless `lucid info|convert|flatten` through editor.cli.main, and one real `python -m editor` run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from editor.cli import main
from editor.core.compositor import composite
from editor.core.document import Document
from editor.core.layers import GroupLayer, PixelLayer
from editor.core.pixels import from_float
from editor.io.images import load_image
from editor.io.ora import save_project

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path) -> tuple[Path, Document]:
    rng = np.random.default_rng(3)
    doc = Document(24, 16)
    doc.root.children.append(PixelLayer("base", rng.integers(0, 256, (16, 24, 4), dtype=np.uint8)))
    doc.root.children.append(GroupLayer("fx", [PixelLayer("spot", rng.integers(0, 256, (5, 5, 4), np.uint8),
                                                          offset=(3, 2), opacity=0.4)]))
    path = tmp_path / "proj.ora"
    save_project(doc, path)
    return path, doc


def test_info_image(shared_data, capsys):
    assert main(["info", str(shared_data / "formats" / "iopaint" / "icc_profile_test.jpg")]) == 0
    out = capsys.readouterr().out
    assert "JPEG, 512×324" in out and "8-bit" in out and "ICC profile: yes" in out and "EXIF: yes" in out


def test_info_16bit_and_project(shared_data, project, capsys):
    assert main(["info", str(shared_data / "formats" / "pngsuite" / "png" / "basn6a16.png")]) == 0
    assert "16-bit" in capsys.readouterr().out
    assert main(["info", str(project[0])]) == 0
    out = capsys.readouterr().out
    assert "OpenRaster project, 24×16" in out
    assert out.index("- fx") < out.index("- spot") < out.index("- base")  # top first, nested


def test_convert_with_quality(shared_data, tmp_path, capsys):
    src = shared_data / "formats" / "pillow_tests" / "hopper.png"
    assert main(["convert", str(src), str(tmp_path / "lo.jpg"), "--quality", "10"]) == 0
    assert main(["convert", str(src), str(tmp_path / "hi.jpg"), "--quality", "95"]) == 0
    assert (tmp_path / "lo.jpg").stat().st_size < (tmp_path / "hi.jpg").stat().st_size
    out = load_image(tmp_path / "hi.jpg").pixels.astype(int)
    assert np.abs(out - load_image(src).pixels.astype(int)).mean() < 4


def test_flatten_project(project, tmp_path):
    path, doc = project
    assert main(["flatten", str(path), str(tmp_path / "flat.png")]) == 0
    flat = load_image(tmp_path / "flat.png").pixels
    np.testing.assert_array_equal(flat, from_float(composite(doc), np.uint8))


@pytest.mark.parametrize("argv", [["info", "{tmp}/missing.png"], ["convert", "{data}", "{tmp}/out.xyz"],
                                  ["flatten", "{data}", "{tmp}/out.png"], ["info", "{tmp}/bad.png"]])
def test_errors_are_one_line(argv, tmp_path, shared_data, capsys):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\ngarbage")
    data = shared_data / "formats" / "pillow_tests" / "hopper.png"
    args = [a.format(tmp=tmp_path, data=data) for a in argv]
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lucid: error: ") and len(err[0]) > 20
    assert not (tmp_path / "out.xyz").exists() and not (tmp_path / "out.png").exists()


def test_python_m_editor_info_imports_no_qt(shared_data):
    """`python -m editor info` in a fresh interpreter: -X importtime lists every module it imported."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "editor", "info",
                           str(shared_data / "formats" / "pillow_tests" / "hopper.jpg")],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "hopper.jpg: JPEG, 128×128" in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "editor.io.images" in imported  # the check sees our own imports …
    assert not {m for m in imported if m.split(".")[0] in {"PySide6", "shiboken6", "torch"}}  # … and no Qt
