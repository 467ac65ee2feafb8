"""The incremental tiled compositor agrees with a full composite and recomposites only dirty tiles."""

from __future__ import annotations

import random

import numpy as np

from editor.core.blend import BlendMode
from editor.core.compositor import Compositor, composite
from editor.core.document import Document
from editor.core.geometry import TILE, Rect
from editor.core.layers import GroupLayer, PixelLayer


def _doc(seed: int = 0) -> Document:
    rng = np.random.default_rng(seed)
    doc = Document(700, 530)
    bg = np.empty((530, 700, 4), np.uint8)
    bg[..., :3] = rng.integers(0, 256, (530, 700, 3))
    bg[..., 3] = 255
    doc.layers.append(PixelLayer("bg", bg))
    doc.layers.append(PixelLayer("mul", rng.integers(0, 256, (300, 400, 4), dtype=np.uint8), offset=(100, 50),
                                 blend_mode=BlendMode.MULTIPLY, opacity=0.7,
                                 mask=rng.random((300, 400), dtype=np.float32)))
    inner = [PixelLayer("hue", rng.integers(0, 256, (200, 900, 4), dtype=np.uint8), offset=(-100, 300),
                        blend_mode=BlendMode.HUE),
             PixelLayer("soft", rng.integers(0, 256, (100, 100, 4), dtype=np.uint8), offset=(600, 450),
                        blend_mode=BlendMode.SOFT_LIGHT)]
    doc.layers.append(GroupLayer("g", inner, blend_mode=BlendMode.SCREEN, opacity=0.8))
    dodge = PixelLayer("dodge", rng.integers(0, 256, (530, 300, 4), dtype=np.uint8),
                       blend_mode=BlendMode.COLOR_DODGE)
    doc.layers.append(GroupLayer("pass", [dodge], isolated=False, opacity=0.6))
    return doc


def _all_tiles(comp: Compositor) -> np.ndarray:
    doc = comp.doc
    out = np.zeros((doc.height, doc.width, 4), np.float32)
    for ty in range(comp.tiles_y):
        for tx in range(comp.tiles_x):
            out[comp.tile_rect(tx, ty).slices()] = comp.tile(tx, ty)
    return out


def test_incremental_equals_full_composite_after_random_edits():
    doc = _doc()
    comp = Compositor(doc)
    rnd = random.Random(5)
    nprng = np.random.default_rng(5)
    np.testing.assert_array_equal(_all_tiles(comp), composite(doc))
    pixel_layers = [layer for layer in doc.all_layers() if isinstance(layer, PixelLayer)]
    for step in range(25):
        layer = rnd.choice(pixel_layers)
        action = rnd.choice(["pixels", "mask", "opacity", "mode", "offset", "visible", "undo", "add"])
        if action == "pixels":
            rect = Rect(rnd.randint(0, layer.width - 1), rnd.randint(0, layer.height - 1), 60, 40)
            doc.paste(layer, "pixels", rect, nprng.integers(0, 256, (40, 60, 4), dtype=np.uint8), "p")
        elif action == "mask":
            doc.paste(layer, "mask", Rect(5, 5, 80, 30), nprng.random((30, 80), dtype=np.float32), "m")
        elif action == "opacity":
            doc.set_property(layer, "opacity", rnd.random())
        elif action == "mode":
            doc.set_property(layer, "blend_mode", rnd.choice(list(BlendMode)))
        elif action == "offset":
            doc.set_property(layer, "offset", (rnd.randint(-50, 500), rnd.randint(-50, 400)))
        elif action == "visible":
            doc.set_property(layer, "visible", not layer.visible)
        elif action == "undo" and doc.history.can_undo:
            doc.history.undo()
        else:
            px = nprng.integers(0, 256, (50, 70, 4), dtype=np.uint8)
            new = PixelLayer(f"n{step}", px, offset=(300, 200))
            doc.add_layer(new, rnd.randint(0, len(doc.layers)))
        np.testing.assert_array_equal(_all_tiles(comp), composite(doc), err_msg=f"step {step}: {action}")


def test_only_dirty_tiles_are_recomposited():
    doc = _doc(1)
    comp = Compositor(doc)
    n_tiles = comp.tiles_x * comp.tiles_y
    _all_tiles(comp)
    assert comp.recomposited == n_tiles
    _all_tiles(comp)
    assert comp.recomposited == n_tiles  # everything cached
    bg = doc.layers[0]
    doc.paste(bg, "pixels", Rect(270, 10, 20, 20), np.zeros((20, 20, 4), np.uint8), "p")  # inside tile (1, 0)
    assert not comp.is_cached(1, 0) and comp.is_cached(0, 0) and comp.is_cached(2, 0)
    _all_tiles(comp)
    assert comp.recomposited == n_tiles + 1
    doc.paste(bg, "pixels", Rect(250, 250, 10, 10), np.zeros((10, 10, 4), np.uint8), "p")  # four tiles
    _all_tiles(comp)
    assert comp.recomposited == n_tiles + 5
    comp.invalidate()
    _all_tiles(comp)
    assert comp.recomposited == 2 * n_tiles + 5


def test_tile_rgba8_is_premultiplied_contiguous_uint8():
    doc = Document(300, 10)
    px = np.zeros((10, 300, 4), np.uint8)
    px[..., 0] = 200
    px[..., 3] = 128
    doc.layers.append(PixelLayer("half", px))
    comp = Compositor(doc)
    tile = comp.tile_rgba8(0, 0)
    assert tile.dtype == np.uint8 and tile.shape == (10, TILE, 4) and tile.flags.c_contiguous
    np.testing.assert_array_equal(tile[0, 0], [round(200 * 128 / 255), 0, 0, 128])
    edge = comp.tile_rgba8(1, 0, premultiplied=False)
    assert edge.shape == (10, 300 - TILE, 4)
    np.testing.assert_array_equal(edge[0, 0], [200, 0, 0, 128])


def test_cache_respects_its_byte_budget():
    doc = _doc(2)
    tile_bytes = 4 * TILE * TILE * 4
    comp = Compositor(doc, cache_bytes=3 * tile_bytes)
    _all_tiles(comp)
    cached = sum(comp.is_cached(tx, ty) for tx in range(comp.tiles_x) for ty in range(comp.tiles_y))
    assert 3 <= cached < comp.tiles_x * comp.tiles_y
    assert comp.cache_nbytes <= 3 * tile_bytes
    assert comp.is_cached(comp.tiles_x - 1, comp.tiles_y - 1)  # the most recently used tile stays


def test_layers_hidden_under_an_opaque_layer_do_not_matter():
    """The compositor skips work under an opaque normal layer; the result must not depend on them."""
    rng = np.random.default_rng(3)
    doc = Document(300, 260)
    under_px = rng.integers(0, 256, (260, 300, 4), dtype=np.uint8)
    under = PixelLayer("under", under_px, blend_mode=BlendMode.SCREEN)
    cover_px = rng.integers(0, 256, (260, 300, 4), dtype=np.uint8)
    cover_px[..., 3] = 255
    cover_px[200:, 280:, 3] = 10  # not opaque in the corner tile
    cover = PixelLayer("cover", cover_px)
    top = PixelLayer("top", rng.integers(0, 256, (260, 300, 4), dtype=np.uint8), blend_mode=BlendMode.HUE)
    doc.layers.extend([under, cover, top])
    with_under = composite(doc)
    doc.layers.remove(under)
    without = composite(doc)
    np.testing.assert_array_equal(with_under[:256, :256], without[:256, :256])  # fully covered tile
    assert np.abs(with_under[200:, 280:] - without[200:, 280:]).max() > 0.01  # seen where the cover is thin
