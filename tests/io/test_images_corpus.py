"""Every file under ../shared/data/formats goes through load_image: it loads and matches Pillow's own
decode (upright, RGBA, same depth), or it is refused with Lucid's own error and a message."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from editor.io.errors import ImageLoadError
from editor.io.images import load_image

FORMATS = (Path(__file__).resolve().parents[2].parent / "shared" / "data" / "formats").resolve()
ALL_FILES = sorted(p for p in FORMATS.rglob("*") if p.is_file()) if FORMATS.is_dir() else []

# Refused on purpose, with the reason (see ../shared/data/SOURCES.md).
REFUSED = {
    "LICENSE": "text, not an image",
    "LICENSE.Pillow": "text, not an image",
    "PngSuite.README": "text, not an image",
    "broken.png": "corrupt chunk stream",
    "broken_data_stream.png": "IDAT checksum error",
    "truncated_end_chunk.png": "truncated",
    "truncated_image.png": "truncated",
    "truncated_jpeg.jpg": "truncated",
    # 48 KB for a 1512×2688 JPEG: the primary image really is cut short (libjpeg says the same).
    "ultrahdr.jpg": "truncated primary image",
}


def _expect_refused(path: Path) -> bool:
    return path.name in REFUSED or (path.parent.name == "png" and path.name.startswith("x"))


def _pillow_reference(path: Path) -> np.ndarray:
    """Pillow's own decode, upright, as RGBA at Pillow's depth (8-bit, or uint16 for I;16/I modes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode.startswith("I"):
                gray = np.asarray(im).astype(np.uint16)
                alpha = np.full_like(gray, 65535)
                trns = im.info.get("transparency")
                if isinstance(trns, int):
                    alpha[gray == trns] = 0
                return np.stack([gray, gray, gray, alpha], axis=2)
            if im.mode == "1":
                im = im.convert("L")
            return np.asarray(im.convert("RGBA"))


def test_corpus_is_present(shared_data):
    assert len(ALL_FILES) > 200, f"expected the formats corpus under {FORMATS}"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(FORMATS)))
def test_every_format_file(path: Path, shared_data):
    if _expect_refused(path):
        with pytest.raises(ImageLoadError) as info:
            load_image(path)
        assert info.value.message.startswith(path.name + ": ")
        assert len(info.value.message) > len(path.name) + 5
        return
    img = load_image(path)
    assert img.pixels.ndim == 3 and img.pixels.shape[2] == 4
    assert img.pixels.dtype == (np.uint16 if img.depth == 16 else np.uint8)
    ref = _pillow_reference(path)
    assert img.pixels.shape == ref.shape
    if ref.dtype == img.pixels.dtype:
        np.testing.assert_array_equal(img.pixels, ref)
    else:
        # 16-bit RGB(A) that Pillow narrows to 8 bits.
        assert img.depth == 16 and ref.dtype == np.uint8
        target = path.with_name(path.stem + "_target.png")
        if target.exists():  # Pillow's reference rendering: compare premultiplied, 8-bit rounding
            ours = _premultiplied(img.pixels.astype(np.float64) / 257.0)
            theirs = _premultiplied(load_image(target).pixels.astype(np.float64))
            assert np.abs(ours - theirs).max() <= 2.0  # the target was made from 8-bit samples
        else:  # Pillow's 16→8 unpackers keep the high byte of each sample: exact
            np.testing.assert_array_equal((img.pixels >> 8).astype(np.uint8), ref)


def _premultiplied(rgba: np.ndarray) -> np.ndarray:
    out = rgba.copy()
    out[..., :3] *= rgba[..., 3:4] / 255.0
    return out
