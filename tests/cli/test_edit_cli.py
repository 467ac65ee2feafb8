"""`lucid edit`: the issue's bar on real files — exposure doubles linear light in a 16-bit PNG, neutral
settings are bit-identical, --crop and --rotate equal numpy, an .ora flattens to the PNG's pixels, presets."""

from __future__ import annotations

import json

import numpy as np
import pytest

from editor.cli import main
from editor.core.adjust.layer import AdjustmentLayer
from editor.io.images import load_image
from editor.io.ora import load_project
from editor.io.png16 import encode_png16

RNG = np.random.default_rng(1515)
LOOK = ["--exposure", "0.6", "--contrast", "25", "--curve", "0:0,0.3:0.24,0.7:0.8,1:1",
        "--temperature", "5200",
        "--tint", "8", "--saturation", "15", "--vibrance", "20", "--levels", "0.02,1.1,0.97",
        "--highlights", "-30", "--shadows", "25"]


@pytest.fixture
def png16(tmp_path):
    px = RNG.integers(0, 65536, (60, 80, 4), dtype=np.uint16)
    px[..., 3] = 65535
    path = tmp_path / "in16.png"
    path.write_bytes(encode_png16(px))
    return path, px


def decode(x: np.ndarray) -> np.ndarray:
    x = x / 65535.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def test_exposure_one_doubles_linear_light_of_a_16bit_png(png16, tmp_path):
    src, px = png16
    assert main(["edit", str(src), "-o", str(tmp_path / "out.png"), "--exposure", "1"]) == 0
    out = load_image(tmp_path / "out.png").pixels
    assert out.dtype == np.uint16
    lin_in, lin_out = decode(px[..., :3]), decode(out[..., :3])
    ok = lin_in < 0.49
    assert ok.sum() > 5000
    assert np.abs(lin_out[ok] - 2 * lin_in[ok]).max() <= 8 / 65535


def test_neutral_settings_are_bit_identical(png16, tmp_path):
    src, px = png16
    args = ["--exposure", "0", "--contrast", "0", "--curve", "0:0,1:1", "--levels", "0,1,1", "--temperature",
            "6500", "--tint", "0", "--saturation", "0", "--vibrance", "0", "--straighten", "0"]
    assert main(["edit", str(src), "-o", str(tmp_path / "same.png"), *args]) == 0
    assert np.array_equal(load_image(tmp_path / "same.png").pixels, px)


def test_crop_and_rotate_equal_numpy(png16, tmp_path):
    src, px = png16
    assert main(["edit", str(src), "-o", str(tmp_path / "c.png"), "--crop", "7,5,40,30"]) == 0
    assert np.array_equal(load_image(tmp_path / "c.png").pixels, px[5:35, 7:47])
    assert main(["edit", str(src), "-o", str(tmp_path / "r.png"), "--rotate", "90"]) == 0
    assert np.array_equal(load_image(tmp_path / "r.png").pixels, np.rot90(px, -1))
    assert main(["edit", str(src), "-o", str(tmp_path / "f.png"), "--flip", "h", "--rotate", "270"]) == 0
    assert np.array_equal(load_image(tmp_path / "f.png").pixels, np.rot90(px, 1)[:, ::-1])


def test_ora_keeps_layers_and_flattens_to_the_png(png16, tmp_path):
    src, _ = png16
    geometry = ["--crop", "4,4,72,50", "--straighten", "2.5", "--long-edge", "64"]
    assert main(["edit", str(src), "-o", str(tmp_path / "o.png"), *geometry, *LOOK]) == 0
    assert main(["edit", str(src), "-o", str(tmp_path / "o.ora"), *geometry, *LOOK]) == 0
    doc = load_project(tmp_path / "o.ora")
    kinds = [x.adjustment for x in doc.layers if isinstance(x, AdjustmentLayer)]
    assert kinds == ["white_balance", "exposure", "contrast", "highlights_shadows", "levels", "curves",
                     "hue_saturation"]
    assert main(["flatten", str(tmp_path / "o.ora"), str(tmp_path / "flat.png")]) == 0
    a = load_image(tmp_path / "o.png").pixels.astype(int)
    b = load_image(tmp_path / "flat.png").pixels.astype(int)
    assert a.shape == b.shape and max(a.shape[:2]) == 64
    assert np.abs(a - b).max() <= 65535 // 255


def test_preset_file_equals_the_flags_and_flags_override(png16, tmp_path):
    src, _ = png16
    preset = tmp_path / "look.json"
    preset.write_text(json.dumps({"exposure": 0.6, "saturation": -50, "crop": [0, 0, 40, 40],
                                  "adjustments": [{"adjustment": "black_white", "params": {"red": 50},
                                                   "opacity": 0.5}]}))
    assert main(["edit", str(src), "-o", str(tmp_path / "p.png"), "--preset", str(preset),
                 "--saturation", "10"]) == 0
    flags = ["--exposure", "0.6", "--saturation", "10", "--crop", "0,0,40,40"]
    assert main(["edit", str(src), "-o", str(tmp_path / "f.ora"), *flags]) == 0
    doc = load_project(tmp_path / "f.ora")
    assert doc.width == 40
    out_p = load_image(tmp_path / "p.png").pixels
    assert out_p.shape == (40, 40, 4)
    sat = [x for x in doc.layers if isinstance(x, AdjustmentLayer) and x.adjustment == "hue_saturation"]
    assert sat[0].params["saturation"] == 10.0


def test_bad_input_is_one_line_and_writes_nothing(png16, tmp_path, capsys):
    src, _ = png16
    out = tmp_path / "x.png"
    assert main(["edit", str(src), "-o", str(out), "--crop", "70,50,40,40"]) == 1
    assert "not inside" in capsys.readouterr().err and not out.exists()
    bad = tmp_path / "bad.json"
    bad.write_text('{"exposur": 1}')
    assert main(["edit", str(src), "-o", str(out), "--preset", str(bad)]) == 1
    assert "exposur" in capsys.readouterr().err and not out.exists()
    assert main(["edit", str(src), "-o", str(src), "--exposure", "1"]) == 1
    assert "--overwrite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["edit", str(src), "-o", str(out), "--rotate", "45"])
