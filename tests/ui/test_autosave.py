"""Autosaver in-process: only changed, unsaved documents are written; saving or closing removes the
entry; a stroke in progress postpones the snapshot; a clean shutdown removes the session's files."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from editor.core.brush import Brush, Stroke
from editor.core.document import Document
from editor.core.geometry import Rect
from editor.core.layers import PixelLayer
from editor.core.snapshot import freeze_document
from editor.io import recovery
from editor.io.ora import load_project
from editor.ui.autosave import Autosaver, interval_seconds
from editor.ui.recovery_dialog import RecoveryDialog, apply_choice


@pytest.fixture
def docs() -> list[Document]:
    doc = Document(32, 24)
    doc.root.children.append(PixelLayer("a", np.full((24, 32, 4), 100, np.uint8)))
    return [doc]


@pytest.fixture
def saver(qtbot, tmp_path, docs):
    s = Autosaver(lambda: list(docs), 0, folder=tmp_path)
    yield s
    s.shutdown(clean=False)


def _paint(doc: Document) -> None:
    doc.paste(doc.layers[0], "pixels", Rect(0, 0, 2, 2), np.zeros((2, 2, 4), np.uint8), "paint")


def test_interval_from_preference_or_env(monkeypatch):
    monkeypatch.delenv("LUCID_AUTOSAVE_SECONDS", raising=False)
    assert interval_seconds(5) == 300 and interval_seconds(0) == 0
    monkeypatch.setenv("LUCID_AUTOSAVE_SECONDS", "0.5")
    assert interval_seconds(5) == 0.5


def test_only_changed_unsaved_documents_are_written(qtbot, saver, docs, tmp_path):
    doc = docs[0]
    saver.watch(doc)
    saver.autosave_now()
    assert recovery.list_entries(tmp_path) == []  # unchanged since opened: nothing to recover
    _paint(doc)
    with qtbot.waitSignal(saver.saved, timeout=10000):
        saver.autosave_now()
    [entry] = recovery.list_entries(tmp_path)
    assert load_project(entry.project).layers[0].pixels[0, 0, 0] == 0
    written = entry.project.stat().st_mtime_ns
    saver.autosave_now()  # no change since: not rewritten
    qtbot.wait(200)
    assert entry.project.stat().st_mtime_ns == written
    doc.history.mark_saved()  # the user saved: the file on disk is the copy now
    saver.autosave_now()
    assert recovery.list_entries(tmp_path) == []


def test_open_stroke_postpones_then_close_removes(qtbot, saver, docs, tmp_path):
    doc = docs[0]
    saver.watch(doc)
    _paint(doc)  # unsaved changes, then a stroke still in progress when the timer fires
    stroke = Stroke(doc, None, "selection", Brush(size=6))
    stroke.add_point(10, 10)
    saver.autosave_now()
    assert saver._retry.isActive() and recovery.list_entries(tmp_path) == []
    stroke.end()
    with qtbot.waitSignal(saver.saved, timeout=10000):
        saver._retry.timeout.emit()
    assert load_project(recovery.list_entries(tmp_path)[0].project).selection[10, 10] > 0.5
    saver.forget(doc)
    assert recovery.list_entries(tmp_path) == []


def test_clean_shutdown_removes_this_sessions_files(qtbot, saver, docs, tmp_path):
    _paint(docs[0])
    with qtbot.waitSignal(saver.saved, timeout=10000):
        saver.autosave_now()
    assert len(recovery.list_entries(tmp_path)) == 1
    saver.shutdown(clean=True)
    assert recovery.list_entries(tmp_path) == []


def test_recovery_dialog_discard_and_later(qtbot, tmp_path, docs):
    dead = recovery.Session("999999-dead", 999_999, 1.0)
    _paint(docs[0])
    for key in ("a", "b"):
        recovery.write_entry(freeze_document(docs[0]), dead, key, name=f"{key}.png",
                             source=tmp_path / "x.png", folder=tmp_path)
    entries = recovery.recoverable(tmp_path)
    dialog = RecoveryDialog(entries)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 2 and str(tmp_path / "x.png") in dialog.list.item(0).text()
    dialog.later_button.click()
    assert apply_choice(dialog, lambda *_: None, lambda *_: None) == []
    assert len(recovery.recoverable(tmp_path)) == 2
    dialog.list.item(1).setCheckState(Qt.CheckState.Unchecked)
    dialog.discard_button.click()
    apply_choice(dialog, lambda *_: None, lambda *_: None)
    assert [e.project for e in recovery.recoverable(tmp_path)] == [entries[1].project]  # unchecked: kept
