"""The "latent" task (one-shot and the panel's invert → render → apply actions) and `lucid latent-edit`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from editor.cli import main
from editor.infer.api import CancelToken, InferenceError, Request, no_progress
from editor.infer.latent.loaders import save_rosinality
from editor.infer.tasks.latent import run
from tests.latent.conftest import make_tiny

EYES, MOUTH = [50.0, 40.0, 75.0, 42.0], [62.0, 70.0]


@pytest.fixture(scope="module")
def generator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "tiny.pt"
    save_rosinality(make_tiny(seed=4), path)
    return path


def _photo() -> np.ndarray:
    rng = np.random.default_rng(7)
    rgb = cv2.GaussianBlur(rng.random((100, 120, 3)).astype(np.float32), (0, 0), 3)
    return np.dstack([rgb, np.ones((100, 120), np.float32)])


def test_panel_actions_invert_render_apply(generator: Path) -> None:
    photo = _photo()
    params = {"generator": str(generator), "eyes": EYES, "mouth": MOUTH, "steps": 4, "n_sefa": 2, "n_pca": 2}
    inv = run(
        Request(task="latent", image=photo, params={**params, "action": "invert"}), no_progress, CancelToken()
    )
    sid = inv.info["session"]
    names = [d["name"] for d in inv.info["directions"]]
    assert names == ["sefa0", "sefa1", "pca0", "pca1"] and inv.images["crop"].shape == (32, 32, 3)
    prev = run(
        Request(task="latent", params={"action": "render", "session": sid, "edits": {"pca0": 2}, "size": 16}),
        no_progress,
        CancelToken(),
    )
    assert prev.images["crop"].shape == (16, 16, 3)
    out = run(
        Request(task="latent", image=photo, params={"action": "apply", "session": sid, "edits": {"pca0": 2}}),
        no_progress,
        CancelToken(),
    )
    assert out.image.shape == photo.shape and out.mask is not None
    assert np.array_equal(out.image[out.mask == 0], photo[out.mask == 0])
    assert out.info["recipe"]["amounts"] == {"pca0": 2.0} and out.info["recipe"]["generator_sha256"]
    run(Request(task="latent", params={"action": "close", "session": sid}), no_progress, CancelToken())
    with pytest.raises(InferenceError, match="expired"):
        run(Request(task="latent", params={"action": "render", "session": sid}), no_progress, CancelToken())


def test_one_shot_with_finetuning_returns_the_delta(generator: Path) -> None:
    photo = _photo()
    params = {
        "generator": str(generator),
        "eyes": EYES,
        "mouth": MOUTH,
        "steps": 3,
        "finetune": 2,
        "edits": {"sefa1": -1.0},
        "n_sefa": 2,
        "n_pca": 0,
    }
    out = run(Request(task="latent", image=photo, params=params), no_progress, CancelToken())
    assert out.info["weights_delta"] and out.info["recipe"]["finetuned"]
    with pytest.raises(InferenceError, match="Unknown edit direction"):
        run(
            Request(task="latent", image=photo, params={**params, "edits": {"smile": 1}}),
            no_progress,
            CancelToken(),
        )
    with pytest.raises(InferenceError, match="eyes"):
        run(
            Request(task="latent", image=photo, params={**params, "eyes": [1, 2]}), no_progress, CancelToken()
        )


def test_cli_latent_edit(tmp_path: Path, generator: Path) -> None:
    src = tmp_path / "face.png"
    photo8 = (_photo()[..., :3] * 255).round().astype(np.uint8)
    cv2.imwrite(str(src), photo8[..., ::-1])
    boundary = tmp_path / "smile.npy"
    np.save(boundary, np.random.default_rng(0).normal(size=(1, 16)))
    out = tmp_path / "out.png"
    rc = main(
        [
            "latent-edit",
            str(src),
            "--generator",
            str(generator),
            "--eyes",
            "50,40,75,42",
            "--mouth",
            "62,70",
            "--direction",
            str(boundary),
            "--edit",
            "smile=2",
            "--edit",
            "pca0=-1",
            "--steps",
            "3",
            "--crop-out",
            str(tmp_path / "crop.png"),
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    result = cv2.imread(str(out))[..., ::-1]
    assert result.shape == photo8.shape and (tmp_path / "crop.png").is_file()
    changed = np.any(result != photo8, axis=-1)
    assert changed.sum() > 50
    ys, xs = np.nonzero(changed)
    assert xs.min() > 20 and xs.max() < 105 and ys.min() > 5  # only around the face
