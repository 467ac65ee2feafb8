"""Adjustment layers in OpenRaster: reopened fully editable (kind, parameters, mask, clipping, opacity,
blend mode, in groups), baked pixels that reproduce the composite for programs that only read the stack."""

from __future__ import annotations

import zipfile

import numpy as np

from editor.core.adjust.edits import add_adjustment, set_clipped
from editor.core.adjust.layer import AdjustmentLayer
from editor.core.blend import BlendMode
from editor.core.compositor import composite
from editor.core.document import Document
from editor.core.layers import GroupLayer, PixelLayer
from editor.core.pixels import from_float
from editor.io.ora import load_project, save_project

RNG = np.random.default_rng(1515)


def _doc() -> Document:
    doc = Document(64, 48)
    px = RNG.integers(0, 256, (48, 64, 4), dtype=np.uint8)
    px[..., 3] = 255
    photo = PixelLayer("photo", px)
    doc.add_layer(photo)
    doc.active_layer = photo
    curves = add_adjustment(doc, "curves", {"master": [[0, 0], [0.4, 0.6], [1, 1]],
                                            "b": [[0, 0.1], [1, 0.9]]})
    with doc.pixel_edit(curves, "mask", "mask") as edit:
        edit.touch(curves.bounds)
        edit.array[:, :20] = 0.25
    doc.set_property(curves, "opacity", 0.8)
    doc.set_property(curves, "blend_mode", BlendMode.LUMINOSITY)
    sat = add_adjustment(doc, "hue_saturation", {"saturation": -60, "hue": 30})
    set_clipped(doc, sat, True)
    inner = PixelLayer("spot", RNG.integers(0, 256, (10, 12, 4), dtype=np.uint8), offset=(30, 20))
    doc.add_layer(GroupLayer("group", [inner, AdjustmentLayer("bw", "black_white", size=(64, 48))]))
    return doc


def test_adjustment_layers_reopen_editable_with_the_same_composite(tmp_path):
    doc = _doc()
    before = from_float(composite(doc), np.uint8)
    save_project(doc, tmp_path / "a.ora")
    again = load_project(tmp_path / "a.ora")
    assert np.array_equal(from_float(composite(again), np.uint8), before)
    curves, sat = again.layers[1], again.layers[2]
    assert isinstance(curves, AdjustmentLayer) and curves.adjustment == "curves"
    assert curves.params == doc.layers[1].params and curves.opacity == 0.8
    assert curves.blend_mode == BlendMode.LUMINOSITY
    assert np.allclose(curves.mask, doc.layers[1].mask, atol=1e-4)
    assert sat.clipped and sat.params["hue"] == 30.0
    assert isinstance(again.layers[3].children[1], AdjustmentLayer)


def test_the_plain_stack_shows_the_same_picture(tmp_path):
    """What GIMP/Krita read: stack.xml and data/*.png only, composited normally (no Lucid extras)."""
    doc = Document(40, 30)
    px = RNG.integers(0, 256, (30, 40, 4), dtype=np.uint8)
    px[..., 3] = 255
    doc.add_layer(PixelLayer("photo", px))
    add_adjustment(doc, "exposure", {"ev": 0.8})
    add_adjustment(doc, "curves", {"master": [[0, 0], [0.5, 0.35], [1, 1]]})
    save_project(doc, tmp_path / "b.ora")
    with zipfile.ZipFile(tmp_path / "b.ora") as zf:
        names = [n for n in zf.namelist() if n.startswith("data/") and n.count("/") == 1]
        assert len(names) == 3
        plain = tmp_path / "plain.ora"
        with zipfile.ZipFile(plain, "w") as out:  # drop data/lucid/: another program's view
            for info in zf.infolist():
                if not info.filename.startswith("data/lucid/"):
                    out.writestr(info, zf.read(info.filename))
    foreign = load_project(plain)
    assert all(isinstance(x, PixelLayer) for x in foreign.layers)
    ours = from_float(composite(doc), np.uint8).astype(int)
    theirs = from_float(composite(foreign), np.uint8).astype(int)
    assert np.abs(ours - theirs).max() <= 1
