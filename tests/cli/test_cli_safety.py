"""Originals are safe and arguments are checked before work: output = input is refused without
--overwrite (the input's bytes unchanged), bad numbers and suffixes fail at once, inputs must be regular
files (a FIFO returns at once instead of blocking)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.cli import main
from editor.io.images import load_image

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def photo(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def mask(tmp_path) -> Path:
    m = np.zeros((48, 64), np.uint8)
    m[10:20, 10:30] = 255
    path = tmp_path / "m.png"
    Image.fromarray(m).save(path)
    return path


def _refused(argv: list[str], protected: Path, capsys) -> str:
    before = protected.read_bytes()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert protected.read_bytes() == before
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize("spelling", ["same", "dot", "link"])
def test_convert_refuses_its_input(photo, capsys, spelling):
    out = {"same": photo, "dot": photo.parent / "." / photo.name, "link": photo.parent / "hard.png"}[spelling]
    if spelling == "link":
        os.link(photo, out)
    err = _refused(["convert", str(photo), str(out)], photo, capsys)
    assert "--overwrite" in err


def test_inpaint_refuses_image_and_mask_as_output(photo, mask, capsys):
    _refused(["inpaint", str(photo), "--mask", str(mask), "-o", str(photo)], photo, capsys)
    _refused(["inpaint", str(photo), "--mask", str(mask), "-o", str(mask)], mask, capsys)


@pytest.mark.parametrize("argv", [
    ["upscale", "{photo}", "-o", "{photo}"],
    ["matte", "{photo}", "--trimap", "{mask}", "-o", "{mask}"],
    ["deobstruct", "{photo}", "{photo}", "{photo}", "-o", "{photo}"],
    ["flatten", "{photo}", "{photo}"],
])
def test_every_command_refuses_output_equal_input(photo, mask, capsys, argv):
    argv = [a.format(photo=photo, mask=mask) for a in argv]
    _refused(argv, photo if "{mask}" not in " ".join(argv[-2:]) else mask, capsys)


def test_overwrite_replaces_atomically_after_the_job(photo, mask, capsys):
    before = load_image(photo).pixels.copy()
    assert main(["inpaint", str(photo), "--mask", str(mask), "-o", str(photo), "--overwrite"]) == 0
    after = load_image(photo).pixels
    assert after.shape == before.shape and not np.array_equal(after, before)
    assert np.array_equal(after[30:], before[30:])  # outside the mask: untouched
    assert sorted(p.name for p in photo.parent.iterdir()) == ["m.png", "photo.png"]  # no temp files


@pytest.mark.parametrize("argv, words", [
    (["inpaint", "{photo}", "--mask", "{mask}", "-o", "{out}.png", "--seed", "-1"], "--seed"),
    (["convert", "{photo}", "{out}.jpg", "--quality", "0"], "--quality"),
    (["latent-edit", "{photo}", "--generator", "{photo}", "--eyes", "1,2,3,4", "--mouth", "1,2",
      "-o", "{out}.png", "--seed", "-5"], "--seed"),
])
def test_bad_numbers_fail_in_argparse(photo, mask, tmp_path, capsys, argv, words):
    argv = [a.format(photo=photo, mask=mask, out=tmp_path / "out") for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert words in capsys.readouterr().err
    assert not list(tmp_path.glob("out*"))


@pytest.mark.parametrize("scale", ["0", "nan", "-2", "4.5"])
def test_upscale_scale_checked_before_anything(photo, tmp_path, capsys, scale):
    """--scale 0 used to mean ×4 silently; now any scale outside 1–4 is refused before a model loads."""
    empty_models = tmp_path / "models"
    assert main(["upscale", str(photo), "-o", str(tmp_path / "o.png"), "--scale", scale,
                 "--models-dir", str(empty_models)]) == 1
    assert "Scale must be between 1 and 4" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_bad_suffix_fails_before_the_job(photo, mask, tmp_path, capsys):
    start = time.monotonic()
    assert main(["inpaint", str(photo), "--mask", str(mask), "-o", str(tmp_path / "out.xyz")]) == 1
    assert "unknown image type .xyz" in capsys.readouterr().err
    assert time.monotonic() - start < 5 and not (tmp_path / "out.xyz").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
@pytest.mark.parametrize("command", [["info", "{fifo}"], ["convert", "{fifo}", "{out}"],
                                     ["inpaint", "{photo}", "--mask", "{fifo}", "-o", "{out}"]])
def test_fifo_inputs_return_at_once(tmp_path, photo, command):
    fifo = tmp_path / "x.png"
    os.mkfifo(fifo)
    argv = [a.format(fifo=fifo, photo=photo, out=tmp_path / "o.png") for a in command]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "editor", *argv], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 1 and "not a regular file" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - start < 30


def test_info_describes_an_image_too_large_to_decode_from_its_header(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LUCID_MEMORY_BUDGET_MB", "256")
    path = tmp_path / "wide.tif"
    Image.new("RGB", (9000, 4000), (1, 2, 3)).save(path, compression="tiff_deflate")  # 36 MP, 144 MB RGBA
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "TIFF, 9000×4000" in out and "header only" in out
