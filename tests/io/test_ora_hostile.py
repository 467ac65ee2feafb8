"""Hostile OpenRaster files: a member named as the ICC profile must be one; memory is bounded by the
document budget, checked from the headers before decoding; layers naming one PNG share its buffer."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hostile_files import ora_with_layers, png_bytes
from PIL import ImageCms

from editor.core.document import Document
from editor.core.layers import PixelLayer
from editor.io.errors import ProjectError
from editor.io.ora import load_project, save_project


def rewrite(src: Path, dest: Path, change: dict[str, bytes | None]) -> Path:
    """Copy an .ora, replacing (or adding, or with None dropping) members; CRCs stay valid."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            if info.filename in change:
                continue
            zout.writestr(info, zin.read(info))
        for name, data in change.items():
            if data is not None:
                zout.writestr(name, data)
    return dest


@pytest.fixture
def project(tmp_path) -> Path:
    doc = Document(8, 6)
    doc.root.children.append(PixelLayer("a", np.full((6, 8, 4), 200, np.uint8)))
    doc.metadata.icc_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "p.ora"
    save_project(doc, path)
    return path


def _lucid_json(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("data/lucid/document.json"))


def test_real_icc_profile_is_kept(project):
    assert load_project(project).metadata.icc_profile[36:40] == b"acsp"


@pytest.mark.parametrize("member", ["stack.xml", "mergedimage.png", "data/lucid/fake.icc"])
def test_icc_member_must_be_an_icc_profile(project, tmp_path, member):
    meta = _lucid_json(project)
    meta["metadata"]["icc_profile"] = member
    change = {"data/lucid/document.json": json.dumps(meta).encode()}
    if member == "data/lucid/fake.icc":
        change[member] = b"\x00\x00\x02\x00acsp" + bytes(200)  # the right length, not a profile
    bad = rewrite(project, tmp_path / "bad.ora", change)
    with pytest.raises(ProjectError, match="not an ICC colour profile"):
        load_project(bad)


@pytest.fixture
def budget_mb(monkeypatch):
    monkeypatch.setenv("LUCID_MEMORY_BUDGET_MB", "256")


def test_tiny_file_huge_canvas_refused_from_headers(tmp_path, budget_mb):
    from editor.core.budget import BudgetExceeded

    one = {"data/a.png": png_bytes(64, 48)}
    path = ora_with_layers(tmp_path / "c.ora", 15800, 15800, ["data/a.png"], one)
    assert path.stat().st_size < 1000
    with pytest.raises(BudgetExceeded) as exc:
        load_project(path)
    msg = exc.value.message
    assert "15800×15800" in msg and "0.2 GB" in msg and "LUCID_MEMORY_BUDGET_MB" in msg and "\n" not in msg


def test_many_distinct_layers_refused_before_decoding(tmp_path, budget_mb, monkeypatch):
    from editor.core.budget import BudgetExceeded
    from editor.io import ora

    decoded = []
    monkeypatch.setattr(ora, "decode_image_bytes", lambda *a, **k: decoded.append(a) or None)
    members = {f"data/{i}.png": png_bytes(1000, 1000) for i in range(70)}  # 70 × 4 MB decoded
    path = ora_with_layers(tmp_path / "m.ora", 1000, 1000, list(members), members)
    with pytest.raises(BudgetExceeded, match="70 layers"):
        load_project(path)
    assert decoded == []


def test_layers_naming_one_png_share_one_buffer_until_edited(tmp_path, budget_mb):
    from editor.core.geometry import Rect

    one = {"data/a.png": png_bytes(1000, 1000)}
    path = ora_with_layers(tmp_path / "s.ora", 1000, 1000, ["data/a.png"] * 300, one)
    doc = load_project(path)  # 300 × 4 MB = 1.2 GB unshared: over the 256 MB budget
    layers = doc.all_layers()
    assert len(layers) == 300 and all(layer.pixels is layers[0].pixels for layer in layers)
    doc.paste(layers[5], "pixels", Rect(0, 0, 2, 2), np.zeros((2, 2, 4), np.uint8), "paint")
    assert layers[5].pixels[0, 0, 0] == 0 and layers[4].pixels[0, 0, 0] == 1  # copy-on-write
    assert layers[5].pixels is not layers[4].pixels and layers[4].pixels is layers[6].pixels
    doc.history.undo()
    assert layers[5].pixels[0, 0, 0] == 1


def test_budget_raised_by_env_opens_it(tmp_path, monkeypatch):
    path = ora_with_layers(tmp_path / "c.ora", 3000, 3000, ["data/a.png"], {"data/a.png": png_bytes(64, 48)})
    monkeypatch.setenv("LUCID_MEMORY_BUDGET_MB", "256")
    with pytest.raises(Exception, match="budget"):
        load_project(path)
    monkeypatch.setenv("LUCID_MEMORY_BUDGET_MB", "1024")
    assert load_project(path).width == 3000
