"""Image → Upscale…: a tiny random-weight model imported into a temp models folder (plumbing), the
result opens as a new document of the right size and depth with alpha kept; the original is untouched."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from .ai_support import make_env, photo_doc

pytestmark = pytest.mark.gui
torch = pytest.importorskip("torch")


@pytest.fixture
def env(qtbot, qapp, prompts, tmp_path, monkeypatch):
    yield from make_env(qtbot, qapp, prompts, tmp_path, monkeypatch)


def import_tiny_model(store, tmp_path, scale: int = 2) -> str:
    """A 2-conv SRVGGNetCompact with random weights, saved as safetensors and imported as a user model."""
    from safetensors.torch import save_file
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(0)
    net = Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=scale)
    path = tmp_path / "tiny-compact.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    info = store.import_file(path)
    assert info.path is not None
    return info.id


def open_dialog(env):
    env.window.actions["upscale"].trigger()
    return env.window.upscale_dialog


def test_upscale_opens_a_new_sixteen_bit_document_with_alpha(env, tmp_path, qtbot):
    import hashlib

    model_id = import_tiny_model(env.services.store, tmp_path)
    sha = hashlib.sha256((tmp_path / "tiny-compact.safetensors").read_bytes()).hexdigest()
    assert env.window.ai.model_sha256(model_id) == sha  # what recipes record for model-backed results
    doc = photo_doc(40, 30, depth=16)
    src = doc.layers[0].pixels
    src[:, :10, 3] = 0  # a transparent strip: alpha must survive the upscale
    before = src.copy()
    env.window.add_document(doc)
    dlg = open_dialog(env)
    dlg.model.setCurrentIndex(dlg.model.findData(model_id))
    dlg.scale.setValue(1.5)  # non-integer: the ×2 network then a Lanczos downscale
    assert (dlg.width_.value(), dlg.height_.value()) == (60, 45)
    assert "Estimated time" in dlg.summary.text() and dlg.ok.isEnabled()
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    ai = env.window.ai
    (task,) = ai.tasks
    new = env.run(task)
    assert new is not doc and env.window.current_doc() is new and len(env.window.documents()) == 2
    assert (new.width, new.height, new.depth) == (60, 45, 16)
    px = new.layers[0].pixels
    assert px.dtype == np.uint16 and px.shape == (45, 60, 4)
    assert px[:, :12, 3].max() < 2000 and px[:, 20:, 3].min() > 60000  # alpha scaled, not lost
    assert np.array_equal(doc.layers[0].pixels, before) and len(doc.layers) == 1  # original untouched
    # the run was measured: the next estimate says so
    dlg2 = open_dialog(env)
    dlg2.model.setCurrentIndex(dlg2.model.findData(model_id))
    assert "measured on this machine" in dlg2.summary.text()
    dlg2.reject()


def test_target_size_and_limits(env, tmp_path):
    model_id = import_tiny_model(env.services.store, tmp_path)
    doc = photo_doc(40, 30)
    env.window.add_document(doc)
    dlg = open_dialog(env)
    dlg.model.setCurrentIndex(dlg.model.findData(model_id))
    assert dlg.scale.maximum() == 2.0  # a ×2 model goes up to ×2
    dlg.width_.setValue(70)
    assert dlg.by_size.isChecked() and dlg.height_.value() == 53 and dlg.params()["size"] == [70, 53]
    dlg.tile.setCurrentIndex(dlg.tile.findData(128))
    assert dlg.params()["tile"] == 128
    dlg.width_.setValue(200)  # ×5: refused before any job
    assert not dlg.ok.isEnabled() and "×5.00" in dlg.summary.text()
    dlg.reject()


def test_not_installed_models_are_listed_disabled(env):
    doc = photo_doc(40, 30)
    env.window.add_document(doc)
    dlg = open_dialog(env)
    i = dlg.model.findData("realesrgan-x4plus")
    assert i >= 0 and "not installed" in dlg.model.itemText(i)
    assert not dlg.model.model().item(i).isEnabled()
    assert dlg.model_id() is None and not dlg.ok.isEnabled() and "Models…" in dlg.model_note.text()
    dlg.reject()


def test_upscale_needs_a_document_and_services(env, qtbot):
    assert not env.window.actions["upscale"].isEnabled()
    env.window.add_document(photo_doc(20, 20))
    assert env.window.actions["upscale"].isEnabled()


def test_upscale_is_disabled_without_services(window):
    window.add_document(photo_doc(20, 20))
    assert not window.actions["upscale"].isEnabled() and not window.actions["models"].isEnabled()
