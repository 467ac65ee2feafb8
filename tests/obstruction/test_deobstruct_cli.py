"""`lucid deobstruct`: files in, background (and layers) out; user errors are one line and exit 1."""

from __future__ import annotations

import numpy as np
from PIL import Image

from editor.cli import main


def _save(frames, folder):
    paths = []
    for k, f in enumerate(frames):
        p = folder / f"f{k}.png"
        Image.fromarray((np.clip(f, 0, 1) * 255 + 0.5).astype(np.uint8)).save(p)
        paths.append(str(p))
    return paths


def test_cli_writes_background_and_layers(tmp_path, fence, capsys):
    paths = _save(fence.frames[1:4], tmp_path)  # 3 frames, reference = the middle one
    out, layers = tmp_path / "clean.png", tmp_path / "layers"
    code = main(
        ["deobstruct", *paths, "-o", str(out), "--kind", "fence", "--reference", "2", "--layers", str(layers)]
    )
    assert code == 0
    assert "kind fence" in capsys.readouterr().out
    clean = np.asarray(Image.open(out).convert("RGB")).astype(np.float32) / 255
    ref = np.asarray(Image.open(paths[1]).convert("RGB")).astype(np.float32) / 255
    bg = fence.background
    err = lambda a: float(np.mean((a[4:-4, 4:-4] - bg[4:-4, 4:-4]) ** 2))  # noqa: E731
    assert err(clean) < err(ref) / 2
    obstruction = Image.open(layers / "obstruction.png")
    assert obstruction.mode == "RGBA" and (layers / "background.png").exists()
    alpha = np.asarray(obstruction)[..., 3]
    assert 0 < (alpha > 0).mean() < 0.8


def test_cli_refuses_frames_of_different_sizes(tmp_path, fence, capsys):
    paths = _save(fence.frames[:3], tmp_path)
    Image.fromarray(np.zeros((50, 70, 3), np.uint8)).save(paths[2])
    code = main(["deobstruct", *paths, "-o", str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("lucid: error: all frames must have the same size") and err.count("\n") == 1
    assert not (tmp_path / "o.png").exists()


def test_cli_refuses_a_reference_outside_the_burst(tmp_path, fence, capsys):
    paths = _save(fence.frames[:3], tmp_path)
    assert main(["deobstruct", *paths, "-o", str(tmp_path / "o.png"), "--reference", "4"]) == 1
    assert "--reference must be between 1 and 3" in capsys.readouterr().err
