"""Preferences: the Qt-free schema (validation, JSON round trip, env override) and the dialog over it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from editor.core.settings import Settings, SettingsError, config_dir, load_settings, save_settings
from editor.ui.icons import SAMPLE_PHOTO
from editor.ui.preferences import PreferencesDialog


def test_defaults_round_trip_through_json(tmp_path, monkeypatch):
    monkeypatch.setenv("LUCID_CONFIG_DIR", str(tmp_path / "cfg"))
    assert config_dir() == tmp_path / "cfg"
    assert load_settings() == Settings()  # no file yet: defaults
    changed = replace(Settings(), export_format="jpeg", export_quality=80, compute_device="cpu",
                      models_dir="/models", autosave_minutes=0, undo_memory_mb=256)
    path = save_settings(changed)
    assert path == tmp_path / "cfg" / "settings.json"
    assert json.loads(path.read_text())["export_format"] == "jpeg"
    assert load_settings() == changed


@pytest.mark.parametrize(("field", "value", "words"), [
    ("undo_memory_mb", 10, "Undo memory"),
    ("export_format", "bmp", "Export format"),
    ("export_quality", 0, "quality"),
    ("compute_device", "tpu", "Compute device"),
    ("autosave_minutes", -1, "Autosave"),
])
def test_invalid_values_are_refused_with_a_readable_message(field, value, words):
    with pytest.raises(SettingsError, match=words):
        replace(Settings(), **{field: value}).validate()


def test_broken_or_mistyped_file_raises(tmp_path):
    bad = tmp_path / "settings.json"
    bad.write_text("{not json")
    with pytest.raises(SettingsError, match="Cannot read"):
        load_settings(bad)
    bad.write_text(json.dumps({"export_quality": "high"}))
    with pytest.raises(SettingsError, match="whole number"):
        load_settings(bad)
    bad.write_text(json.dumps({"export_quality": 70, "from_the_future": 1}))
    assert load_settings(bad).export_quality == 70  # unknown keys are ignored


def test_dialog_edits_and_validates(qtbot):
    dlg = PreferencesDialog(Settings())
    qtbot.addWidget(dlg)
    assert dlg.undo_mb.value() == Settings().undo_memory_mb
    dlg.export_format.setCurrentText("webp")
    dlg.export_quality.setValue(70)
    dlg.device.setCurrentText("cuda")
    dlg.autosave.setValue(0)
    dlg.accept()
    got = dlg.result_settings()
    got_values = (got.export_format, got.export_quality, got.compute_device, got.autosave_minutes)
    assert got_values == ("webp", 70, "cuda", 0)


def test_window_applies_and_stores_new_settings(window, tmp_path):
    window.open_paths([SAMPLE_PHOTO])
    new = replace(Settings(), undo_memory_mb=128)
    window.apply_settings(new)
    assert window.current_doc().history.memory_cap == 128 * 1024 * 1024
    assert load_settings() == new
