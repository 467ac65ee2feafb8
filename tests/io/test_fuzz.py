"""Fuzzing the .ora reader and the image loader (hypothesis, bounded): byte flips of whole files, and
member-level mutations of projects rebuilt as valid zips (valid CRCs, so the reader sees the damage).
Every input must give a Lucid error (one line) or a valid document, within seconds and bounded memory."""

from __future__ import annotations

import io
import json
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.layers import GroupLayer, PixelLayer, ResultLayer
from editor.core.recipe import Recipe
from editor.io.images import load_image
from editor.io.ora import load_project, save_project

SECONDS = 10  # per input, on a loaded 2-core machine
PEAK_MB = 512  # numpy/Python allocations per input (tracemalloc), with a 256 MB document budget
FUZZ = settings(max_examples=100, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def small_budget(monkeypatch):
    monkeypatch.setenv("LUCID_MEMORY_BUDGET_MB", "256")


def _seed_project() -> bytes:
    rng = np.random.default_rng(1)
    doc = Document(40, 30)
    doc.metadata.icc_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    base = PixelLayer("base", rng.integers(0, 256, (30, 40, 4), dtype=np.uint8))
    recipe = Recipe(task="inpaint", params={"engine": "patchmatch"}, seed=3)
    result = ResultLayer("fill", rng.integers(0, 256, (10, 12, 4), dtype=np.uint8),
                         rng.random((10, 12), dtype=np.float32), recipe, offset=(5, 4))
    doc.root.children += [base, GroupLayer("g", [result], opacity=0.5)]
    doc.selection[2:9, 3:20] = 1.0
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seed.ora"
        save_project(doc, path)
        return path.read_bytes()


SEED_ORA = _seed_project()
with zipfile.ZipFile(io.BytesIO(SEED_ORA)) as _zf:
    MEMBERS = {i.filename: _zf.read(i) for i in _zf.infolist()}


def _seed_images() -> dict[str, bytes]:
    rng = np.random.default_rng(2)
    rgba = Image.fromarray(rng.integers(0, 256, (24, 32, 4), dtype=np.uint8), "RGBA")
    out = {}
    for suffix, fmt, kw in ((".png", "PNG", {}), (".jpg", "JPEG", {"quality": 80}), (".webp", "WEBP", {}),
                            (".tif", "TIFF", {"compression": "tiff_deflate"}), (".gif", "GIF", {})):
        buf = io.BytesIO()
        (rgba.convert("RGB") if fmt in ("JPEG", "GIF") else rgba).save(buf, fmt, **kw)
        out[suffix] = buf.getvalue()
    return out


SEED_IMAGES = _seed_images()


def _bounded(fn):
    """Run fn; return (result or LucidError, seconds, peak MB). Any other exception fails the test."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        result = fn()
    except LucidError as exc:
        result = exc
    finally:
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    assert peak < PEAK_MB << 20, f"peak {peak >> 20} MB"
    if isinstance(result, LucidError):
        assert result.message and "\n" not in result.message
    return result


def _check_document(doc: Document) -> None:
    from editor.core.compositor import composite

    assert doc.width > 0 and doc.height > 0 and doc.selection.shape == (doc.height, doc.width)
    for layer in doc.all_layers():
        if isinstance(layer, PixelLayer):
            assert layer.pixels.ndim == 3 and layer.pixels.shape[2] == 4 and layer.pixels.dtype == doc.dtype
            assert layer.mask is None or layer.mask.shape == layer.pixels.shape[:2]
    out = composite(doc)
    assert out.shape == (doc.height, doc.width, 4) and np.isfinite(out).all()


def _open_project(tmp_path: Path, data: bytes):
    path = tmp_path / "fuzz.ora"
    path.write_bytes(data)
    result = _bounded(lambda: load_project(path))
    if isinstance(result, Document):
        _check_document(result)


flips = st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(1, 255)), min_size=1, max_size=12)


@FUZZ
@given(flips=flips)
def test_ora_byte_flips(tmp_path, flips):
    data = bytearray(SEED_ORA)
    for pos, xor in flips:
        data[pos % len(data)] ^= xor
    _open_project(tmp_path, bytes(data))


def _rezip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 40), 1 << 40) | st.floats(allow_nan=True) |
    st.text(max_size=20) | st.sampled_from(list(MEMBERS)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8)
numbers = st.sampled_from(["0", "-1", "1e308", "nan", "inf", "15800", "99999999", "3.5", "", "x", "-40"])


@st.composite
def mutated_project(draw) -> dict[str, bytes]:
    members = dict(MEMBERS)
    names = sorted(members)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "truncate", "swap", "drop", "xml", "json"]))
        name = draw(st.sampled_from(names))
        if kind == "flip" and members.get(name):
            data = bytearray(members[name])
            for pos, xor in draw(flips):
                data[pos % len(data)] ^= xor
            members[name] = bytes(data)
        elif kind == "truncate" and name in members:
            members[name] = members[name][: draw(st.integers(0, max(0, len(members[name]) - 1)))]
        elif kind == "swap":
            members[name] = MEMBERS[draw(st.sampled_from(names))]
        elif kind == "drop":
            members.pop(name, None)
        elif kind == "xml":
            attr = draw(st.sampled_from(["w", "h", "x", "y", "opacity", "src", "composite-op", "visibility"]))
            value = draw(numbers | st.sampled_from(names))
            xml = members.get("stack.xml", MEMBERS["stack.xml"]).decode("utf-8", "replace")
            target = draw(st.sampled_from(["<image ", "<layer ", "<stack "]))
            members["stack.xml"] = xml.replace(target, f'{target}{attr}="{value}" ', 1).encode()
        elif kind == "json":
            meta = json.loads(MEMBERS["data/lucid/document.json"])
            path = draw(st.sampled_from([
                ("depth",), ("active_layer",), ("selection",), ("metadata", "icc_profile"),
                ("layers", 0, "mask"), ("layers", 1, "pixels"), ("layers", 2, "recipe"),
                ("layers", 2, "kind"), ("version",), ("layers",)]))
            node = meta
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = draw(json_values)
            members["data/lucid/document.json"] = json.dumps(meta).encode()
    return members


@FUZZ
@given(members=mutated_project())
def test_ora_member_mutations(tmp_path, members):
    _open_project(tmp_path, _rezip(members))


@FUZZ
@given(suffix=st.sampled_from(sorted(SEED_IMAGES)), flips=flips, cut=st.integers(0, 4000))
def test_image_loader_byte_flips(tmp_path, suffix, flips, cut):
    data = bytearray(SEED_IMAGES[suffix])
    for pos, xor in flips:
        data[pos % len(data)] ^= xor
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(bytes(data[: max(1, len(data) - cut)]) if cut % 3 == 0 else bytes(data))
    result = _bounded(lambda: load_image(path))
    if not isinstance(result, LucidError):
        assert result.pixels.ndim == 3 and result.pixels.shape[2] == 4 and result.width * result.height > 0
