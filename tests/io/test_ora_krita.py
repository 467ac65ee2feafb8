"""Krita shows an .ora written by `lucid edit` with adjustment layers as Lucid does (within 3/255).

Slow (Krita starts under Xvfb, ~1 min on first run); skipped where Krita or xvfb-run is not installed
(`apt-get install -y krita xvfb`). 8-bit input: Krita asks which profile a 16-bit PNG without an ICC
profile has (a modal dialog), so the 16-bit case waits for PNGs that carry their profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from editor.cli import main
from editor.io.images import load_image

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("krita") is None or shutil.which("xvfb-run") is None,
                    reason="needs krita and xvfb-run (apt-get install -y krita xvfb)")
def test_krita_renders_the_adjusted_project_like_lucid(tmp_path):
    h, w = 90, 120
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(7)
    img = np.stack([x * 2.0 + y * 0.1, y * 2.5, (x + y) * 0.9], -1) + rng.normal(0, 8, (h, w, 3))
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(tmp_path / "in.png")
    look = ["--exposure", "0.7", "--contrast", "30", "--curve", "0:0,0.3:0.25,0.7:0.8,1:1", "--temperature",
            "5000", "--tint", "10", "--saturation", "20", "--vibrance", "15", "--levels", "0.02,1.1,0.97",
            "--highlights", "-20", "--shadows", "30", "--straighten", "3", "--crop", "5,5,110,80"]
    assert main(["edit", str(tmp_path / "in.png"), "-o", str(tmp_path / "lucid.png"), *look]) == 0
    assert main(["edit", str(tmp_path / "in.png"), "-o", str(tmp_path / "look.ora"), *look]) == 0
    home = tmp_path / "home"
    runtime = tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    env.pop("QT_QPA_PLATFORM", None)
    subprocess.run(["xvfb-run", "-a", "krita", "--nosplash", str(tmp_path / "look.ora"), "--export",
                    "--export-filename", str(tmp_path / "krita.png")], env=env, timeout=400,
                   capture_output=True, check=False)
    assert (tmp_path / "krita.png").is_file(), "Krita wrote nothing"
    ours = load_image(tmp_path / "lucid.png").pixels.astype(int)
    theirs = load_image(tmp_path / "krita.png").pixels.astype(int)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= 3
