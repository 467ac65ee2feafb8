"""load_image beyond the corpus: orientation, 16-bit exactness, Pillow modes, limits, damaged input."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from editor.io.errors import ImageLoadError, ImageTooLarge
from editor.io.images import ORIENTATION_TAG, load_document, load_image


def _formats(shared_data: Path) -> Path:
    return shared_data / "formats"


@pytest.mark.parametrize("kind", ["Landscape", "Portrait"])
def test_exif_orientation_set_loads_upright(shared_data, kind):
    folder = _formats(shared_data) / "exif_orientation"
    upright = load_image(folder / f"{kind}_1.jpg").pixels[..., :3].astype(np.float32)
    for k in range(0, 9):
        img = load_image(folder / f"{kind}_{k}.jpg")
        assert img.pixels.shape == (*upright.shape[:2], 4), k
        diff = np.abs(img.pixels[..., :3].astype(np.float32) - upright).mean()
        assert diff < 8.0, f"{kind}_{k} is not upright (mean difference {diff:.1f})"
        # A wrong turn would be far off: check the test can tell.
        assert np.abs(img.pixels[::-1, ::-1, :3].astype(np.float32) - upright).mean() > 20
        if img.exif:
            exif = Image.Exif()
            exif.load(img.exif)
            assert ORIENTATION_TAG not in exif


def test_16bit_png_exact_against_opencv(shared_data):
    """All 16 bits of every 16-bit PngSuite file, checked against libpng (through OpenCV)."""
    files = sorted((_formats(shared_data) / "pngsuite" / "png").glob("[!x]*16.png"))
    assert len(files) >= 30
    for path in files:
        ours = load_image(path)
        assert ours.depth == 16
        ref = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if ref.ndim == 2:
            ref = np.repeat(ref[..., None], 3, axis=2)
        elif ref.shape[2] == 2:
            ref = ref[..., [0, 0, 0, 1]]
        else:
            ref = ref[..., [2, 1, 0, 3][: ref.shape[2]]]
        np.testing.assert_array_equal(ours.pixels[..., :3], ref[..., :3], err_msg=path.name)
        if ref.shape[2] == 4:
            np.testing.assert_array_equal(ours.pixels[..., 3], ref[..., 3], err_msg=path.name)


def test_16bit_png_transparency_key(shared_data):
    img = load_image(_formats(shared_data) / "pngsuite" / "png" / "tbbn2c16.png")
    assert img.depth == 16
    alpha = img.pixels[..., 3]
    assert set(np.unique(alpha)) == {0, 65535}
    assert (alpha == 0).sum() > 50


def test_16bit_tiff_matches_tifffile(shared_data):
    import tifffile

    path = _formats(shared_data) / "pillow_tests" / "tiff_16bit_RGB.tiff"
    img = load_image(path)
    np.testing.assert_array_equal(img.pixels[..., :3], tifffile.imread(path))
    assert (img.pixels[..., 3] == 65535).all()


def _save(image: Image.Image, tmp_path: Path, name: str, **kw) -> Path:
    path = tmp_path / name
    image.save(path, **kw)
    return path


def test_pillow_modes_convert_correctly(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (6, 7), dtype=np.uint8)
    # 1-bit
    img = load_image(_save(Image.fromarray(gray > 127), tmp_path, "bits.png"))
    assert set(np.unique(img.pixels[..., 0])) <= {0, 255}
    np.testing.assert_array_equal(img.pixels[..., 0] == 255, gray > 127)
    # palette with a transparent index
    pal = Image.frombytes("P", (7, 6), (gray % 4).tobytes())
    pal.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    img = load_image(_save(pal, tmp_path, "pal.png", transparency=2))
    assert ((img.pixels[..., 3] == 0) == (gray % 4 == 2)).all()
    red = gray % 4 == 1
    np.testing.assert_array_equal(img.pixels[red][:, :3], [[255, 0, 0]] * int(red.sum()))
    # gray + alpha
    la = np.stack([gray, 255 - gray], axis=2)
    img = load_image(_save(Image.frombytes("LA", (7, 6), la.tobytes()), tmp_path, "la.png"))
    np.testing.assert_array_equal(img.pixels, np.stack([gray, gray, gray, 255 - gray], axis=2))
    # 16-bit gray stays 16-bit
    g16 = rng.integers(0, 65536, (6, 7), dtype=np.uint16)
    img = load_image(_save(Image.fromarray(g16), tmp_path, "g16.png"))
    assert img.depth == 16
    np.testing.assert_array_equal(img.pixels[..., 1], g16)
    # 32-bit int and float TIFF → 16-bit gray
    img = load_image(_save(Image.fromarray(g16.astype(np.int32)), tmp_path, "i32.tif"))
    assert img.depth == 16
    np.testing.assert_array_equal(img.pixels[..., 0], g16)
    fl = rng.random((6, 7)).astype(np.float32)
    img = load_image(_save(Image.fromarray(fl), tmp_path, "f.tif"))
    assert img.depth == 16
    np.testing.assert_array_equal(img.pixels[..., 2], np.rint(fl * 65535).astype(np.uint16))
    # CMYK without a profile: Pillow's conversion
    cmyk = Image.frombytes("CMYK", (7, 6), rng.integers(0, 256, (6, 7, 4), dtype=np.uint8).tobytes())
    img = load_image(_save(cmyk, tmp_path, "cmyk.tif"))
    np.testing.assert_array_equal(img.pixels[..., :3], np.asarray(cmyk.convert("RGB")))
    assert "notes" in img.info


def test_header_size_limit_refuses_before_decoding(tmp_path, shared_data):
    hopper = _formats(shared_data) / "pillow_tests" / "hopper.png"
    with pytest.raises(ImageTooLarge, match="megapixels"):
        load_image(hopper, max_pixels=128 * 127)
    assert load_image(hopper, max_pixels=128 * 128).width == 128
    # A 100000×100000 PNG whose data is tiny: refused from the header at the default limit.
    raw = zlib.compress(b"\x00" * 10)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    with pytest.raises(ImageTooLarge) as info:
        load_image(path)
    assert "bomb.png" in info.value.message and "100000×100000" in info.value.message


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp", ".gif", ".bmp", ".psd"])
def test_damaged_files_raise_only_lucid_errors(tmp_path, shared_data, suffix):
    source = _formats(shared_data) / "pillow_tests" / f"hopper{suffix}"
    data = source.read_bytes()
    rng = np.random.default_rng(len(data))
    variants = [data[: len(data) * k // 8] for k in range(0, 8)]
    for _ in range(6):  # flipped bytes past the header
        damaged = bytearray(data)
        for pos in rng.integers(16, len(data), 20):
            damaged[pos] ^= 0xFF
        variants.append(bytes(damaged))
    variants.append(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    for i, blob in enumerate(variants):
        path = tmp_path / f"v{i}{suffix}"
        path.write_bytes(blob)
        try:
            img = load_image(path)
        except ImageLoadError as exc:
            assert exc.message.startswith(path.name + ": ") and len(exc.message) > len(path.name) + 5
        else:
            assert img.pixels.shape[2] == 4  # some flips land in pixel data and still decode


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageLoadError, match=r"nope\.png: file not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="not a file"):
        load_image(tmp_path)


def test_load_document_one_layer(shared_data):
    doc = load_document(_formats(shared_data) / "iopaint" / "icc_profile_test.jpg")
    assert [layer.name for layer in doc.layers] == ["icc_profile_test"]
    assert doc.metadata.icc_profile and doc.metadata.source_format == "JPEG"
    assert doc.depth == 8 and not doc.modified and doc.active_layer is doc.layers[0]
    assert (doc.width, doc.height) == (512, 324)


def test_png_text_kept(shared_data):
    doc = load_document(_formats(shared_data) / "iopaint" / "png_parameter_test.png")
    assert doc.metadata.extra.get("parameters")


def test_decode_bytes_equals_file(shared_data):
    from editor.io.images import decode_image_bytes

    path = _formats(shared_data) / "pngsuite" / "png" / "basn6a16.png"
    a = load_image(path)
    b = decode_image_bytes(io.BytesIO(path.read_bytes()).getvalue(), "x.png")
    np.testing.assert_array_equal(a.pixels, b.pixels)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp", ".jpg"])
def test_one_pixel_limit_for_every_format(tmp_path, monkeypatch, suffix):
    """Pillow's own bomb limit must not come back at decode time (TIFF's load_prepare checks it):
    with Pillow's limit far below ours, every format under our limit opens."""
    from PIL import Image as PILImage

    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 100)  # Pillow refuses > 200 px by itself
    path = _save(PILImage.new("RGB", (40, 30), (9, 8, 7)), tmp_path, f"x{suffix}")
    assert load_image(path, max_pixels=40 * 30).width == 40
    with pytest.raises(ImageTooLarge):
        load_image(path, max_pixels=40 * 30 - 1)


def _jpeg_with_exif(tmp_path, raw: bytes):
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), "red").save(buf, "JPEG", exif=raw)
    path = tmp_path / "exif.jpg"
    path.write_bytes(buf.getvalue())
    return path


def test_exif_failures_are_reported_the_same_way(tmp_path, monkeypatch):
    """An out-of-range orientation, an unreadable EXIF and a block that cannot be re-encoded all
    load the pixels unrotated and say so in one wording."""
    bad_orientation = (b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00"
                       b"\x09\x00\x00\x00\x00\x00\x00\x00")
    loaded = load_image(_jpeg_with_exif(tmp_path, bad_orientation))
    assert loaded.pixels.shape[:2] == (6, 8)
    assert loaded.info["notes"] == [
        "the EXIF block is damaged and its orientation was not applied (ValueError: orientation 9)"]

    def broken(*_a, **_k):
        raise SyntaxError("not a TIFF file")

    monkeypatch.setattr(Image.Image, "getexif", broken)
    monkeypatch.setattr(Image.Exif, "load", broken)
    notes = load_image(_jpeg_with_exif(tmp_path, bad_orientation)).info["notes"]
    assert notes == [
        "the EXIF block is damaged and its orientation was not applied (SyntaxError: not a TIFF file)",
        "the EXIF block is damaged and it was dropped (SyntaxError: not a TIFF file)",
    ]
