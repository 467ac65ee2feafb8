"""`lucid matte`: files in, RGBA (or composited) file out; bad input gives one clear error line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.cli import main

pytestmark = pytest.mark.usefixtures("matting_warm")


def _u8(arr: np.ndarray) -> np.ndarray:
    return np.clip(arr * 255 + 0.5, 0, 255).astype(np.uint8)


@pytest.fixture
def files(tmp_path: Path, plate_scene: dict) -> dict[str, Path]:
    alpha = plate_scene["alpha"]
    trimap = np.full(alpha.shape, 128, np.uint8)
    trimap[alpha > 0.999] = 250  # off-level greys snap to the nearest level
    trimap[alpha < 0.001] = 7
    paths = {
        "image": tmp_path / "photo.png",
        "plate": tmp_path / "plate.png",
        "trimap": tmp_path / "trimap.png",
        "small": tmp_path / "small.png",
        "broken": tmp_path / "broken.png",
    }
    Image.fromarray(_u8(plate_scene["photo"])).save(paths["image"])
    Image.fromarray(_u8(plate_scene["plate"])).save(paths["plate"])
    Image.fromarray(trimap).save(paths["trimap"])
    Image.fromarray(trimap[:-4]).save(paths["small"])
    paths["broken"].write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return paths


def test_trimap_to_rgba_png(files: dict[str, Path], tmp_path: Path, plate_scene: dict) -> None:
    out = tmp_path / "cut.png"
    assert main(["matte", str(files["image"]), "--trimap", str(files["trimap"]), "-o", str(out)]) == 0
    rgba = np.asarray(Image.open(out))
    assert rgba.shape == (*plate_scene["alpha"].shape, 4)
    assert np.abs(rgba[..., 3] / 255.0 - plate_scene["alpha"]).mean() < 0.02


def test_plate_with_background_colour_is_rgb(
    files: dict[str, Path], tmp_path: Path, plate_scene: dict
) -> None:
    out = tmp_path / "on_white.png"
    argv = [
        "matte",
        str(files["image"]),
        "--plate",
        str(files["plate"]),
        "-o",
        str(out),
        "--background",
        "#ffffff",
    ]
    assert main(argv) == 0
    rgb = np.asarray(Image.open(out).convert("RGBA"))
    assert np.all(rgb[..., 3] == 255)
    assert np.all(rgb[2, 2, :3] == 255)  # far from the subject: the new white background
    assert abs(int(rgb[50, 60, 0]) - 217) <= 8  # subject centre keeps its red (0.85)


def test_image_file_as_background(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "on_plate.png"
    argv = [
        "matte",
        str(files["image"]),
        "--trimap",
        str(files["trimap"]),
        "-o",
        str(out),
        "--engine",
        "lkm",
        "--background",
        str(files["plate"]),
    ]
    assert main(argv) == 0
    assert Image.open(out).size == Image.open(files["image"]).size


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trimap", "{small}"], "same size"),
        (["--plate", "{small}"], "same size"),
        (["--trimap", "{broken}"], "Cannot read the trimap"),
        (["--trimap", "{missing}"], "does not exist"),
        (["--trimap", "{trimap}", "--background", "not-a-colour"], "not a colour"),
    ],
)
def test_bad_input_is_one_clear_line(files: dict[str, Path], tmp_path: Path, capsys, args, message) -> None:
    names = {k: str(v) for k, v in files.items()} | {"missing": str(tmp_path / "nope.png")}
    out = tmp_path / "out.png"
    code = main(["matte", str(files["image"]), *[a.format(**names) for a in args], "-o", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith("lucid: error: ") and message in err[0]
    assert not out.exists()


def test_trimap_and_plate_are_exclusive(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "matte",
                str(files["image"]),
                "--trimap",
                str(files["trimap"]),
                "--plate",
                str(files["plate"]),
                "-o",
                str(tmp_path / "x.png"),
            ]
        )
    assert exc.value.code == 2
