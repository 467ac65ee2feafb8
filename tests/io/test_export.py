"""export_image: exact 16-bit round trips, metadata kept, alpha handling, atomic failure."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from editor.core import atomic
from editor.core.compositor import composite
from editor.core.pixels import from_float
from editor.io.atomic import atomic_write
from editor.io.errors import ImageSaveError
from editor.io.export import export_image
from editor.io.images import load_document, load_image


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [3, 4])
def test_16bit_round_trip_exact(tmp_path, suffix, channels):
    rng = np.random.default_rng(channels)
    pixels = rng.integers(0, 65536, (33, 47, 4), dtype=np.uint16)
    if channels == 3:
        pixels[..., 3] = 65535
    path = tmp_path / f"x{suffix}"
    assert export_image(pixels, path) == []
    img = load_image(path)
    assert img.depth == 16
    np.testing.assert_array_equal(img.pixels, pixels)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_8bit_lossless_round_trip(tmp_path, suffix):
    pixels = np.random.default_rng(5).integers(0, 256, (20, 30, 4), dtype=np.uint8)
    export_image(pixels, tmp_path / f"x{suffix}")
    np.testing.assert_array_equal(load_image(tmp_path / f"x{suffix}").pixels, pixels)


def test_16bit_document_exports_16bit_composite(tmp_path, doc16):
    doc = doc16
    export_image(doc, tmp_path / "doc.png")
    img = load_image(tmp_path / "doc.png")
    assert img.depth == 16
    np.testing.assert_array_equal(img.pixels, from_float(composite(doc), np.uint16))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp"])
def test_icc_and_exif_kept(tmp_path, shared_data, suffix):
    source = shared_data / "formats" / "iopaint" / "icc_profile_test.jpg"
    doc = load_document(source)
    assert doc.metadata.icc_profile and doc.metadata.exif
    export_image(doc, tmp_path / f"out{suffix}")
    back = load_image(tmp_path / f"out{suffix}")
    assert back.icc_profile == doc.metadata.icc_profile
    assert back.exif is not None
    before, after = Image.Exif(), Image.Exif()
    before.load(doc.metadata.exif)
    after.load(back.exif)
    assert before.get_ifd(0x8769) == after.get_ifd(0x8769)  # the EXIF sub-directory (sizes, dates…)


def test_jpeg_quality_and_alpha_flattened_on_white(tmp_path):
    pixels = np.zeros((16, 16, 4), np.uint8)
    pixels[..., 0] = 200
    pixels[:, 8:, 3] = 255  # left half fully transparent
    notes = export_image(pixels, tmp_path / "a.jpg", quality=95)
    assert any("white" in n for n in notes)
    out = load_image(tmp_path / "a.jpg").pixels.astype(int)
    assert np.abs(out[2:14, 1:5, :3] - 255).max() <= 6  # transparent → white
    assert np.abs(out[2:14, 11:15, :3] - [200, 0, 0]).max() <= 12
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (64, 64, 4), dtype=np.uint8)
    noisy[..., 3] = 255
    export_image(noisy, tmp_path / "q20.jpg", quality=20)
    export_image(noisy, tmp_path / "q95.jpg", quality=95)
    assert os.path.getsize(tmp_path / "q20.jpg") < os.path.getsize(tmp_path / "q95.jpg")


def test_webp_keeps_alpha(tmp_path):
    pixels = np.full((16, 16, 4), 128, np.uint8)
    pixels[:8, :, 3] = 0
    export_image(pixels, tmp_path / "a.webp", quality=100)
    out = load_image(tmp_path / "a.webp").pixels
    assert (out[:8, :, 3] == 0).all() and (out[8:, :, 3] == 128).all()


def test_unknown_format_and_bad_quality(tmp_path):
    pixels = np.zeros((4, 4, 4), np.uint8)
    with pytest.raises(ImageSaveError, match="unknown image type"):
        export_image(pixels, tmp_path / "x.xyz")
    with pytest.raises(ImageSaveError, match="quality"):
        export_image(pixels, tmp_path / "x.jpg", quality=0)
    assert not any(tmp_path.iterdir())


def test_failed_export_leaves_original_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "photo.png"
    target.write_bytes(b"original")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(ImageSaveError, match="No space left"):
        export_image(np.zeros((8, 8, 4), np.uint8), target)
    assert target.read_bytes() == b"original"
    assert [p.name for p in tmp_path.iterdir()] == ["photo.png"]


def test_atomic_write_error_midway(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write(b"half")
        raise RuntimeError("encoder crashed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
    with atomic_write(target) as fh:
        fh.write(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
