"""`lucid upscale`: real SRGAN weights end to end through the store, 16-bit kept, errors a person reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import SRGAN_REL
from PIL import Image

from editor.cli import main
from editor.io.export import export_image
from editor.io.images import load_image


@pytest.fixture
def models_with_srgan(shared_data: Path, tmp_path: Path) -> Path:
    src = shared_data / SRGAN_REL
    if not src.is_file():
        pytest.skip(f"SRGAN weights not found at {src}")
    folder = tmp_path / "models"
    assert main(["models", "--models-dir", str(folder), "import", str(src)]) == 0  # matched by sha256
    assert (folder / "srgan-x4" / src.name).is_file()
    return folder


def test_upscale_with_imported_srgan_at_a_fractional_scale(models_with_srgan: Path, shared_data: Path,
                                                            tmp_path: Path, capsys) -> None:
    src = shared_data / "sr" / "Set5" / "x4" / "img_003_SRF_4_LR.png"
    out = tmp_path / "big.png"
    rc = main(["upscale", str(src), "-o", str(out), "--model", "srgan-x4", "--scale", "2.5",
               "--models-dir", str(models_with_srgan)])
    assert rc == 0, capsys.readouterr().err
    w, h = Image.open(src).size
    assert Image.open(out).size == (int(w * 2.5 + 0.5), int(h * 2.5 + 0.5))
    assert "srgan-x4" in capsys.readouterr().out


def test_sixteen_bit_rgba_stays_sixteen_bit(models_with_srgan: Path, tmp_path: Path) -> None:
    yy, xx = np.mgrid[:24, :32]
    rgba = np.zeros((24, 32, 4), np.uint16)
    rgba[..., 0] = (xx * 2000 + 7).astype(np.uint16)
    rgba[..., 1] = (yy * 2500 + 3).astype(np.uint16)
    rgba[..., 2] = 30001
    rgba[..., 3] = np.where(xx < 16, 65535, 20000).astype(np.uint16)
    src, out = tmp_path / "in16.png", tmp_path / "out16.png"
    export_image(rgba, src)
    assert main(["upscale", str(src), "-o", str(out), "--model", "srgan-x4",
                 "--models-dir", str(models_with_srgan)]) == 0
    img = load_image(out)
    assert img.depth == 16 and img.pixels.dtype == np.uint16 and img.pixels.shape == (96, 128, 4)
    alpha = img.pixels[..., 3]
    assert alpha[:, :60].min() == 65535 and alpha[:, 68:].max() == 20000  # plateaus kept exactly
    assert len(np.unique(alpha[:, 60:68])) > 2  # the step between them resampled, not nearest
    assert np.any(img.pixels[..., :3] % 257 != 0)  # values off the 8-bit grid


def test_missing_model_says_how_to_get_it(tmp_path: Path, shared_data: Path, capsys) -> None:
    src = shared_data / "sr" / "Set5" / "x4" / "img_003_SRF_4_LR.png"
    rc = main(["upscale", str(src), "-o", str(tmp_path / "o.png"), "--model", "realesrgan-x4plus",
               "--models-dir", str(tmp_path / "empty")])
    err = capsys.readouterr().err
    assert rc == 1 and "lucid models fetch realesrgan-x4plus" in err


@pytest.mark.parametrize(("extra", "message"), [
    (["--model", "no-such-model"], "Unknown model 'no-such-model'"),
    (["--model", "srgan-x4", "--scale", "6"], "Scale must be between 1 and 4"),
    (["--model", "srgan-x4", "--tile", "4"], "--tile must be at least 16"),
])
def test_user_errors_are_one_clear_line(models_with_srgan: Path, shared_data: Path, tmp_path: Path, capsys,
                                        extra: list[str], message: str) -> None:
    src = shared_data / "sr" / "Set5" / "x4" / "img_003_SRF_4_LR.png"
    out = tmp_path / "o.png"
    rc = main(["upscale", str(src), "-o", str(out), "--models-dir", str(models_with_srgan), *extra])
    err = capsys.readouterr().err
    assert rc == 1 and message in err and "Traceback" not in err
    assert not out.exists()


def test_unreadable_input_is_reported(models_with_srgan: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"hello")
    rc = main(["upscale", str(bad), "-o", str(tmp_path / "o.png"), "--model", "srgan-x4",
               "--models-dir", str(models_with_srgan)])
    assert rc == 1 and "not-an-image.png" in capsys.readouterr().err
