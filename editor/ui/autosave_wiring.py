"""Connect autosave and crash recovery to the main window (used by `editor.app`)."""

from __future__ import annotations

from typing import Any

from editor.core.document import Document
from editor.core.settings import Settings
from editor.io.recovery import RecoveryEntry, recoverable
from editor.ui.autosave import Autosaver, interval_seconds
from editor.ui.recovery_dialog import RecoveryDialog, apply_choice


def install(window: Any, settings: Settings) -> Autosaver:
    """An Autosaver over the window's documents: closed tabs drop their entries, finished AI jobs
    trigger an autosave, failures show in the status bar."""
    autosaver = Autosaver(window.documents, interval_seconds(settings.autosave_minutes), parent=window)
    window.document_closed.connect(autosaver.forget)
    autosaver.failed.connect(lambda _doc, message: window.show_message(message))
    if getattr(window, "ai", None) is not None:
        window.ai.result_added.connect(lambda *_: autosaver.soon())
        window.ai.result_replaced.connect(lambda *_: autosaver.soon())
    return autosaver


def apply_settings(autosaver: Autosaver, settings: Settings) -> None:
    autosaver.set_interval(interval_seconds(settings.autosave_minutes))


def offer_recovery(window: Any, autosaver: Autosaver) -> list[Document]:
    """If an earlier Lucid crashed with unsaved work, ask what to recover; open those documents."""
    entries = recoverable(autosaver.folder)
    if not entries:
        return []
    dialog = RecoveryDialog(entries, window)
    dialog.exec()

    def add(doc: Document, entry: RecoveryEntry) -> None:
        window.add_document(doc)
        autosaver.adopt(doc, entry)

    return apply_choice(dialog, add, window.prompts.error)
