"""Colour questions in the window: Exclusion is mentioned once per document (bake on request), export asks
Convert to sRGB and says what will happen, and the dialog's defaults follow the format."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.blend import BlendMode
from editor.core.document import Document, Metadata
from editor.core.layers import PixelLayer
from editor.io.icc import srgb_profile
from editor.io.images import load_image
from editor.io.ora import load_project
from tests.icc_profiles import adobe_rgb_bytes


def _exclusion_doc() -> Document:
    doc = Document(16, 12)
    rng = np.random.default_rng(1)
    bg = rng.integers(0, 256, (12, 16, 4), dtype=np.uint8)
    bg[..., 3] = 255
    doc.layers.append(PixelLayer("bg", bg))
    px = rng.integers(0, 256, (12, 16, 4), np.uint8)
    doc.layers.append(PixelLayer("ex", px, blend_mode=BlendMode.EXCLUSION))
    return doc


def test_exclusion_is_mentioned_once_and_keep_keeps_it(window, prompts, tmp_path):
    doc = _exclusion_doc()
    window.add_document(doc)
    prompts.save_paths += [tmp_path / "a.ora"]
    assert window.save(doc)
    assert window.save(doc)  # the second save does not ask again
    assert prompts.asked_non_ora == [["ex"]]
    assert load_project(tmp_path / "a.ora").layers[1].blend_mode == BlendMode.EXCLUSION


def test_bake_replaces_only_those_layers_and_cancel_saves_nothing(window, prompts, tmp_path):
    doc = _exclusion_doc()
    window.add_document(doc)
    prompts.save_paths += [tmp_path / "c.ora"]
    prompts.non_ora_answers += ["cancel"]
    assert not window.save(doc)
    assert not (tmp_path / "c.ora").exists()
    prompts.save_paths += [tmp_path / "b.ora"]
    prompts.non_ora_answers += ["bake"]
    assert window.save(doc)
    back = load_project(tmp_path / "b.ora")
    assert [(layer.name, layer.blend_mode) for layer in back.layers] == \
        [("bg", BlendMode.NORMAL), ("ex (baked)", BlendMode.NORMAL)]


def test_export_converts_to_srgb_when_asked(window, prompts, tmp_path):
    icc = adobe_rgb_bytes()
    doc = _exclusion_doc()
    doc.metadata = Metadata(icc_profile=icc)
    window.add_document(doc)
    prompts.export_paths += [tmp_path / "web.jpg", tmp_path / "print.png", tmp_path / "never.png"]
    prompts.export_colours += [(True, "perceptual"), (False, "relative"), None]
    assert window.export(doc)
    assert window.export(doc)
    assert not window.export(doc)  # cancelled in the colour dialog
    assert load_image(tmp_path / "web.jpg").icc_profile == srgb_profile()
    assert load_image(tmp_path / "print.png").icc_profile == icc
    assert not (tmp_path / "never.png").exists()


@pytest.mark.parametrize(("fmt", "ticked"), [("JPEG", True), ("WEBP", True), ("PNG", False), ("TIFF", False)])
def test_export_dialog_defaults_and_says_what_happens(qtbot, fmt, ticked):
    from editor.ui.colour_dialogs import ExportColourDialog

    dlg = ExportColourDialog(fmt, adobe_rgb_bytes())
    qtbot.addWidget(dlg)
    assert dlg.choice() == (ticked, "relative")
    assert ("converted" in dlg.summary.text()) == ticked
    dlg.to_srgb.setChecked(not ticked)
    assert ("converted" in dlg.summary.text()) != ticked
    srgb = ExportColourDialog(fmt, None)
    qtbot.addWidget(srgb)
    assert not srgb.to_srgb.isEnabled() and "is sRGB" in srgb.summary.text()
