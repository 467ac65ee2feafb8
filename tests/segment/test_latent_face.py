"""`lucid latent-edit` without --eyes/--mouth aligns on the detected face (tiny random generator: plumbing;
the points themselves are checked against hand marks in test_person_and_faces)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from mp_helpers import SHARED_DATA, WOMAN, model_file

pytest.importorskip("torch")

from editor.cli import main
from editor.infer.latent.loaders import save_rosinality
from tests.latent.conftest import make_tiny


@pytest.fixture(scope="module")
def generator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "tiny.pt"
    save_rosinality(make_tiny(seed=4), path)
    return path


def test_latent_edit_uses_the_detected_face(tmp_path: Path, generator: Path, capsys) -> None:
    from PIL import Image

    model_file("mediapipe-face-mesh", "face_mesh.safetensors")
    out = tmp_path / "out.png"
    args = ["latent-edit", str(SHARED_DATA / WOMAN), "--generator", str(generator), "--steps", "2"]
    assert main([*args, "--edit", "pca0=2", "-o", str(out)]) == 0
    m = re.search(r"face found: eyes (\d+),(\d+) (\d+),(\d+)\s+mouth (\d+),(\d+)", capsys.readouterr().err)
    assert m is not None
    x1, y1, x2, y2, mx, my = (int(v) for v in m.groups())
    assert abs(x1 - 77) <= 6 and abs(y1 - 102) <= 6 and abs(x2 - 140) <= 6 and abs(y2 - 92) <= 6
    assert abs(mx - 122) <= 6 and abs(my - 169) <= 6
    before = np.asarray(Image.open(SHARED_DATA / WOMAN).convert("RGB"))
    after = np.asarray(Image.open(out).convert("RGB"))
    ys, xs = np.nonzero(np.any(before != after, axis=-1))
    assert xs.size > 100
    assert 10 < np.median(xs) < 210 and 40 < np.median(ys) < 230  # the edit sits on the face


def test_latent_edit_without_a_face_says_so(tmp_path: Path, generator: Path, capsys) -> None:
    model_file("mediapipe-face-mesh", "face_mesh.safetensors")
    out = tmp_path / "out.png"
    butterfly = SHARED_DATA / "sr/Set5/x4/img_003_SRF_4_HR.png"
    assert main(["latent-edit", str(butterfly), "--generator", str(generator), "-o", str(out)]) == 1
    assert "No face was found" in capsys.readouterr().err
    assert not out.exists()
    assert (
        main(["latent-edit", str(butterfly), "--generator", str(generator), "--mouth", "1,2", "-o", str(out)])
        == 1
    )
