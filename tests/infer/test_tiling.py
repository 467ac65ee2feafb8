"""Tiled == untiled for translation-equivariant models; paste-back touches only feathered-mask pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import binary_dilation

from editor.infer.api import Cancelled, CancelToken, InferenceError
from editor.infer.tiling import choose_tile_size, feather_mask, paste_masked, run_tiled

torch.manual_seed(1)
_W3 = torch.randn(3, 3, 3, 3) * 0.3
_W12 = torch.randn(12, 3, 3, 3) * 0.3


def _torch_fn(net):
    def fn(tile: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(tile.transpose(2, 0, 1)))[None]
        with torch.no_grad():
            y = net(x)
        return y[0].numpy().transpose(1, 2, 0)

    return fn


conv3 = _torch_fn(lambda x: F.conv2d(x, _W3, padding=1))
nearest_then_conv = _torch_fn(
    lambda x: F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), _W3, padding=1))
pixelshuffle = _torch_fn(lambda x: F.pixel_shuffle(F.conv2d(x, _W12, padding=1), 2))


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


@pytest.mark.parametrize(("h", "w", "tile", "overlap"), [(70, 53, 32, 8), (64, 64, 24, 12), (33, 97, 16, 4)])
def test_scale1_conv_tiled_equals_untiled(h: int, w: int, tile: int, overlap: int) -> None:
    img = _image(h, w)
    ref = conv3(img)
    calls = []
    out = run_tiled(img, lambda t: calls.append(t.shape) or conv3(t), tile=tile, overlap=overlap)
    assert len(calls) > 1 and all(s[0] <= tile and s[1] <= tile for s in calls)  # it really tiled
    assert out.shape == ref.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("model", [nearest_then_conv, pixelshuffle], ids=["nearest", "pixelshuffle"])
def test_scale2_models_tiled_equals_untiled(model) -> None:
    img = _image(45, 61, seed=2)
    ref = model(img)
    out = run_tiled(img, model, scale=2, tile=24, overlap=8)
    assert out.shape == (90, 122, 3)
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0)


def test_multiple_pads_by_reflection_and_tiles_stay_aligned() -> None:
    def down_up(t: np.ndarray) -> np.ndarray:
        assert t.shape[0] % 8 == 0 and t.shape[1] % 8 == 0, "model needs multiples of 8"
        x = torch.from_numpy(np.ascontiguousarray(t.transpose(2, 0, 1)))[None]
        y = F.interpolate(F.conv2d(F.avg_pool2d(x, 2), _W3, padding=1), scale_factor=2, mode="nearest")
        return y[0].numpy().transpose(1, 2, 0)

    img = _image(50, 75, seed=3)
    padded = np.pad(img, ((0, 6), (0, 5), (0, 0)), mode="reflect")
    ref = down_up(padded)[:50, :75]
    out = run_tiled(img, down_up, tile=32, overlap=16, multiple=8)
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0)


def test_border_pad_gives_edge_tiles_reflected_context() -> None:
    img = _image(40, 40, seed=4)
    ref = conv3(np.pad(img, ((3, 3), (3, 3), (0, 0)), mode="reflect"))[3:43, 3:43]
    out = run_tiled(img, conv3, tile=16, overlap=8, border_pad=3)
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0)
    assert not np.allclose(out[0], conv3(img)[0], atol=1e-3)  # the border really differs from zero padding


def test_progress_per_tile_and_cancel_between_tiles() -> None:
    img = _image(64, 64)
    seen = []
    run_tiled(img, conv3, tile=32, overlap=8, progress=seen.append)
    assert len(seen) == 9 + 1 and seen[-1].fraction == 1.0
    assert [p.fraction for p in seen] == sorted(p.fraction for p in seen)
    token, calls = CancelToken(), []

    def fn(t: np.ndarray) -> np.ndarray:
        calls.append(1)
        if len(calls) == 2:
            token.cancel()
        return t

    with pytest.raises(Cancelled):
        run_tiled(img, fn, tile=32, overlap=8, cancel=token)
    assert len(calls) == 2


def test_bad_tiling_and_wrong_model_output_are_errors() -> None:
    with pytest.raises(InferenceError):
        run_tiled(_image(8, 8), conv3, tile=8, overlap=8)
    with pytest.raises(InferenceError, match="does not match"):
        run_tiled(_image(20, 20), lambda t: t[:-1], tile=16, overlap=4)


def test_choose_tile_size_follows_budget() -> None:
    small = choose_tile_size(4000, 3000, 3, 4, "cpu", budget_bytes=200 << 20)
    large = choose_tile_size(4000, 3000, 3, 4, "cpu", budget_bytes=2 << 30)
    assert 64 <= small < large < 4000 and small % 8 == 0 and large % 8 == 0
    assert choose_tile_size(100, 60, 3, 4, "cpu", budget_bytes=2 << 30) == 104  # whole image fits
    assert choose_tile_size(4000, 3000, 3, 4, "cpu", budget_bytes=1) == 64  # never below the minimum


def _blob_mask(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    m = (((yy - 30) ** 2 + (xx - 40) ** 2) < 12**2).astype(np.float32)
    m[5:9, 70:90] = 0.6  # a soft stroke too
    return m


def test_paste_masked_leaves_everything_outside_feathered_mask_bit_identical() -> None:
    rng = np.random.default_rng(5)
    base = rng.random((80, 120, 4), dtype=np.float32)
    patch = rng.random((60, 100, 4), dtype=np.float32)
    mask = _blob_mask(60, 100)
    feather = 4
    out = paste_masked(base, patch, mask, feather, origin=(10, 15))
    # Independent reach of the feather: the mask dilated by feather+1 pixels (a square holds the disc).
    reach = np.zeros(base.shape[:2], bool)
    reach[10:70, 15:115] = binary_dilation(mask > 0, np.ones((3, 3), bool), iterations=feather + 1)
    outside = ~reach
    assert np.array_equal(out[outside].view(np.uint32), base[outside].view(np.uint32))
    hard = np.zeros(base.shape[:2], bool)
    hard[10:70, 15:115] = mask == 1
    assert np.array_equal(out[hard], patch[mask == 1])
    ring = feather_mask(mask, feather)
    assert ((ring > 0) & (ring < 1) & (mask == 0)).any()  # the feather really reaches outside the mask
    assert not np.array_equal(out, base)


def test_paste_masked_without_feather_changes_only_mask() -> None:
    rng = np.random.default_rng(6)
    base = rng.random((32, 32, 3), dtype=np.float32)
    patch = rng.random((32, 32, 3), dtype=np.float32)
    mask = np.zeros((32, 32), np.float32)
    mask[8:12, 8:20] = 1
    out = paste_masked(base, patch, mask, 0)
    assert np.array_equal(out[mask == 0], base[mask == 0])
    assert np.array_equal(out[mask == 1], patch[mask == 1])
    with pytest.raises(InferenceError):
        paste_masked(base, patch, mask, 0, origin=(1, 0))


def test_feather_keeps_grey_mask_values_and_only_adds_an_outward_ramp() -> None:
    mask = np.zeros((40, 60), np.float32)
    mask[5:15, 5:15] = 1.0  # hard
    mask[25:35, 10:20] = 0.3  # a soft (grey) stroke
    mask[5:15, 35:55] = np.linspace(0.1, 0.9, 20, dtype=np.float32)[None, :]  # a soft gradient
    feather = 3
    out = feather_mask(mask, feather)
    inside = mask > 0
    assert np.array_equal(out[inside], mask[inside])  # painted values survive, not lifted to 1
    # Just outside an edge: the edge value times the first ramp step 1 - 1/(feather + 1).
    step = 1 - 1 / (feather + 1)
    assert out[15, 10] == pytest.approx(1.0 * step)
    assert out[35, 15] == pytest.approx(0.3 * step)
    assert out[10, 55] == pytest.approx(0.9 * step) and out[10, 34] == pytest.approx(0.1 * step)
    # The ramp falls to 0 beyond `feather` pixels and never exceeds the mask it grows from.
    square = binary_dilation(inside, np.ones((3, 3), bool), iterations=feather)  # ⊇ Euclidean reach
    cross = binary_dilation(inside, iterations=feather)  # 4-connected steps: ⊆ Euclidean reach
    assert (out[~square] == 0).all() and (out[cross & ~inside] > 0).all()
    assert out[25:35, :25].max() <= 0.3 + 1e-7
    # Pasting through it blends a grey region by its painted amount.
    rng = np.random.default_rng(7)
    base, patch = rng.random((40, 60, 3), dtype=np.float32), rng.random((40, 60, 3), dtype=np.float32)
    pasted = paste_masked(base, patch, mask, feather)
    grey = (slice(25, 35), slice(10, 20))
    np.testing.assert_allclose(pasted[grey], 0.7 * base[grey] + 0.3 * patch[grey], rtol=0, atol=1e-6)
