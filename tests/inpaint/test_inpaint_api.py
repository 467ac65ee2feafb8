"""inpaint_image, crop planning, colour matching and the task: bit-identical outside the mask."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import texture_image

from editor.infer.api import CancelToken, InferenceError, Request
from editor.infer.inpaint import inpaint_image
from editor.infer.inpaint.colour import match_colour
from editor.infer.inpaint.crops import Box, CropPolicy, inpaint_crops, plan_boxes
from editor.infer.inpaint.engines import ENGINES
from editor.infer.tasks.inpaint import run as run_task
from editor.infer.tiling import feather_mask


@pytest.mark.parametrize("engine", ["patchmatch", "telea", "ns"])
def test_outside_feathered_mask_bit_identical_rgba(engine: str) -> None:
    img = texture_image(90, 120)
    alpha = np.linspace(0.2, 1.0, 120, dtype=np.float32)[None, :].repeat(90, 0)
    rgba = np.concatenate([img, alpha[..., None]], -1)
    mask = np.zeros((90, 120), np.float32)
    mask[20:40, 30:55] = 1.0
    mask[60:70, 90:110] = 0.5  # soft
    out = inpaint_image(rgba, mask, engine=engine)
    assert out.shape == rgba.shape and out.dtype == np.float32
    touched = feather_mask(mask, ENGINES[engine].policy.feather_px) > 0
    assert np.array_equal(out[~touched], rgba[~touched])
    assert not np.allclose(out[20:40, 30:55, :3], rgba[20:40, 30:55, :3])
    # the soft (0.5) region is a half blend of fill and original, not a hard replacement
    hard = inpaint_image(rgba, (mask > 0).astype(np.float32), engine=engine)
    soft = slice(62, 68), slice(92, 108)
    assert np.allclose(out[soft], 0.5 * rgba[soft] + 0.5 * hard[soft], atol=1e-5)
    # alpha in the hole is filled from its surroundings (smooth ramp → stays within the ramp's range)
    assert out[20:40, 30:55, 3].min() >= 0.2 and out[20:40, 30:55, 3].max() <= 1.0


def test_downscaled_crop_still_bit_identical_outside() -> None:
    img = texture_image(160, 200)
    mask = np.zeros((160, 200), np.float32)
    mask[40:110, 50:150] = 1.0
    policy = CropPolicy(working_size=64, margin=0.3, min_margin=8)
    calls: list[tuple[int, int]] = []

    def fake_engine(rgb, hole, seed, progress, cancel):
        calls.append(hole.shape)
        out = rgb + 0.1  # a colour drift over the whole crop, as networks show; the match must remove it
        out[hole] = rgb[~hole].mean(axis=0) + 0.1
        return out

    out = inpaint_crops(img, mask, fake_engine, policy)
    assert max(calls[0]) <= 64  # the engine saw the downscaled crop
    touched = feather_mask(mask, policy.feather_px) > 0
    assert np.array_equal(out[~touched], img[~touched])
    # colour matching: next to the hole's edge the fill meets the surroundings, not the +0.1 drift
    edge_in = abs(out[41, 52:148].mean() - img[38:40, 52:148].mean())
    assert edge_in < 0.04


def test_plan_boxes_merge_margin_shift_multiple() -> None:
    hole = np.zeros((100, 200), bool)
    hole[10:20, 10:20] = True
    hole[10:20, 26:36] = True  # close: margins overlap → one box
    hole[80:95, 180:198] = True  # at the corner: the box is shifted inward, not cut
    policy = CropPolicy(working_size=512, multiple=8, margin=0.0, min_margin=6)
    boxes = plan_boxes(hole.astype(np.float32), policy)
    assert len(boxes) == 2
    a, b = sorted(boxes, key=lambda x: x.x0)
    assert a.y0 <= 10 and a.y1 >= 20 and a.x0 <= 10 and a.x1 >= 36
    assert b.x1 <= 200 and b.y1 <= 100 and b.x0 <= 180 and b.y0 <= 80
    for box in boxes:
        assert box.h % 8 == 0 and box.w % 8 == 0
        assert box.y0 >= 0 and box.x0 >= 0
    assert b.w >= 18 + 12  # full margin kept although the region touches the image edge


def test_box_union_and_overlap() -> None:
    assert Box(0, 0, 5, 5).overlaps(Box(4, 4, 8, 8))
    assert not Box(0, 0, 5, 5).overlaps(Box(5, 0, 8, 5))
    assert Box(0, 0, 5, 5).union(Box(4, 4, 8, 8)) == Box(0, 0, 8, 8)


def test_match_colour_removes_offset_and_ignores_exact_fills() -> None:
    img = texture_image(60, 60)
    hole = np.zeros((60, 60), bool)
    hole[20:40, 20:40] = True
    drifted = img + 0.15
    fixed = match_colour(drifted, img, hole)
    assert abs((fixed[hole] - img[hole]).mean()) < 0.02
    assert np.array_equal(match_colour(img, img, hole), img)


def test_errors_are_clear() -> None:
    img = texture_image(40, 40)
    with pytest.raises(InferenceError, match="empty"):
        inpaint_image(img, np.zeros((40, 40), np.float32))
    with pytest.raises(InferenceError, match="same size"):
        inpaint_image(img, np.ones((30, 40), np.float32))
    with pytest.raises(InferenceError, match="Unknown inpainting engine"):
        inpaint_image(img, np.ones((40, 40), np.float32), engine="magic")


def test_task_returns_fill_layer_mask_and_recipe_facts() -> None:
    img = texture_image(64, 80)
    mask = np.zeros((64, 80), np.float32)
    mask[20:40, 20:50] = 0.6  # soft: carried by the layer's mask, not baked into the fill
    res = run_task(Request(task="inpaint", image=img, mask=mask, params={"engine": "telea"}, seed=7),
                   lambda _p: None, CancelToken())
    assert res.info["engine"] == "telea" and res.info["seed"] == 7
    assert res.mask is not None and res.mask.shape == mask.shape
    assert np.allclose(res.mask[20:40, 20:50], 0.6)
    hard = inpaint_image(img, (mask > 0).astype(np.float32), engine="telea")
    assert np.array_equal(res.image, hard)
