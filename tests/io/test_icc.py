"""Profiles travel: every colour PNG in a project and every export carries the document's ICC profile;
"Convert to sRGB" is LittleCMS's own conversion; groups are written as Lucid renders them."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageCms

from editor.cli import main
from editor.core.blend import BlendMode
from editor.core.compositor import composite
from editor.core.document import Document, Metadata
from editor.core.layers import GroupLayer, PixelLayer
from editor.core.pixels import from_float
from editor.io.export import conversion_summary, export_image
from editor.io.icc import INTENTS, document_profile, is_srgb, srgb_profile
from editor.io.images import decode_image_bytes, load_document, load_image
from editor.io.ora import load_project, save_project
from tests.icc_profiles import adobe_rgb_bytes, adobe_rgb_photo
from tests.io.conftest import make_doc

NON_COLOUR = ("data/lucid/masks/", "data/lucid/selection.png")  # 16-bit gray coverage, not colour


def _icc_of(data: bytes) -> bytes | None:
    with Image.open(io.BytesIO(data)) as im:
        return im.info.get("icc_profile")


def _png_members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n.endswith(".png")}


@pytest.mark.parametrize("depth", [8, 16])
def test_every_colour_png_in_a_project_carries_srgb_when_the_photo_had_none(tmp_path, depth):
    doc = make_doc(depth)
    save_project(doc, tmp_path / "p.ora")
    members = _png_members(tmp_path / "p.ora")
    colour = {n: d for n, d in members.items() if not n.startswith(NON_COLOUR)}
    assert {"mergedimage.png", "Thumbnails/thumbnail.png"} <= set(colour)
    assert any(n.startswith("data/lucid/layers/") for n in colour)  # unmasked pixels of masked layers
    for name, data in colour.items():
        assert _icc_of(data) == srgb_profile(), name
        assert b"iCCP" in data[:200], name  # the chunk comes before the image data


def test_masks_and_selection_carry_a_linear_gray_profile(tmp_path):
    """Every PNG in a project has an iCCP chunk: the coverage PNGs a linear-gray one LittleCMS reads."""
    from PIL import ImageCms

    from editor.io.gray_icc import linear_gray_profile

    doc = make_doc(8)
    doc.selection[:4, :4] = 1.0
    save_project(doc, tmp_path / "p.ora")
    members = _png_members(tmp_path / "p.ora")
    coverage = {n: d for n, d in members.items() if n.startswith(NON_COLOUR)}
    assert "data/lucid/selection.png" in coverage and any(n.startswith("data/lucid/masks/") for n in coverage)
    for name, data in members.items():
        assert b"iCCP" in data[:200], name
    for name, data in coverage.items():
        assert _icc_of(data) == linear_gray_profile(), name
    profile = ImageCms.ImageCmsProfile(io.BytesIO(linear_gray_profile()))
    assert profile.profile.xcolor_space == "GRAY"
    to_srgb = ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), "L", "RGB")
    half = ImageCms.applyTransform(Image.new("L", (1, 1), 128), to_srgb).getpixel((0, 0))
    assert abs(half[0] - 188) <= 1  # linear 0.5 is sRGB 188: the tone curve is the identity
    again = load_project(tmp_path / "p.ora")
    np.testing.assert_allclose(again.selection, doc.selection, atol=1 / 65535)


def test_adobe_rgb_profile_travels_into_every_layer_and_back(tmp_path):
    icc = adobe_rgb_bytes()
    doc = make_doc(16)
    doc.metadata = Metadata(icc_profile=icc)
    save_project(doc, tmp_path / "a.ora")
    for name, data in _png_members(tmp_path / "a.ora").items():
        if not name.startswith(NON_COLOUR):
            assert _icc_of(data) == icc, name
    assert load_project(tmp_path / "a.ora").metadata.icc_profile == icc


def test_a_plain_ora_takes_its_profile_from_the_layer_pngs(tmp_path):
    """A file from another program (no Lucid data) keeps the profile its layers are tagged with."""
    icc = adobe_rgb_bytes()
    doc = make_doc(8)
    doc.metadata = Metadata(icc_profile=icc)
    save_project(doc, tmp_path / "a.ora")
    with zipfile.ZipFile(tmp_path / "a.ora") as src, zipfile.ZipFile(tmp_path / "plain.ora", "w") as dst:
        for info in src.infolist():
            if not info.filename.startswith("data/lucid/"):
                dst.writestr(info, src.read(info))
    assert load_project(tmp_path / "plain.ora").metadata.icc_profile == icc


def test_gray_profiles_are_not_put_on_rgb_pixels():
    gray = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()  # not an RGB profile
    assert document_profile(gray) == srgb_profile()
    assert document_profile(None) == srgb_profile()


def test_pass_through_group_with_opacity_is_written_isolated_and_merged_as_rendered(tmp_path):
    rng = np.random.default_rng(2)
    doc = Document(20, 10)
    doc.layers.append(PixelLayer("bg", rng.integers(0, 256, (10, 20, 4), dtype=np.uint8)))
    px = rng.integers(0, 256, (10, 20, 4), dtype=np.uint8)
    child = PixelLayer("mul", px, blend_mode=BlendMode.MULTIPLY)
    doc.layers.append(GroupLayer("pass 60%", [child], isolated=False, opacity=0.6))
    doc.layers.append(GroupLayer("pass", [PixelLayer("x", child.pixels.copy())], isolated=False))
    save_project(doc, tmp_path / "g.ora")
    with zipfile.ZipFile(tmp_path / "g.ora") as zf:
        stack = zf.read("stack.xml").decode()
        merged = decode_image_bytes(zf.read("mergedimage.png"), "m").pixels
    assert 'name="pass 60%" x="0" y="0" opacity="0.6" visibility="visible" composite-op="svg:src-over" ' \
           'isolation="isolate"' in stack
    assert 'name="pass" x="0" y="0" opacity="1" visibility="visible" composite-op="svg:src-over" ' \
           'isolation="auto"' in stack
    np.testing.assert_array_equal(merged, from_float(composite(doc), np.uint8))
    back = load_project(tmp_path / "g.ora")
    assert back.layers[1].isolated is False  # the user's setting survives in Lucid's data
    np.testing.assert_array_equal(from_float(composite(back), np.uint8), merged)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp"])
@pytest.mark.parametrize("depth", [8, 16])
def test_every_export_carries_a_profile(tmp_path, suffix, depth):
    doc = make_doc(depth)
    export_image(doc, tmp_path / f"o{suffix}")
    assert load_image(tmp_path / f"o{suffix}").icc_profile == srgb_profile()
    icc = adobe_rgb_bytes()
    doc.metadata = Metadata(icc_profile=icc)
    export_image(doc, tmp_path / f"a{suffix}")
    assert load_image(tmp_path / f"a{suffix}").icc_profile == icc


def _adobe_doc(shared_data) -> tuple[Document, np.ndarray, bytes]:
    rgb, icc = adobe_rgb_photo(shared_data / "sr" / "Set5" / "x4" / "img_003_SRF_4_HR.png")
    doc = Document(rgb.shape[1], rgb.shape[0], metadata=Metadata(icc_profile=icc))
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    doc.layers.append(PixelLayer("photo", rgba))
    return doc, rgb, icc


@pytest.mark.parametrize("intent", ["relative", "perceptual"])
def test_convert_to_srgb_jpeg_matches_littlecms(shared_data, tmp_path, intent):
    doc, rgb, icc = _adobe_doc(shared_data)
    notes = export_image(doc, tmp_path / "web.jpg", quality=95, to_srgb=True, intent=intent)
    assert any("to sRGB" in n for n in notes)
    ours = load_image(tmp_path / "web.jpg")
    assert ours.icc_profile == srgb_profile()
    # LittleCMS's own conversion of the Adobe RGB pixels, JPEG-encoded the same way
    ref = ImageCms.profileToProfile(Image.fromarray(rgb), ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                    ImageCms.createProfile("sRGB"),
                                    renderingIntent=INTENTS[intent], outputMode="RGB")
    buf = io.BytesIO()
    ref.save(buf, "JPEG", quality=95)
    ref_px = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).astype(int)
    diff = np.abs(ours.pixels[..., :3].astype(int) - ref_px)
    assert diff.max() <= 1  # like for like: JPEG turns a 1-level difference into up to 6
    # a relabel without converting (the bad stand-in) is far off
    stand_in = rgb.astype(int)
    assert np.abs(stand_in - np.asarray(ref).astype(int)).max() > 20


def test_export_keeps_the_profile_without_conversion(shared_data, tmp_path):
    doc, rgb, icc = _adobe_doc(shared_data)
    export_image(doc, tmp_path / "print.png")
    out = load_image(tmp_path / "print.png")
    assert out.icc_profile == icc
    np.testing.assert_array_equal(out.pixels[..., :3], rgb)


def test_sixteen_bit_to_srgb_says_it_works_in_8_bits(shared_data, tmp_path):
    _, _, icc = _adobe_doc(shared_data)
    doc16 = make_doc(16)
    doc16.metadata = Metadata(icc_profile=icc)
    notes = export_image(doc16, tmp_path / "o.png", to_srgb=True)
    assert any("8 bits" in n for n in notes)
    assert load_image(tmp_path / "o.png").icc_profile == srgb_profile()


def test_conversion_summary_says_what_happens():
    icc = adobe_rgb_bytes()
    assert "converted" in conversion_summary(icc, True) and "sRGB" in conversion_summary(icc, True)
    assert "as they are" in conversion_summary(icc, False)
    assert "is sRGB" in conversion_summary(None, True)
    assert not is_srgb(icc) and is_srgb(None) and is_srgb(srgb_profile())


def test_cli_convert_to_srgb(shared_data, tmp_path):
    doc, rgb, icc = _adobe_doc(shared_data)
    save_project(doc, tmp_path / "a.ora")
    assert main(["convert", str(tmp_path / "a.ora"), str(tmp_path / "web.png"), "--to-srgb"]) == 0
    assert main(["convert", str(tmp_path / "a.ora"), str(tmp_path / "keep.png")]) == 0
    web, keep = load_document(tmp_path / "web.png"), load_document(tmp_path / "keep.png")
    assert web.metadata.icc_profile == srgb_profile() and keep.metadata.icc_profile == icc
    ref = ImageCms.profileToProfile(Image.fromarray(rgb), ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                    ImageCms.createProfile("sRGB"), outputMode="RGB")
    assert np.abs(web.layers[0].pixels[..., :3].astype(int) - np.asarray(ref).astype(int)).max() <= 1
