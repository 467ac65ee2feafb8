"""Helpers for the batch tests: tiny photos in a nested folder, a random-weight compact upscaler in a
temporary models folder (plumbing, not quality), and the single-file command's output to compare with."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.cli import main


@pytest.fixture(scope="session")
def sr_model(tmp_path_factory) -> tuple[Path, str]:
    """(models folder, model id) of a seeded random-weight SRVGGNetCompact imported into a temp store."""
    from editor.infer.store import ModelStore
    from editor.selftest import _random_compact_model

    root = tmp_path_factory.mktemp("models")
    info = ModelStore(root / "store").import_file(_random_compact_model(root / "src", feat=8, convs=2))
    return root / "store", info.id


def make_photos(folder: Path, n: int, *, size: tuple[int, int] = (24, 32), seed: int = 0) -> list[str]:
    """`n` small smooth-ish photos (JPEG and PNG) in `folder` and `folder/sub`; their relative names."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[:h, :w]
    names = []
    for i in range(n):
        base = np.stack([xx * 255 / w, yy * 255 / h, np.full_like(xx, 40 * (i % 6))], -1)
        img = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
        rel = f"{'sub/' if i % 3 == 2 else ''}photo{i:03d}.{'png' if i % 4 == 3 else 'jpg'}"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / rel, quality=90)
        names.append(rel)
    return names


def upscale_options(sr_model) -> list[str]:
    # --device cpu: the batch's main process then needs no torch import to resolve "auto"
    return ["--model", sr_model[1], "--models-dir", str(sr_model[0]), "--device", "cpu"]


def single_file(task: str, src: Path, out: Path, options: list[str]) -> bytes:
    """Run the single-file command on `src` and return the bytes it wrote."""
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [task, str(src), str(out), *options] if task == "convert" else [task, str(src), "-o", str(out),
                                                                           *options]
    assert main(argv) == 0
    return out.read_bytes()


def manifest(out_dir: Path) -> dict:
    return json.loads((out_dir / ".lucid-batch.json").read_text())


def leftovers(folder: Path) -> list[str]:
    """Temp files an interrupted atomic write would leave behind."""
    return sorted(str(p) for p in folder.rglob("*") if p.name.endswith(".tmp"))


def env_with_repo() -> dict[str, str]:
    repo = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
    return env
