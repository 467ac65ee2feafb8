"""Krita shows Lucid's projects as Lucid does (slow: runs Krita; skipped where Krita is not installed).

Documents are built through Lucid's API, saved with save_project, exported by Krita 5 to PNG and
compared — premultiplied, in sRGB, 99.9 % of pixels within 6/255 and a mean within 1/255 — with the
truth: for an Adobe RGB photo, the photo converted to sRGB by LittleCMS; for a 16-bit photo with a 16-bit
multiply layer, Lucid's own composite; for the feature document (every blend mode, masks, result
layers, offsets, hidden layers, isolated and pass-through groups with opacity), Lucid's composite,
which in the pass-through group at opacity 0.6 is itself checked against the OpenRaster spec reference.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.core.blend import BlendMode
from editor.core.compositor import composite
from editor.core.document import Document, Metadata
from editor.core.layers import GroupLayer, PixelLayer, ResultLayer
from editor.core.ora_compat import bake_non_ora_layers
from editor.core.recipe import Recipe
from editor.io.ora import save_project
from tests.core.ora_reference import render_pixel
from tests.icc_profiles import adobe_rgb_photo
from tests.interop.krita import as_srgb_float, compare, export_with_krita, missing_tools, srgb_of

pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing_tools() is not None, reason=str(missing_tools()))]

PHOTO = Path("sr") / "Set5" / "x4" / "img_003_SRF_4_HR.png"  # butterfly: saturated, 256×256


def _photo(shared_data: Path) -> np.ndarray:
    with Image.open(shared_data / PHOTO) as im:
        return np.asarray(im.convert("RGB"))


def _rgba(rgb: np.ndarray, alpha: int | np.ndarray = 255) -> np.ndarray:
    return np.dstack([rgb, np.broadcast_to(np.asarray(alpha, np.uint8), rgb.shape[:2])]).astype(np.uint8)


def adobe_doc(shared_data: Path) -> tuple[Document, np.ndarray]:
    """An Adobe RGB photo (an sRGB photo converted by LittleCMS); truth: it converted back to sRGB."""
    rgb, icc = adobe_rgb_photo(shared_data / PHOTO)
    doc = Document(rgb.shape[1], rgb.shape[0], metadata=Metadata(icc_profile=icc))
    doc.layers.append(PixelLayer("adobe photo", _rgba(rgb)))
    return doc, srgb_of(_rgba(rgb).astype(np.float64) / 255.0, icc)


def sixteen_bit_doc(shared_data: Path) -> tuple[Document, np.ndarray]:
    rng = np.random.default_rng(16)
    noise = rng.integers(0, 257, (256, 256, 3)).astype(np.uint16)  # use the low byte too
    photo = _photo(shared_data).astype(np.uint16) * 257 + noise
    doc = Document(256, 256, depth=16)
    doc.layers.append(PixelLayer("photo16", _rgba16(photo, 65535)))
    ys, xs = np.mgrid[0:180, 0:200]
    mul = np.dstack([xs * 327, ys * 364, (xs + ys) * 170, 20000 + xs * 200]).astype(np.uint16)
    doc.layers.append(PixelLayer("multiply16", mul, offset=(40, 50), blend_mode=BlendMode.MULTIPLY))
    return doc, composite(doc).astype(np.float64)


def _rgba16(rgb: np.ndarray, alpha: int) -> np.ndarray:
    return np.dstack([rgb, np.full(rgb.shape[:2], alpha, np.uint16)]).astype(np.uint16)


PASS_GROUP = (slice(200, 232), slice(8, 40))  # rows, cols of the pass-through group at 0.6


def feature_doc(shared_data: Path) -> tuple[Document, np.ndarray]:
    """Every blend mode in its own strip over a photo, plus masks, a result layer, offsets, a hidden layer,
    an isolated group (screen, 0.7) and a pass-through group at 0.6; Exclusion baked for sharing."""
    rng = np.random.default_rng(5)
    photo = _photo(shared_data)
    doc = Document(256, 240)
    doc.layers.append(PixelLayer("photo", _rgba(photo[:240])))
    modes = [m for m in BlendMode if m is not BlendMode.NORMAL]
    xs = np.mgrid[0:20, 0:128][1]
    for i, mode in enumerate(modes):
        colour = np.dstack([(xs * 2) % 256, np.full_like(xs, 40 + 12 * i), 255 - xs * 2]).astype(np.uint8)
        # Krita ignores Porter–Duff "lighter" where alpha < 1 (its bug): plus is checked opaque
        alpha = 255 if mode is BlendMode.PLUS else (60 + xs * 1.5).astype(np.uint8)
        x0 = -20 if i % 2 else 140  # some strips hang off the canvas edge
        doc.layers.append(PixelLayer(mode.label, _rgba(colour, alpha), offset=(x0, 4 + (i // 2) * 24),
                                     blend_mode=mode, opacity=1.0 if mode is BlendMode.PLUS else 0.85))
    mask = np.clip(np.hypot(*np.mgrid[-30:30, -40:40]) / 40, 0, 1).astype(np.float32)
    doc.layers.append(ResultLayer("result", _rgba(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)), mask,
                                  Recipe(task="inpaint"), offset=(150, 180), opacity=0.9))
    doc.layers.append(PixelLayer("masked", _rgba(np.full((40, 40, 3), (250, 30, 90), np.uint8), 200),
                                 offset=(200, 120), mask=np.ascontiguousarray(mask[:40, :40].T)))
    doc.layers.append(PixelLayer("hidden", _rgba(np.zeros((240, 256, 3), np.uint8)), visible=False))
    iso = [PixelLayer("iso a", _rgba(rng.integers(0, 256, (50, 60, 3), dtype=np.uint8), 180)),
           PixelLayer("iso b", _rgba(np.full((30, 30, 3), (20, 200, 60), np.uint8)), offset=(20, 10),
                      blend_mode=BlendMode.DIFFERENCE)]
    doc.layers.append(GroupLayer("isolated screen 0.7", [_moved(c, 90, 180) for c in iso], opacity=0.7,
                                 blend_mode=BlendMode.SCREEN))
    inner = [PixelLayer("pt multiply", _rgba(np.full((40, 60, 3), (255, 140, 20), np.uint8), 230),
                        offset=(4, 196), blend_mode=BlendMode.MULTIPLY),
             PixelLayer("pt dodge", _rgba(np.full((20, 30, 3), (90, 90, 200), np.uint8)), offset=(20, 206),
                        blend_mode=BlendMode.COLOR_DODGE)]
    doc.layers.append(GroupLayer("pass-through 0.6", inner, isolated=False, opacity=0.6))
    bake_non_ora_layers(doc)
    return doc, composite(doc).astype(np.float64)


def _moved(layer: PixelLayer, dx: int, dy: int) -> PixelLayer:
    layer.offset = (layer.offset[0] + dx, layer.offset[1] + dy)
    return layer


@pytest.fixture(scope="module")
def krita_results(shared_data, tmp_path_factory):
    work = tmp_path_factory.mktemp("krita")
    builders = {"adobe": adobe_doc, "sixteen": sixteen_bit_doc, "features": feature_doc}
    docs, jobs = {}, []
    for name, build in builders.items():
        doc, truth = build(shared_data)
        save_project(doc, work / f"{name}.ora")
        docs[name] = (doc, truth)
        jobs.append((work / f"{name}.ora", work / f"{name}.png"))
    problems = export_with_krita(jobs, work)
    return work, docs, problems


@pytest.mark.parametrize("name", ["adobe", "sixteen", "features"])
def test_krita_shows_what_lucid_shows(krita_results, name):
    work, docs, problems = krita_results
    assert work / f"{name}.ora" not in problems, problems.get(work / f"{name}.ora")
    got = as_srgb_float(work / f"{name}.png")
    doc, truth = docs[name]
    if name != "adobe":  # the composite is in the document's profile (sRGB here)
        truth = srgb_of(truth, doc.metadata.icc_profile) if doc.depth == 8 else truth
    stats = compare(got, truth)
    print(name, stats)
    assert stats["within6"] >= 0.999 and stats["mean"] <= 1.0, stats


def test_pass_through_group_matches_the_spec(krita_results):
    """In the feature document, the truth itself follows OpenRaster for the pass-through group at 0.6."""
    _, docs, _ = krita_results
    doc, truth = docs["features"]
    rows, cols = PASS_GROUP
    for y in range(rows.start, rows.stop, 3):
        for x in range(cols.start, cols.stop, 3):
            c, a = render_pixel(doc.layers, x, y)
            np.testing.assert_allclose(truth[y, x], (*c, a), atol=1e-4)


def test_the_project_krita_read_was_tagged_and_isolated(krita_results):
    work = krita_results[0]
    with zipfile.ZipFile(work / "features.ora") as zf:
        stack = zf.read("stack.xml").decode()
    assert 'name="pass-through 0.6"' in stack and stack.count('isolation="isolate"') == 2
