"""Autosave for crash recovery: a timer takes a snapshot of each changed document on the GUI thread
(copy-on-write, no pixel copies: `editor.core.snapshot`) and one worker thread encodes it into the
recovery folder (`editor.io.recovery`), reusing the PNGs of layers that did not change.

Only documents with unsaved changes that changed since their last autosave are written; a document
that is saved, or closed, loses its recovery entry; `shutdown(clean=True)` removes this session's.
The interval is the `autosave_minutes` preference; `LUCID_AUTOSAVE_SECONDS` overrides it (tests).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from editor.core.document import Document
from editor.core.snapshot import freeze_document
from editor.io import recovery
from editor.io.ora import EncodeCache

ENV_INTERVAL = "LUCID_AUTOSAVE_SECONDS"
RETRY_MS = 1000  # an edit was open (a stroke in progress): try again shortly


def interval_seconds(autosave_minutes: int) -> float:
    """The environment override if set, else the preference (0 = off)."""
    env = os.environ.get(ENV_INTERVAL, "").strip()
    if env:
        try:
            return max(0.0, float(env))
        except ValueError:
            pass
    return autosave_minutes * 60.0


@dataclass
class _State:
    key: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    revision: int = 0  # bumped by every history change
    saved_revision: int = 0
    entry: recovery.RecoveryEntry | None = None
    busy: bool = False
    closed: bool = False
    cache: EncodeCache = field(default_factory=dict)
    bump: Callable[[], None] | None = None


class Autosaver(QObject):
    saved = Signal(object, object)  # Document, RecoveryEntry (GUI thread)
    failed = Signal(object, str)  # Document, message
    _done = Signal(object, object, int, object, object)  # from the worker: doc, state, revision, entry, error

    def __init__(self, documents: Callable[[], list[Document]], interval_s: float, *,
                 folder: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.documents = documents
        self.folder = folder or recovery.recovery_dir()
        self.session = recovery.Session.current()
        self.last_snapshot_ms = 0.0
        self._stopped = False
        self._states: dict[int, tuple[Document, _State]] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="lucid-autosave")
        self._done.connect(self._on_done)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.autosave_now)
        self._retry = QTimer(self, singleShot=True, interval=RETRY_MS)
        self._retry.timeout.connect(self.autosave_now)
        self.set_interval(interval_s)

    def set_interval(self, seconds: float) -> None:
        if seconds > 0:
            self.timer.start(max(1, int(seconds * 1000)))
        else:
            self.timer.stop()

    def soon(self, delay_ms: int = 500) -> None:
        """Autosave shortly (after a long job's result arrived), if autosave is on."""
        if self.timer.isActive():
            self._retry.start(delay_ms)

    # -- documents -------------------------------------------------------------------------------
    def _state(self, doc: Document) -> _State:
        known = self._states.get(id(doc))
        if known is not None and known[0] is doc:
            return known[1]
        state = _State(revision=1 if doc.modified else 0)

        def bump() -> None:
            state.revision += 1

        state.bump = bump
        doc.history.events.changed.connect(bump)
        self._states[id(doc)] = (doc, state)
        return state

    def watch(self, doc: Document) -> None:
        """Start counting `doc`'s changes now (documents are also picked up at the next tick)."""
        self._state(doc)

    def adopt(self, doc: Document, entry: recovery.RecoveryEntry) -> None:
        """`doc` was recovered from `entry`: keep that file as its entry until it is saved or closed."""
        state = self._state(doc)
        state.entry = recovery.adopt(entry, self.session, state.key)
        state.saved_revision = state.revision

    def forget(self, doc: Document) -> None:
        """`doc` was closed (saved or discarded by the user): its recovery entry goes."""
        known = self._states.pop(id(doc), None)
        if known is None or known[0] is not doc:
            return
        state = known[1]
        state.closed = True
        if state.bump is not None:
            doc.history.events.changed.disconnect(state.bump)
        if state.entry is not None and not state.busy:
            state.entry.remove()

    def entry_for(self, doc: Document) -> recovery.RecoveryEntry | None:
        known = self._states.get(id(doc))
        return known[1].entry if known is not None and known[0] is doc else None

    # -- saving ----------------------------------------------------------------------------------
    def autosave_now(self) -> None:
        """Snapshot every changed document (GUI thread) and queue its encoding (worker thread)."""
        open_docs = self.documents()
        for doc, _ in [v for v in self._states.values() if not any(v[0] is d for d in open_docs)]:
            self.forget(doc)
        for doc in open_docs:
            state = self._state(doc)
            if not doc.modified:
                if state.entry is not None and not state.busy:
                    state.entry.remove()  # saved: the file on disk is the copy now
                    state.entry = None
                continue
            if state.busy or state.revision == state.saved_revision:
                continue
            if doc.history.editing:
                self._retry.start()
                continue
            start = time.perf_counter()
            snapshot = freeze_document(doc)
            self.last_snapshot_ms = (time.perf_counter() - start) * 1000
            state.busy = True
            name = doc.path.name if doc.path else "Untitled"
            self._pool.submit(self._write, doc, state, state.revision, snapshot, name, doc.path)

    def _write(self, doc: Document, state: _State, revision: int, snapshot: Document, name: str,
               source: Path | None) -> None:
        """Worker thread: encode and write; the result goes back to the GUI thread by a queued signal."""
        try:
            entry = recovery.write_entry(snapshot, self.session, state.key, name=name, source=source,
                                         folder=self.folder, cache=state.cache)
        except Exception as exc:  # a full disk must not take the editor down; reported instead
            self._done.emit(doc, state, revision, None, getattr(exc, "message", None) or str(exc))
            return
        self._done.emit(doc, state, revision, entry, None)

    def _on_done(self, doc: Document, state: _State, revision: int, entry, error) -> None:
        state.busy = False
        if entry is None:
            self.failed.emit(doc, f"Autosave failed: {error}")
            return
        state.entry = entry
        if state.closed:  # closed while it was being written
            entry.remove()
            return
        state.saved_revision = revision
        self.saved.emit(doc, entry)

    def shutdown(self, *, clean: bool = True) -> None:
        """Stop (idempotent); after a clean close remove every entry this session wrote."""
        if self._stopped:
            return
        self._stopped = True
        self.timer.stop()
        self._retry.stop()
        self._pool.shutdown(wait=True)
        if clean:
            for entry in recovery.list_entries(self.folder):
                if entry.session == self.session.id:
                    entry.remove()
