"""The GUI's Export never replaces a file silently: the save dialog keeps Qt's overwrite confirmation."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from editor.ui.prompts import QtPrompts


def test_export_and_save_dialogs_confirm_overwrite(qtbot, monkeypatch, tmp_path):
    calls = []

    def fake(parent, caption, directory, filter="", selectedFilter="", options=None):
        calls.append(QFileDialog.Option(0) if options is None else options)
        return str(tmp_path / "photo.png"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake))
    parent = QWidget()
    qtbot.addWidget(parent)
    prompts = QtPrompts(parent)
    assert prompts.export_path(Path(tmp_path / "photo.png")) == tmp_path / "photo.png"
    prompts.save_path(Path(tmp_path / "p.ora"))
    assert len(calls) == 2
    assert all(not (opts & QFileDialog.Option.DontConfirmOverwrite) for opts in calls)
