"""`lucid inpaint`: success writes a file changed only under the mask; bad input → one error line, exit 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import texture_image
from PIL import Image

from editor.cli import main


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    img = (texture_image(64, 80) * 255 + 0.5).astype(np.uint8)
    mask = np.zeros((64, 80), np.uint8)
    mask[20:40, 25:50] = 255
    paths = {"image": tmp_path / "in.png", "mask": tmp_path / "mask.png", "empty": tmp_path / "empty.png",
             "small": tmp_path / "small.png", "junk": tmp_path / "junk.png"}
    Image.fromarray(img).save(paths["image"])
    Image.fromarray(mask).save(paths["mask"])
    Image.fromarray(np.zeros((64, 80), np.uint8)).save(paths["empty"])
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(paths["small"])
    paths["junk"].write_bytes(b"not an image")
    return paths


@pytest.mark.parametrize("engine", ["patchmatch", "telea"])
def test_inpaint_writes_output_changed_only_in_mask(files, tmp_path: Path, capsys, engine: str) -> None:
    out = tmp_path / "out.png"
    rc = main(["inpaint", str(files["image"]), "--mask", str(files["mask"]), "-o", str(out),
               "--engine", engine, "--seed", "2"])
    assert rc == 0
    assert "wrote" in capsys.readouterr().out
    src = np.asarray(Image.open(files["image"]))
    res = np.asarray(Image.open(out))
    mask = np.asarray(Image.open(files["mask"])) > 0
    assert res.shape == src.shape
    near = np.zeros_like(mask)
    near[18:42, 23:52] = True  # mask plus the 1-pixel feather
    assert np.array_equal(res[~near], src[~near])
    assert not np.array_equal(res[mask], src[mask])


@pytest.mark.parametrize(("mask_key", "message"), [
    ("empty", "mask is empty"),
    ("small", "same size"),
    ("junk", "junk.png"),
])
def test_bad_masks_give_one_clear_line(files, tmp_path: Path, capsys, mask_key: str, message: str) -> None:
    rc = main(["inpaint", str(files["image"]), "--mask", str(files[mask_key]), "-o", str(tmp_path / "o.png")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1
    assert len(err) == 1 and err[0].startswith("lucid: error:") and message in err[0]
    assert not (tmp_path / "o.png").exists()


def test_missing_image_and_missing_model(files, tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "o.png")
    rc = main(["inpaint", str(tmp_path / "nope.png"), "--mask", str(files["mask"]), "-o", out])
    assert rc == 1 and "nope.png" in capsys.readouterr().err
    rc = main(["inpaint", str(files["image"]), "--mask", str(files["mask"]), "-o", str(tmp_path / "o.png"),
               "--engine", "lama", "--models-dir", str(tmp_path / "models")])
    err = capsys.readouterr().err
    assert rc == 1 and "not installed" in err and "lucid models fetch big-lama" in err
