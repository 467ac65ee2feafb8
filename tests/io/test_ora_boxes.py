"""OpenRaster saves for speed: result layers stored as their content box, PNGs via OpenCV, parallel work."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from editor.core.compositor import composite
from editor.core.document import Document
from editor.core.layers import PixelLayer, ResultLayer
from editor.core.recipe import Recipe
from editor.io.errors import ProjectError
from editor.io.images import decode_image_bytes
from editor.io.ora import load_project, save_project
from editor.io.ora_parallel import content_box, run_parallel
from editor.io.png_fast import encode_png

BOX = (30, 50, 45, 80)  # y0, x0, y1, x1 of the fill inside a 120×160 canvas


def inpaint_like_doc(depth: int) -> Document:
    """A photo and a canvas-sized result layer whose mask covers only BOX (as the Inpaint panel makes)."""
    rng = np.random.default_rng(3)
    dtype, top = (np.uint16, 65535) if depth == 16 else (np.uint8, 255)
    doc = Document(160, 120, depth=depth)
    photo = rng.integers(0, top + 1, (120, 160, 4), dtype=dtype)
    photo[..., 3] = top
    doc.add_layer(PixelLayer("photo", photo))
    fill = photo.copy()
    y0, x0, y1, x1 = BOX
    fill[y0:y1, x0:x1, :3] = top // 3
    mask = np.zeros((120, 160), np.float32)
    mask[y0:y1, x0:x1] = 1.0
    mask[y0 - 1, x0:x1] = 0.5  # a feathered edge is content too
    doc.add_layer(ResultLayer("Inpaint", fill, mask, Recipe(task="inpaint", seed=2)))
    return doc


@pytest.mark.parametrize("depth", [8, 16])
def test_result_layer_is_stored_as_its_box_and_reopens_at_full_size(tmp_path, depth):
    doc = inpaint_like_doc(depth)
    path = tmp_path / "p.ora"
    save_project(doc, path)
    layer = doc.layers[1]
    y0, x0, y1, x1 = BOX[0] - 1, BOX[1], BOX[2], BOX[3]
    with zipfile.ZipFile(path) as zf:
        stack = zf.read("stack.xml").decode()
        baked = decode_image_bytes(zf.read(f"data/{layer.id}.png"), "baked").pixels
        raw = decode_image_bytes(zf.read(f"data/lucid/layers/{layer.id}.png"), "raw").pixels
        records = json.loads(zf.read("data/lucid/document.json"))["layers"]
    record = next(r for r in records if r["id"] == layer.id)
    assert baked.shape[:2] == raw.shape[:2] == (y1 - y0, x1 - x0)  # raw and baked both boxed
    assert f'x="{x0}"' in stack and f'y="{y0}"' in stack  # other programs place it by offsets
    assert record["canvas"] == [x0, y0, 160, 120]
    back = load_project(path)
    got = back.layers[1]
    assert isinstance(got, ResultLayer) and got.offset == (0, 0) and got.pixels.shape == layer.pixels.shape
    np.testing.assert_array_equal(got.pixels[y0:y1, x0:x1], layer.pixels[y0:y1, x0:x1])
    assert np.abs(got.mask - layer.mask).max() <= 0.5 / 65535 + 1e-7
    assert not got.pixels[:y0].any() and not got.mask[:y0].any()  # outside: the mask hid it anyway
    np.testing.assert_allclose(composite(back), composite(doc), atol=2 / 65535)
    np.testing.assert_array_equal(back.layers[0].pixels, doc.layers[0].pixels)


def test_the_baked_box_composites_like_the_merged_image(tmp_path):
    """What GIMP/Krita see: the boxed layer at its offsets over the photo equals mergedimage.png."""
    doc = inpaint_like_doc(8)
    path = tmp_path / "p.ora"
    save_project(doc, path)
    with zipfile.ZipFile(path) as zf:
        merged = np.asarray(Image.open(io.BytesIO(zf.read("mergedimage.png"))).convert("RGBA"))
        photo = np.asarray(Image.open(io.BytesIO(zf.read(f"data/{doc.layers[0].id}.png"))).convert("RGBA"))
        box = np.asarray(Image.open(io.BytesIO(zf.read(f"data/{doc.layers[1].id}.png"))).convert("RGBA"))
        thumb = Image.open(io.BytesIO(zf.read("Thumbnails/thumbnail.png")))
    y0, x0 = BOX[0] - 1, BOX[1]
    out = photo.astype(np.float32)
    region = out[y0 : y0 + box.shape[0], x0 : x0 + box.shape[1]]
    a = box[..., 3:4] / 255.0
    region[..., :3] = box[..., :3] * a + region[..., :3] * (1 - a)
    assert np.abs(out - merged).max() <= 1.0
    assert max(thumb.size) <= 256 and thumb.size[0] == 160


def test_a_damaged_box_is_refused_with_a_message(tmp_path):
    doc = inpaint_like_doc(8)
    path = tmp_path / "p.ora"
    save_project(doc, path)
    bad = tmp_path / "bad.ora"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "data/lucid/document.json":
                meta = json.loads(data)
                rec = next(r for r in meta["layers"] if r.get("canvas"))
                rec["canvas"] = [150, 0, 160, 120]  # the box would stick out
                data = json.dumps(meta).encode()
            dst.writestr(info, data)
    with pytest.raises(ProjectError, match="does not fit"):
        load_project(bad)


def test_content_box_and_parallel_runner():
    m = np.zeros((10, 20), np.float32)
    assert content_box(m) is None
    m[2, 3] = 0.1
    m[6, 15] = 1
    assert content_box(m) == (2, 3, 7, 16)
    assert run_parallel([(i, lambda i=i: i * i) for i in range(7)]) == [(i, i * i) for i in range(7)]
    with pytest.raises(ZeroDivisionError):
        run_parallel([(0, lambda: 1), (1, lambda: 1 / 0)])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_encode_png_round_trips_rgba_and_carries_an_icc_profile(dtype):
    rng = np.random.default_rng(0)
    px = rng.integers(0, np.iinfo(dtype).max + 1, (7, 9, 4), dtype=dtype)
    back = decode_image_bytes(encode_png(px), "x.png").pixels
    np.testing.assert_array_equal(back, px)
    icc = b"fake-icc-profile-bytes" * 4
    assert Image.open(io.BytesIO(encode_png(px, icc_profile=icc))).info["icc_profile"] == icc


@pytest.mark.parametrize("depth", [8, 16])
def test_merged_pixels_equal_the_full_composite(depth):
    from editor.core.pixels import from_float
    from editor.io.ora_parallel import merged_pixels

    doc = inpaint_like_doc(depth)
    np.testing.assert_array_equal(merged_pixels(doc), from_float(composite(doc), doc.dtype))
    doc.layers[0].opacity = 0.5  # not a plain base any more: the general path, same answer
    np.testing.assert_array_equal(merged_pixels(doc), from_float(composite(doc), doc.dtype))


def test_band_encoder_shares_identical_bands_and_stays_a_valid_png(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from editor.io import png_fast

    monkeypatch.setattr(png_fast, "BAND_BYTES", 4000)  # many small bands
    calls = []
    real = png_fast._band_job
    monkeypatch.setattr(png_fast, "_band_job", lambda band, level: (calls.append(1), real(band, level))[1])
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (90, 70, 4), dtype=np.uint8)
    b = a.copy()
    b[43:45, 10:20] = 0  # one band (rows 42–55) differs
    with ThreadPoolExecutor(2) as pool:
        enc = png_fast.PngEncoder(pool)
        pa, pb = enc.encode(a), enc.encode(b)
    bands = len(range(0, 90, 4000 // (70 * 4 + 1)))  # 14 rows a band
    assert len(calls) == bands + 1
    np.testing.assert_array_equal(decode_image_bytes(pa, "a.png").pixels, a)
    np.testing.assert_array_equal(decode_image_bytes(pb, "b.png").pixels, b)
    opaque = a.copy()
    opaque[..., 3] = 255
    assert Image.open(io.BytesIO(encode_png(opaque))).mode == "RGB"  # opaque RGBA is written as RGB


def test_adler32_combine_matches_zlib():
    import zlib

    from editor.io.png_fast import adler32_combine

    rng = np.random.default_rng(2)
    a, b = rng.bytes(100_003), rng.bytes(70_001)
    assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)
    assert adler32_combine(1, zlib.adler32(b), len(b)) == zlib.adler32(b)


def test_patched_encode_and_thumbnail_source_match_the_pasted_image():
    from editor.io.ora_parallel import thumbnail_source

    rng = np.random.default_rng(4)
    base = rng.integers(0, 256, (50, 40, 4), dtype=np.uint8)
    patches = [(7, 5, rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)),
               (30, 33, rng.integers(0, 256, (20, 7, 4), dtype=np.uint8))]
    full = base.copy()
    for y, x, p in patches:
        full[y : y + p.shape[0], x : x + p.shape[1]] = p
    np.testing.assert_array_equal(decode_image_bytes(encode_png_patched(base, patches), "m.png").pixels, full)
    assert not np.array_equal(base, full)  # the base was not written into
    for step in (1, 3, 4):
        np.testing.assert_array_equal(thumbnail_source(base, patches, step), full[::step, ::step])


def encode_png_patched(base, patches):
    from concurrent.futures import ThreadPoolExecutor

    from editor.io.png_fast import PngEncoder

    with ThreadPoolExecutor(2) as pool:
        return PngEncoder(pool).encode(base, patches=patches)
