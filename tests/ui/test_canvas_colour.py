"""The canvas shows the document converted from its profile to the display's (LittleCMS), per tile."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageCms

from editor.core.compositor import Compositor
from editor.core.document import Document, Metadata
from editor.core.geometry import Rect
from editor.core.layers import PixelLayer
from editor.io.icc import profile_name, srgb_profile
from editor.ui.canvas.colour import ColourManagedSource, DisplayTransform, display_profile
from tests.icc_profiles import adobe_rgb_bytes


def _doc(icc: bytes | None, alpha: int = 255) -> Document:
    rng = np.random.default_rng(0)
    px = rng.integers(0, 256, (300, 280, 4), dtype=np.uint8)
    px[..., 3] = alpha
    doc = Document(280, 300, metadata=Metadata(icc_profile=icc))
    doc.layers.append(PixelLayer("p", px))
    doc.active_layer = doc.layers[0]
    return doc


def _littlecms(rgb: np.ndarray, icc: bytes) -> np.ndarray:
    out = ImageCms.profileToProfile(Image.fromarray(rgb), ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                    ImageCms.createProfile("sRGB"), renderingIntent=1, outputMode="RGB")
    return np.asarray(out).astype(int)


def test_srgb_document_on_srgb_display_is_shown_as_is():
    doc = _doc(None)
    comp = Compositor(doc)
    source = ColourManagedSource(comp, DisplayTransform(None, srgb_profile()))
    assert source.display.identity
    assert source(0, 0) is comp.tile_rgba8(0, 0)
    photo_srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes() + b""  # equal bytes
    assert DisplayTransform(photo_srgb, srgb_profile()).identity


def test_adobe_rgb_document_is_converted_like_littlecms():
    icc = adobe_rgb_bytes()
    doc = _doc(icc)
    comp = Compositor(doc)
    source = ColourManagedSource(comp, DisplayTransform(icc, srgb_profile()))
    tile = source(1, 0)
    raw = doc.layers[0].pixels[0:256, 256:280, :3]
    assert tile.flags.c_contiguous and tile.shape == (256, 24, 4)
    assert np.abs(tile[..., :3].astype(int) - _littlecms(np.ascontiguousarray(raw), icc)).max() <= 1
    assert np.abs(tile[..., :3].astype(int) - raw.astype(int)).max() > 20  # unconverted is far off
    assert "→" in source.display.describe()


def test_translucent_tiles_are_premultiplied_after_conversion():
    icc = adobe_rgb_bytes()
    doc = _doc(icc, alpha=128)
    comp = Compositor(doc)
    tile = ColourManagedSource(comp, DisplayTransform(icc, srgb_profile()))(0, 0)
    straight = _littlecms(np.ascontiguousarray(doc.layers[0].pixels[:256, :256, :3]), icc)
    assert np.abs(tile[..., :3].astype(int) - (straight * 128 + 127) // 255).max() <= 1
    assert (tile[..., 3] == 128).all()


def test_off_shows_the_numbers_and_display_defaults_to_srgb(monkeypatch):
    monkeypatch.delenv("LUCID_DISPLAY_ICC", raising=False)
    icc, where = display_profile(None)
    assert icc == srgb_profile() and where.startswith("sRGB")
    off = DisplayTransform(adobe_rgb_bytes(), srgb_profile(), enabled=False)
    assert off.identity and off.describe() == "colour management off"


def test_display_profile_from_environment(monkeypatch, tmp_path):
    path = tmp_path / "monitor.icc"
    path.write_bytes(adobe_rgb_bytes())
    monkeypatch.setenv("LUCID_DISPLAY_ICC", str(path))
    assert display_profile(None) == (path.read_bytes(), "LUCID_DISPLAY_ICC")


def test_canvas_tab_converts_only_dirty_tiles_and_readout_names_the_profile(window):
    icc = adobe_rgb_bytes()
    doc = _doc(icc)
    tab = window.add_document(doc)
    tab.view.viewport().repaint()
    item = tab.view.image_item
    assert item.cached_tiles() and not tab.colour.display.identity
    before, converted = item.wraps, tab.colour.converted_pixels
    doc.paste(doc.layers[0], "pixels", Rect(10, 10, 5, 5), np.zeros((5, 5, 4), np.uint8), "dab")
    tab.view.viewport().repaint()
    assert item.wraps - before == 1  # one dirty tile re-made …
    assert tab.colour.converted_pixels - converted == 25  # … converting only the dab's pixels
    fresh = DisplayTransform(icc, srgb_profile()).apply(tab.compositor.tile_rgba8(0, 0, premultiplied=False))
    np.testing.assert_array_equal(item._tile(0, 0).array, fresh)
    text = window.pixel_value_text(doc, 3, 4)
    assert text.startswith("R ") and text.endswith(f"layer values, {profile_name(icc)}")
    tab.set_colour_management(False)
    tab.view.viewport().repaint()
    np.testing.assert_array_equal(item._tile(0, 0).array, tab.compositor.tile_rgba8(0, 0))


def test_partial_reconversion_equals_a_full_one_after_many_edits():
    icc = adobe_rgb_bytes()
    doc = _doc(icc, alpha=200)
    comp = Compositor(doc)
    source = ColourManagedSource(comp, DisplayTransform(icc, srgb_profile()))
    rng = np.random.default_rng(3)
    for tx, ty in ((0, 0), (1, 0), (0, 1), (1, 1)):
        source(tx, ty)
    for _ in range(6):
        x, y = int(rng.integers(0, 260)), int(rng.integers(0, 280))
        patch = rng.integers(0, 256, (20, 20, 4), np.uint8)
        doc.paste(doc.layers[0], "pixels", Rect(x, y, 20, 20), patch, "p")
    fresh = ColourManagedSource(Compositor(doc), DisplayTransform(icc, srgb_profile()))
    for tx, ty in ((0, 0), (1, 0), (0, 1), (1, 1)):
        np.testing.assert_array_equal(source(tx, ty), fresh(tx, ty))
    source.close()


def test_before_after_is_colour_managed_too():
    from editor.ui.canvas.before import bottom_layer_source

    icc = adobe_rgb_bytes()
    doc = _doc(icc)
    display = DisplayTransform(icc, srgb_profile())
    source = ColourManagedSource(Compositor(doc), display)
    np.testing.assert_array_equal(bottom_layer_source(doc, display)(0, 0), source(0, 0))
    source.close()
