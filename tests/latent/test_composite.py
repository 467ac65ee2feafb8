"""FFHQ alignment from eyes and mouth, the inverse warp, and the composite (outside the mask the photo
is bit-identical)."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.errors import LucidError
from editor.infer.latent.align import align_face, alignment_for, face_quad, warp_back
from editor.infer.latent.composite import colour_match, composite, face_mask
from editor.infer.latent.generator import CropSpec
from editor.infer.latent.session import LatentSession
from tests.latent.conftest import make_tiny


def test_quad_follows_the_ffhq_formula_for_an_upright_face() -> None:
    # Eyes 40 px apart, mouth 48 px below their midpoint: |x| = max(2·40, 1.8·48) = 86.4.
    quad = face_quad((80, 100, 120, 100), (100, 148))
    c = np.array([100, 100 + 0.1 * 48])
    corners = np.array([(-1, -1), (-1, 1), (1, 1), (1, -1)]) * 86.4
    np.testing.assert_allclose(quad, c + corners)
    # Clicking the eyes in the other order gives the same square; a tighter CropSpec shrinks it in place.
    np.testing.assert_allclose(face_quad((120, 100, 80, 100), (100, 148)), quad)
    tight = face_quad((80, 100, 120, 100), (100, 148), CropSpec(scale=0.5, shift=0.1))
    np.testing.assert_allclose(tight.mean(0), quad.mean(0))
    np.testing.assert_allclose(np.ptp(tight[:, 0]), 0.5 * np.ptp(quad[:, 0]))
    with pytest.raises(LucidError):
        face_quad((100, 100, 100.5, 100), (100, 101))


def test_rotated_face_crop_and_warp_back_agree() -> None:
    rng = np.random.default_rng(0)
    photo = cv_smooth(rng.random((200, 240, 3)).astype(np.float32))
    eyes, mouth = (100, 80, 140, 95), (102, 135.5)  # a tilted face, mouth square to the eye line
    al = alignment_for(eyes, mouth, 64, CropSpec(scale=0.6))
    crop = align_face(photo, al)
    assert crop.shape == (64, 64, 3)
    # The crop undoes the tilt: the eyes land on one horizontal line.
    e = al.to_crop(al.eyes)
    assert abs(e[0, 1] - e[1, 1]) < 0.5
    back, (x0, y0, x1, y1) = warp_back(crop, al, photo.shape)
    inner, _ = warp_back(np.pad(np.ones((56, 56), np.float32), 4), al, photo.shape)
    sel = inner > 0.999
    assert sel.sum() > 500
    err = np.abs(back - photo[y0:y1, x0:x1])[sel]
    assert err.mean() < 0.03  # resampled twice, through a smooth image


def cv_smooth(img: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(img, (0, 0), 4)


def test_composite_leaves_pixels_outside_the_mask_bit_identical() -> None:
    rng = np.random.default_rng(3)
    photo = rng.random((120, 150, 4)).astype(np.float32)
    al = alignment_for((60, 50, 90, 52), (76, 85), 32)
    edited = rng.random((32, 32, 3)).astype(np.float32)
    out = composite(photo, edited, al)
    outside = out.mask == 0
    assert outside.sum() > 0.5 * outside.size and (~outside).sum() > 100
    assert np.array_equal(out.image[outside], photo[outside])
    assert np.array_equal(out.image[..., 3], photo[..., 3])  # alpha untouched everywhere
    assert not np.array_equal(out.image[~outside][:, :3], photo[~outside][:, :3])
    assert out.mask.max() == pytest.approx(1.0, abs=1e-3)
    # The user's own mask, in photo space, replaces the face ellipse.
    user = np.zeros(photo.shape[:2], np.float32)
    user[60:70, 70:80] = 1
    out2 = composite(photo, edited, al, user_mask=user)
    assert np.array_equal(out2.image[user == 0], photo[user == 0])
    assert not np.array_equal(out2.image[user == 1], photo[user == 1])


def test_face_mask_covers_the_face_and_fades() -> None:
    al = alignment_for((60, 50, 90, 50), (75, 85), 64)
    m = face_mask(al)
    eyes = al.to_crop(al.eyes).round().astype(int)
    mouth = al.to_crop(al.mouth)[0].round().astype(int)
    assert all(m[y, x] > 0.9 for x, y in [*eyes, mouth])
    assert m[0].max() == 0 and m[:, -1].max() == 0
    assert 0.05 < ((m > 0.01) & (m < 0.99)).mean() < 0.6  # a feathered edge, not a hard step


def test_colour_match_transfers_the_reconstruction_error() -> None:
    rng = np.random.default_rng(4)
    target = (0.3 + 0.4 * rng.random((32, 32, 3))).astype(np.float32)
    recon = np.clip(target * 0.8 + 0.15, 0, 1).astype(np.float32)  # the generator's colour is off
    mask = np.ones((32, 32), np.float32)
    fixed = colour_match(recon, recon, target, mask)
    assert np.abs(fixed - target).mean() < 0.25 * np.abs(recon - target).mean()


def test_session_apply_on_a_photo() -> None:
    gen = make_tiny(seed=3)
    rng = np.random.default_rng(5)
    photo = cv_smooth(rng.random((100, 120, 3)).astype(np.float32))
    s = LatentSession.from_photo(gen, photo, (50, 40, 75, 42), (62, 70))
    s.invert(steps=5, preview_every=0, init_candidates=2)
    s.add_default_directions(2, 2)
    out = s.apply({"sefa0": 2.0})
    outside = out.mask == 0
    assert np.array_equal(out.image[outside], photo[outside])
    # Pasting only the edit's change: no edit gives the photo back exactly, everywhere.
    assert np.array_equal(s.apply({}).image, photo)
    # Pasting the generated face itself changes the face even without an edit.
    replaced = s.apply({}, keep_detail=False)
    assert not np.array_equal(replaced.image, photo)
    assert np.array_equal(replaced.image[replaced.mask == 0], photo[replaced.mask == 0])
