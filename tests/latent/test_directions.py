"""Edit directions: SeFa orthonormal, GANSpace, InterFaceGAN boundary import, JSON round trip, and the
session's sliders (a move changes the face; zero gives the inversion back)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from editor.core.errors import LucidError
from editor.infer.latent import directions as dirs
from editor.infer.latent.generator import to_image
from editor.infer.latent.session import LatentSession
from tests.latent.conftest import make_tiny


def test_sefa_directions_are_orthonormal_eigenvectors() -> None:
    gen = make_tiny()
    found = dirs.sefa(gen, k=8)
    v = np.stack([d.vector for d in found]).astype(np.float64)
    np.testing.assert_allclose(v @ v.T, np.eye(8), atol=1e-5)
    # Each is an eigenvector of AᵀA of the row-normalised modulation weights, in decreasing order.
    a = torch.cat([w.double() for w in gen.style_weights()])
    a = (a / a.norm(dim=1, keepdim=True)).numpy()
    m = a.T @ a
    vals = [float(x @ m @ x) for x in v]
    assert vals == sorted(vals, reverse=True)
    np.testing.assert_allclose(m @ v[0], vals[0] * v[0], atol=1e-6 * vals[0])
    assert all(d.scale > 0 for d in found)


def test_ganspace_components_follow_the_spread_of_w() -> None:
    gen = make_tiny()
    found = dirs.ganspace(gen, k=4, n=800)
    v = np.stack([d.vector for d in found]).astype(np.float64)
    np.testing.assert_allclose(v @ v.T, np.eye(4), atol=1e-5)
    stds = [d.scale for d in found]
    assert stds == sorted(stds, reverse=True) and stds[0] > stds[-1]
    # The first component explains more variance of fresh samples than a random unit direction.
    with torch.no_grad():
        w = gen.mapping(gen.sample_latent(800, seed=99)).double().numpy()
    w -= w.mean(0)
    rnd = np.random.default_rng(0).normal(size=w.shape[1])
    rnd /= np.linalg.norm(rnd)
    assert np.std(w @ v[0]) > 1.5 * np.std(w @ rnd)


def test_boundary_import_z_and_w(tmp_path: Path) -> None:
    gen = make_tiny()
    normal = np.random.default_rng(1).normal(size=(1, gen.latent_dim))
    normal /= np.linalg.norm(normal)
    np.save(tmp_path / "smile_w_boundary.npy", normal)
    np.save(tmp_path / "boundary_Smiling.npy", normal.astype(np.float32))
    w_dir = dirs.boundary(gen, tmp_path / "smile_w_boundary.npy")
    np.testing.assert_allclose(w_dir.vector, normal[0], atol=1e-6)
    assert w_dir.scale == 1.0 and "W" in w_dir.source
    z_dir = dirs.boundary(gen, tmp_path / "boundary_Smiling.npy", name="smile")
    assert z_dir.name == "smile" and "Z" in z_dir.source
    assert np.linalg.norm(z_dir.vector) == pytest.approx(1.0, abs=1e-5)
    assert abs(float(np.dot(z_dir.vector, normal[0]))) < 0.999  # carried through the mapping, not copied
    np.save(tmp_path / "wrong.npy", np.zeros((1, 512)))
    with pytest.raises(LucidError, match="512 dimensions"):
        dirs.boundary(gen, tmp_path / "wrong.npy")


def test_real_interfacegan_files_are_read(shared_data: Path) -> None:
    folder = shared_data / "weights" / "interfacegan_boundaries" / "interfacegan_pp_stylegan2_ffhq_z"
    files = sorted(folder.glob("boundary_*.npy"))
    if not files:
        pytest.skip("InterFaceGAN boundaries not present")
    gen = make_tiny(dim=512, top=16)
    d = dirs.boundary(gen, files[0])
    assert d.vector.shape == (512,) and np.isfinite(d.vector).all()


def test_directions_json_round_trip(tmp_path: Path) -> None:
    gen = make_tiny()
    found = dirs.sefa(gen, k=3, layers=(0, 4))
    dirs.save_directions(found, tmp_path / "d.json")
    back = dirs.load_directions(tmp_path / "d.json")
    assert [d.name for d in back] == ["sefa0", "sefa1", "sefa2"]
    assert back[0].layers == (0, 4) and back[0].scale == pytest.approx(found[0].scale)
    np.testing.assert_allclose(back[1].vector, found[1].vector, atol=1e-7)


@pytest.fixture(scope="module")
def session() -> LatentSession:
    gen = make_tiny(seed=2)
    with torch.no_grad():
        w = gen.mapping(gen.sample_latent(1, seed=5))
        crop = to_image(gen.synthesis(w[:, None]))
    s = LatentSession(gen, crop)
    s.invert(steps=20, preview_every=0)
    s.add_default_directions(n_sefa=3, n_pca=3)
    return s


def test_slider_moves_change_the_face_and_zero_gives_the_inversion(session: LatentSession) -> None:
    base = to_image(session.inversion.render())
    assert np.array_equal(session.render({}), base)
    assert np.array_equal(session.render({"sefa0": 0.0, "pca1": 0.0}), base)
    moved = session.render({"sefa0": 2.0})
    assert np.abs(moved - base).mean() > 0.01
    further = session.render({"sefa0": 4.0})
    assert np.abs(further - base).mean() > np.abs(moved - base).mean()
    assert session.render({"pca0": -2.0}, size=16).shape == (16, 16, 3)
    with pytest.raises(LucidError, match="Unknown edit direction"):
        session.render({"nope": 1.0})


def test_recipe_holds_latent_amounts_and_generator(session: LatentSession) -> None:
    r = session.recipe({"sefa0": 1.5, "pca2": 0.0})
    assert r["amounts"] == {"sefa0": 1.5}
    assert np.array(r["latent"]).shape == (session.gen.num_ws, session.gen.latent_dim)
    assert r["directions"][0]["name"] == "sefa0" and r["inversion"]["steps"] == 20
