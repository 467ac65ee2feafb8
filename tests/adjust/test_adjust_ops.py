"""Adjustment maths: linear-light exposure, neutral = bit-identical, levels/curves against numpy references,
no banding on 16-bit data, and the compositor's handling of opacity, masks, clipping and undo."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

from editor.core.adjust import ops
from editor.core.adjust.edits import add_adjustment, commit_params, preview_params, set_clipped, set_params
from editor.core.adjust.kinds import KINDS, build, normalise
from editor.core.adjust.layer import AdjustmentLayer
from editor.core.compositor import composite
from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.layers import PixelLayer
from editor.core.pixels import from_float, to_float

RNG = np.random.default_rng(15)


def planar16(n: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    """Random 16-bit values as uint16 (3, n) and the float32 planes the compositor would hand over."""
    raw = RNG.integers(0, 65536, (3, n), dtype=np.uint16)
    return raw, to_float(raw)


def srgb_decode(x: np.ndarray) -> np.ndarray:  # reference, float64
    x = np.asarray(x, np.float64)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def test_exposure_plus_one_doubles_linear_light():
    _raw, rgb = planar16()
    out = build("exposure", normalise("exposure", {"ev": 1.0}))(rgb)
    lin_in, lin_out = srgb_decode(rgb), srgb_decode(from_float(out, np.uint16) / 65535.0)
    unclipped = lin_in < 0.49
    assert unclipped.sum() > 5000
    assert np.abs(lin_out[unclipped] - 2 * lin_in[unclipped]).max() < 8 / 65535
    assert np.all(from_float(out[lin_in >= 0.5], np.uint16) == 65535)  # clipped at white, not wrapped


def test_every_kind_at_its_defaults_is_skipped_and_a_diagonal_curve_is_neutral():
    for name in KINDS:
        fn = build(name, normalise(name))
        assert (fn is None) == (name != "black_white"), name
    assert build("curves", normalise("curves", {"master": [[0, 0], [0.5, 0.5], [1, 1]]})) is None


def test_neutral_layers_leave_a_16bit_composite_bit_identical():
    px = RNG.integers(0, 65536, (70, 90, 4), dtype=np.uint16)  # includes partial alpha
    doc = Document(90, 70, depth=16)
    doc.add_layer(PixelLayer("photo", px))
    for name in KINDS:
        if name != "black_white":
            add_adjustment(doc, name)
    add_adjustment(doc, "curves", {"r": [[0, 0], [1, 1]], "master": [[0, 0], [0.25, 0.25], [1, 1]]})
    reference = Document(90, 70, depth=16)
    reference.add_layer(PixelLayer("photo", px.copy()))
    assert np.array_equal(from_float(composite(doc), np.uint16), from_float(composite(reference), np.uint16))


def test_levels_match_a_numpy_reference_on_16bit_data():
    raw, rgb = planar16()
    params = normalise("levels", {"master": [0.05, 1.3, 0.9], "r": [0.1, 0.8, 1.0], "b": [0.0, 1.0, 0.7]})
    out = build("levels", params)(rgb)

    def ref(x, b, g, w):
        return np.clip((x - b) / (w - b), 0, 1) ** (1 / g)

    x = raw / 65535.0
    expect = np.stack([ref(ref(x[0], 0.1, 0.8, 1.0), 0.05, 1.3, 0.9), ref(x[1], 0.05, 1.3, 0.9),
                       ref(ref(x[2], 0.0, 1.0, 0.7), 0.05, 1.3, 0.9)])
    assert np.abs(out - expect).max() < 1e-5


def test_curves_match_a_pchip_reference_on_16bit_data():
    raw, rgb = planar16()
    master = [[0.0, 0.05], [0.3, 0.2], [0.6, 0.75], [0.9, 1.0]]
    green = [[0.1, 0.0], [0.5, 0.6], [1.0, 1.0]]
    out = build("curves", normalise("curves", {"master": master, "g": green}))(rgb)
    pm, pg = PchipInterpolator(*np.array(master).T), PchipInterpolator(*np.array(green).T)
    x = raw / 65535.0

    def m(v):
        return np.clip(pm(np.clip(v, 0.0, 0.9)), 0, 1)

    expect = np.stack([m(x[0]), m(np.clip(pg(np.clip(x[1], 0.1, 1.0)), 0, 1)), m(x[2])])
    assert np.abs(out - expect).max() < 1e-5
    assert np.all(np.diff(build("curves", normalise("curves", {"master": master}))(
        np.linspace(0, 1, 3001, dtype=np.float32)[None].repeat(3, 0))[0]) >= 0)  # monotone: no overshoot


def test_16bit_gradient_keeps_its_levels_after_exposure_and_contrast():
    grad = np.linspace(0, 1, 65536, dtype=np.float64)
    rgb = to_float(np.round(grad * 65535).astype(np.uint16))[None].repeat(3, 0)
    out = build("exposure", normalise("exposure", {"ev": 0.5}))(rgb)
    out = build("contrast", normalise("contrast", {"amount": 40}))(out)
    levels = np.unique(from_float(out[0], np.uint16))
    assert len(levels) > 4000
    eight_bit = np.unique(from_float(out[0], np.uint8))
    assert len(levels) > 10 * len(eight_bit)


def test_white_balance_neutralises_a_warm_cast_and_the_picker_finds_it():
    warm = (0.8, 0.6, 0.4)
    temp, tint = ops.white_balance_from_grey(warm)
    assert temp < 5000  # warm light: a low colour temperature
    fixed = build("white_balance", normalise("white_balance", {"temperature": temp, "tint": tint}))(
        np.array(warm, np.float32).reshape(3, 1))
    assert np.ptp(fixed) < 0.01
    cooler = build("white_balance", normalise("white_balance", {"temperature": 4000}))(
        np.full((3, 1), 0.5, np.float32))
    assert cooler[2, 0] > cooler[0, 0]  # neutralising warm light makes grey bluer


def test_saturation_hue_vibrance_and_black_white():
    rgb = np.array([[0.8, 0.5], [0.3, 0.45], [0.2, 0.4]], np.float32)
    grey = build("hue_saturation", normalise("hue_saturation", {"saturation": -100}))(rgb)
    assert np.ptp(grey, axis=0).max() < 1e-6
    vib = build("hue_saturation", normalise("hue_saturation", {"vibrance": 60}))(rgb)
    gain = np.ptp(vib, axis=0) / np.ptp(rgb, axis=0)
    assert gain[1] > gain[0] > 1.0  # the dull colour gains more than the saturated one
    rotated = build("hue_saturation", normalise("hue_saturation", {"hue": 120}))(rgb)
    assert rotated[1, 0] > rotated[0, 0]  # red turns towards green
    bw = build("black_white", normalise("black_white", {"red": 100, "green": 0, "blue": 0}))(rgb)
    assert np.allclose(bw, rgb[0])


def test_bad_settings_are_refused_with_a_clear_message():
    with pytest.raises(LucidError, match="unknown setting"):
        normalise("exposure", {"stops": 1})
    with pytest.raises(LucidError, match="white point"):
        normalise("levels", {"master": [0.8, 1.0, 0.2]})
    with pytest.raises(LucidError, match="fractions"):
        normalise("levels", {"master": [10, 1.0, 240]})  # 0–255 habits get a hint
    with pytest.raises(LucidError, match="Unknown adjustment"):
        normalise("sharpen")


def _photo_doc() -> tuple[Document, PixelLayer]:
    px = np.zeros((40, 60, 4), np.uint16)
    px[..., :3] = RNG.integers(2000, 30000, (40, 60, 3))
    px[..., 3] = 65535
    doc = Document(60, 40, depth=16)
    layer = PixelLayer("photo", px)
    doc.add_layer(layer)
    doc.active_layer = layer
    return doc, layer


def test_mask_opacity_and_undo_of_a_slider_drag():
    doc, _ = _photo_doc()
    before = from_float(composite(doc), np.uint16)
    adj = add_adjustment(doc, "exposure")
    start = dict(adj.params)
    for ev in (0.2, 0.6, 1.0):  # a drag: previews without history
        preview_params(doc, adj, {"ev": ev})
    steps = len(doc.history.labels)
    commit_params(doc, adj, start)
    assert len(doc.history.labels) == steps + 1
    with doc.pixel_edit(adj, "mask", "Paint mask") as edit:
        edit.touch(adj.bounds.translated(-adj.offset[0], -adj.offset[1]))
        edit.array[:, :30] = 0.0  # hide the adjustment on the left half
    after = from_float(composite(doc), np.uint16)
    assert np.array_equal(after[:, :30], before[:, :30])  # outside the mask: bit-identical
    assert (after[:, 30:, :3] > before[:, 30:, :3]).all()
    doc.set_property(adj, "opacity", 0.5)
    half = from_float(composite(doc), np.uint16).astype(int)
    assert np.all(np.abs(half[:, 30:, :3] - (after[:, 30:, :3].astype(int) + before[:, 30:, :3]) / 2) <= 1)
    doc.history.undo()  # opacity
    doc.history.undo()  # mask
    assert np.array_equal(from_float(composite(doc), np.uint16), from_float(composite(doc), np.uint16))
    assert adj.mask is None
    doc.history.undo()  # the drag, as one step
    assert adj.params["ev"] == 0.0
    assert np.array_equal(from_float(composite(doc), np.uint16), before)


def test_clipped_adjustment_changes_only_the_layer_below():
    doc, photo = _photo_doc()
    patch = np.zeros((10, 10, 4), np.uint16)
    patch[..., 0] = 60000
    patch[..., 3] = 65535
    top = PixelLayer("patch", patch, offset=(5, 5))
    doc.add_layer(top)
    doc.active_layer = photo
    adj = add_adjustment(doc, "hue_saturation", {"saturation": -100})
    assert doc.layers.index(adj) == 1  # just above the active layer
    set_clipped(doc, adj, True)
    out = from_float(composite(doc), np.uint16)
    assert np.ptp(out[30:, 30:, :3].astype(int), axis=2).max() <= 1  # the photo went grey
    assert out[7, 7, 0] == 60000 and out[7, 7, 1] == 0  # the red patch above is untouched
    set_params(doc, adj, {"saturation": 0})
    assert np.array_equal(out[7, 7], patch[0, 0])
    assert isinstance(doc.duplicate_layer(adj), AdjustmentLayer)


def test_preview_proxy_follows_the_full_composite_and_reuses_what_lies_below():
    from editor.core.adjust.proxy import PreviewProxy

    y, x = np.mgrid[0:200, 0:300]
    px = np.zeros((200, 300, 4), np.uint16)
    px[..., 0], px[..., 1], px[..., 2], px[..., 3] = x * 200, y * 300, 30000, 65535
    doc = Document(300, 200, depth=16)
    doc.add_layer(PixelLayer("photo", px))
    exposure = add_adjustment(doc, "exposure", {"ev": 0.4})
    add_adjustment(doc, "curves", {"master": [[0, 0], [0.3, 0.2], [1, 1]]})
    proxy = PreviewProxy(doc, 0.5)
    first = proxy.render_planar(exposure)
    preview_params(doc, exposure, {"ev": 1.2})
    live = proxy.render_planar(exposure)  # reuses the photo's render, applies both adjustments again
    full = composite(doc)[::2, ::2]  # the full-resolution composite, sampled at the proxy's scale
    assert np.abs(np.moveaxis(live[:3], 0, -1) - full[:100, :150, :3]).mean() < 0.01
    assert np.abs(live - first).max() > 0.05  # the preview moved with the slider
    assert np.allclose(live, proxy.render_planar())  # same as a from-scratch proxy render
