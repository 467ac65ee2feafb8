"""Hostile OpenRaster files: a member named as the ICC profile must be one; memory is bounded by the
document budget, checked from the headers before decoding; layers naming one PNG share its buffer."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

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


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (w, h), (1, 2, 3, 255)).save(buf, "PNG")
    return buf.getvalue()
