"""The one atomic-write helper, and the writers outside io that use it (settings, model store)."""

from __future__ import annotations

import pytest

from editor.core import atomic
from editor.core.atomic import atomic_copy, atomic_replace, atomic_write_bytes
from editor.core.settings import Settings, SettingsError, save_settings


def _no_space(src, dst):
    raise OSError(28, "No space left on device")


def test_write_bytes_and_copy_create_the_folder_and_leave_no_temp(tmp_path):
    out = atomic_write_bytes(tmp_path / "a" / "f.txt", b"hello")
    assert out.read_bytes() == b"hello"
    copy = atomic_copy(out, tmp_path / "b" / "g.txt")
    assert copy.read_bytes() == b"hello"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "f.txt", "g.txt"]


def test_replace_moves_a_finished_file_over_the_old_one(tmp_path):
    old, new = tmp_path / "model.bin", tmp_path / "model.bin.part"
    old.write_bytes(b"old")
    new.write_bytes(b"new")
    atomic_replace(new, old)
    assert old.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_failed_settings_save_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "settings.json"
    path.write_text("{}")
    monkeypatch.setattr(atomic.os, "replace", _no_space)
    with pytest.raises(SettingsError, match="Cannot write the settings file"):
        save_settings(Settings(export_quality=50), path)
    assert path.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_failed_model_copy_leaves_no_temp(tmp_path, monkeypatch):
    src = tmp_path / "src.bin"
    src.write_bytes(b"weights")
    monkeypatch.setattr(atomic.os, "replace", _no_space)
    with pytest.raises(OSError, match="No space"):
        atomic_copy(src, tmp_path / "models" / "m" / "w.bin")
    assert list((tmp_path / "models" / "m").iterdir()) == []
