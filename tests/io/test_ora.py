"""OpenRaster projects: full round trip, the file layout other programs expect, hostile files."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.core.compositor import composite
from editor.core.document import Document
from editor.core.layers import GroupLayer, PixelLayer, ResultLayer
from editor.core.pixels import from_float, to_float
from editor.io import ora
from editor.io.errors import ProjectError
from editor.io.images import decode_image_bytes
from editor.io.ora import load_project, open_any, save_project


def _same_tree(a: Document, b: Document) -> None:
    la, lb = a.all_layers(), b.all_layers()
    assert [x.id for x in la] == [y.id for y in lb]
    for x, y in zip(la, lb, strict=True):
        assert (x.kind, x.name, x.visible, x.locked, x.offset, x.blend_mode) == \
            (y.kind, y.name, y.visible, y.locked, y.offset, y.blend_mode)
        assert abs(x.opacity - y.opacity) < 1e-6
        assert [c.id for c in getattr(x, "children", [])] == [c.id for c in getattr(y, "children", [])]
        if isinstance(x, GroupLayer):
            assert x.isolated == y.isolated
        if isinstance(x, PixelLayer):
            assert y.pixels.dtype == x.pixels.dtype
            np.testing.assert_array_equal(x.pixels, y.pixels)
            assert (x.mask is None) == (y.mask is None)
            if x.mask is not None:
                assert np.abs(x.mask - y.mask).max() <= 0.5 / 65535 + 1e-7
        if isinstance(x, ResultLayer):
            assert x.recipe == y.recipe


@pytest.mark.parametrize("depth", [8, 16])
def test_round_trip(tmp_path, depth, doc8, doc16):
    doc = doc8 if depth == 8 else doc16
    path = tmp_path / "p.ora"
    save_project(doc, path)
    back = load_project(path)
    assert (back.width, back.height, back.depth) == (doc.width, doc.height, depth)
    _same_tree(doc, back)
    assert back.active_layer.id == doc.active_layer.id
    assert np.abs(back.selection - doc.selection).max() <= 0.5 / 65535 + 1e-7
    assert not back.modified and back.path == path
    np.testing.assert_allclose(composite(back), composite(doc), atol=2 / 65535)  # mask stored in 16 bits


def test_zip_layout(tmp_path, doc8):
    doc = Document(600, 300)
    doc.root.children.append(PixelLayer("big", np.full((300, 600, 4), 200, np.uint8)))
    doc.root.children += doc8.layers
    path = tmp_path / "p.ora"
    save_project(doc, path)
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == b"image/openraster"
        assert path.read_bytes()[30:38] == b"mimetype"  # name right after the first local header
        thumb = Image.open(io.BytesIO(zf.read("Thumbnails/thumbnail.png")))
        assert max(thumb.size) <= 256 and thumb.size == (256, 128)
        merged = decode_image_bytes(zf.read("mergedimage.png"), "mergedimage.png").pixels
        np.testing.assert_array_equal(merged, from_float(composite(doc), np.uint8))
        stack = zf.read("stack.xml").decode()
        assert '<image version="0.0.6" w="600" h="300">' in stack
        assert "inner &lt;&amp;&gt; ünï" in stack


def test_masked_layer_png_shows_mask_to_other_programs(tmp_path, doc8):
    save_project(doc8, tmp_path / "p.ora")
    result = doc8.layers[-1]
    with zipfile.ZipFile(tmp_path / "p.ora") as zf:
        seen = decode_image_bytes(zf.read(f"data/{result.id}.png"), "x.png").pixels
        raw = decode_image_bytes(zf.read(f"data/lucid/layers/{result.id}.png"), "y.png").pixels
        mask = decode_image_bytes(zf.read(f"data/lucid/masks/{result.id}.png"), "m.png")
        meta = json.loads(zf.read("data/lucid/document.json"))
    assert mask.depth == 16
    np.testing.assert_array_equal(raw, result.pixels)
    np.testing.assert_array_equal(seen[..., :3], result.pixels[..., :3])
    expected_alpha = from_float(to_float(result.pixels[..., 3]) * result.mask, np.uint8)
    assert np.abs(seen[..., 3].astype(int) - expected_alpha).max() <= 1
    rec = next(r for r in meta["layers"] if r["id"] == result.id)
    assert rec["kind"] == "result" and rec["recipe"]["task"] == "inpaint"


def _write_zip(path: Path, members: list[tuple[str, bytes]], *, mimetype: bool = True) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        if mimetype:
            zf.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster", compress_type=zipfile.ZIP_STORED)
        for name, data in members:
            zf.writestr(name, data)


def _png(rgba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    return buf.getvalue()


def test_foreign_ora_opens_as_plain_layers(tmp_path):
    """A GIMP/Krita-style file: no Lucid extras, a nested stack, top layer listed first."""
    red = np.zeros((4, 5, 4), np.uint8)
    red[..., 0] = red[..., 3] = 255
    blue = np.zeros((2, 3, 4), np.uint8)
    blue[..., 2] = blue[..., 3] = 255
    stack = b"""<?xml version="1.0"?><image w="10" h="8"><stack>
      <stack name="Group" opacity="0.5" isolation="isolate">
        <layer name="top" src="data/b.png" x="2" y="1" composite-op="svg:screen"/>
      </stack>
      <layer name="bottom" src="data/a.png" visibility="hidden" composite-op="krita:weird"/>
    </stack></image>"""
    path = tmp_path / "gimp.ora"
    _write_zip(path, [("stack.xml", stack), ("data/a.png", _png(red)), ("data/b.png", _png(blue))])
    doc = open_any(path)
    assert [layer.name for layer in doc.layers] == ["bottom", "Group"]
    bottom, group = doc.layers
    assert not bottom.visible and bottom.blend_mode.value == "svg:src-over"  # unknown op → normal
    assert isinstance(group, GroupLayer) and group.isolated and group.opacity == 0.5
    top = group.children[0]
    assert top.offset == (2, 1) and top.blend_mode.value == "svg:screen" and top.kind == "pixel"
    np.testing.assert_array_equal(top.pixels, blue)


def test_stale_lucid_extras_are_ignored(tmp_path, doc8):
    """Another program added a layer: the Lucid records no longer line up, so plain ORA is used."""
    path = tmp_path / "p.ora"
    save_project(doc8, path)
    with zipfile.ZipFile(path) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist() if i.filename != "mimetype"]
    members = [(n, d.replace(b"<stack>", b'<stack><layer name="new" src="data/new.png"/>', 1)
                if n == "stack.xml" else d) for n, d in members]
    members.append(("data/new.png", _png(np.zeros((2, 2, 4), np.uint8))))
    edited = tmp_path / "edited.ora"
    _write_zip(edited, members)
    doc = load_project(edited)
    assert [layer.name for layer in doc.layers][-1] == "new"
    assert all(layer.kind in ("pixel", "group") for layer in doc.all_layers())


def test_failed_save_keeps_old_project(tmp_path, doc8, monkeypatch):
    path = tmp_path / "p.ora"
    save_project(doc8, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ora.PngEncoder, "encode", boom)
    with pytest.raises(ProjectError, match="No space left"):
        save_project(doc8, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.ora"]


def _billion_laughs() -> bytes:
    lol = '<!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    body = '<image w="10" h="10"><stack><layer name="&lol9;" src="data/a.png"/></stack></image>'
    return (lol + "]>" + body).encode()


HOSTILE = {
    "traversal": lambda: [("../evil.png", b"x"), ("stack.xml", b"<image w='1' h='1'><stack/></image>")],
    "absolute": lambda: [("/tmp/evil.png", b"x"), ("stack.xml", b"<image w='1' h='1'><stack/></image>")],
    "drive": lambda: [("C:/evil.png", b"x"), ("stack.xml", b"<image w='1' h='1'><stack/></image>")],
    "billion_laughs": lambda: [("stack.xml", _billion_laughs())],
    "external_entity": lambda: [("stack.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                                 b'"file:///etc/passwd">]><image w="1" h="1"><stack>&e;</stack></image>')],
    "missing_stack": lambda: [("data/a.png", _png(np.zeros((2, 2, 4), np.uint8)))],
    "missing_layer_png": lambda: [("stack.xml", b'<image w="4" h="4"><stack><layer src="data/a.png"/>'
                                   b"</stack></image>")],
    "huge_canvas": lambda: [("stack.xml", b'<image w="100000" h="100000"><stack/></image>')],
    "bad_size_attr": lambda: [("stack.xml", b'<image w="ten" h="4"><stack/></image>')],
    "zip_bomb": lambda: [("stack.xml", b'<image w="4" h="4"><stack/></image>'),
                         ("data/bomb.png", b"\x00" * (64 << 20))],
    "damaged_layer": lambda: [("stack.xml", b'<image w="4" h="4"><stack><layer src="data/a.png"/>'
                               b"</stack></image>"), ("data/a.png", b"\x89PNG\r\n\x1a\nnot really")],
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_refused(tmp_path, case):
    work = tmp_path / "work"
    work.mkdir()
    path = work / f"{case}.ora"
    _write_zip(path, HOSTILE[case]())
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert info.value.message.startswith(f"{case}.ora: ")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing extracted anywhere
    assert not Path("/tmp/evil.png").exists()


def test_wrong_mask_size_refused(tmp_path, doc8):
    path = tmp_path / "p.ora"
    save_project(doc8, path)
    result = doc8.layers[-1]
    with zipfile.ZipFile(path) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist() if i.filename != "mimetype"]
    small = _png(np.zeros((3, 3, 4), np.uint8))
    members = [(n, small if n == f"data/lucid/masks/{result.id}.png" else d) for n, d in members]
    bad = tmp_path / "bad.ora"
    _write_zip(bad, members)
    with pytest.raises(ProjectError, match="3×3"):
        load_project(bad)


def test_not_a_zip_and_wrong_mimetype(tmp_path):
    path = tmp_path / "x.ora"
    path.write_bytes(b"hello")
    with pytest.raises(ProjectError, match="not a valid zip"):
        load_project(path)
    _write_zip(path, [("stack.xml", b'<image w="4" h="4"><stack/></image>')], mimetype=False)
    with pytest.raises(ProjectError, match="mimetype"):
        load_project(path)
    with pytest.raises(ProjectError, match="not found"):
        load_project(tmp_path / "missing.ora")


def test_open_any_dispatches(tmp_path, shared_data, doc8):
    save_project(doc8, tmp_path / "p.ora")
    assert len(open_any(tmp_path / "p.ora").all_layers()) == len(doc8.all_layers())
    img_doc = open_any(shared_data / "formats" / "pillow_tests" / "hopper.png")
    assert len(img_doc.layers) == 1 and img_doc.layers[0].name == "hopper"


def test_reopened_project_is_editable(tmp_path, doc8):
    """Decoded PNGs come back as read-only arrays; a reopened project must still take brush edits."""
    path = tmp_path / "p.ora"
    save_project(doc8, path)
    doc = load_project(path)
    layers = [layer for layer in doc.all_layers() if isinstance(layer, PixelLayer) and not layer.locked]
    assert layers and any(layer.mask is not None for layer in layers)
    for layer in layers:
        target = "mask" if layer.mask is not None else "pixels"
        with doc.pixel_edit(layer, target, "edit") as edit:
            edit.touch(edit_rect := type(doc.rect)(0, 0, 2, 2))
            edit.array[edit_rect.slices()] = 0
        assert not edit.array[:2, :2].any()
    assert doc.history.can_undo
