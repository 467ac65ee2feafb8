"""Crash-recovery files: autosaved OpenRaster snapshots of open documents in the user data folder.

Each open, changed document of a running Lucid has one entry: `<session>-<key>.ora` (written
atomically, a complete project that Lucid, GIMP and Krita open) plus `<session>-<key>.json` (original
path, name, time, owner process). A clean close removes the entries; after a crash they stay, and the
next start offers them. The folder is bounded: entries of dead sessions older than `MAX_AGE_DAYS`, and
the oldest of them beyond `MAX_BYTES` in all, are deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from editor.core.document import Document
from editor.io.atomic import atomic_write
from editor.io.ora import EncodeCache, save_project

ENV_RECOVERY_DIR = "LUCID_RECOVERY_DIR"
MAX_BYTES = 4 << 30
MAX_AGE_DAYS = 30


def recovery_dir() -> Path:
    """`LUCID_RECOVERY_DIR`, else `<user data>/recovery` (platformdirs)."""
    override = os.environ.get(ENV_RECOVERY_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("Lucid", appauthor=False)) / "recovery"


def _process_started(pid: int) -> float | None:
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError, ValueError):
        return None


@dataclass(frozen=True)
class Session:
    """This process's identity in the recovery folder (pid + start time survive pid reuse)."""

    id: str
    pid: int
    started: float

    @classmethod
    def current(cls) -> Session:
        pid = os.getpid()
        return cls(f"{pid}-{uuid.uuid4().hex[:8]}", pid, _process_started(pid) or time.time())


@dataclass(frozen=True)
class RecoveryEntry:
    project: Path
    source: Path | None
    name: str
    saved_at: float
    session: str
    pid: int
    started: float

    @property
    def meta(self) -> Path:
        return self.project.with_suffix(".json")

    def alive(self) -> bool:
        """Its Lucid is still running (the same process: pid and start time match)."""
        started = _process_started(self.pid)
        return started is not None and abs(started - self.started) < 2.0

    def thumbnail(self) -> bytes | None:
        """The snapshot's thumbnail PNG (Thumbnails/thumbnail.png), or None if unreadable."""
        import zipfile

        try:
            with zipfile.ZipFile(self.project) as zf:
                info = zf.getinfo("Thumbnails/thumbnail.png")
                return zf.read(info) if info.file_size < 4 << 20 else None
        except (OSError, KeyError, zipfile.BadZipFile):
            return None

    def remove(self) -> None:
        for path in (self.project, self.meta):
            with contextlib.suppress(OSError):
                path.unlink()


def write_entry(snapshot: Document, session: Session, key: str, *, name: str, source: Path | None,
                folder: Path | None = None, cache: EncodeCache | None = None) -> RecoveryEntry:
    """Save `snapshot` (see `editor.core.snapshot`) as the entry `key` of `session`, atomically."""
    folder = folder or recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    project = folder / f"{session.id}-{key}.ora"
    save_project(snapshot, project, cache=cache)
    source = Path(source).absolute() if source is not None else None  # valid from any working directory
    entry = RecoveryEntry(project, source, name, time.time(), session.id, session.pid, session.started)
    _write_meta(entry)
    prune(folder)
    return entry


def _write_meta(entry: RecoveryEntry) -> None:
    meta = {"source": str(entry.source) if entry.source else None, "name": entry.name,
            "saved_at": entry.saved_at, "session": entry.session, "pid": entry.pid, "started": entry.started}
    with atomic_write(entry.meta) as fh:
        fh.write(json.dumps(meta, indent=1).encode())


def list_entries(folder: Path | None = None) -> list[RecoveryEntry]:
    """Every complete entry (project and its record), newest first."""
    folder = folder or recovery_dir()
    entries = []
    for meta in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        entry = _read(meta)
        if entry is not None and entry.project.is_file():
            entries.append(entry)
    return sorted(entries, key=lambda e: e.saved_at, reverse=True)


def recoverable(folder: Path | None = None) -> list[RecoveryEntry]:
    """Entries left by a Lucid that is no longer running (it crashed or was killed)."""
    return [e for e in list_entries(folder) if not e.alive()]


def _read(meta: Path) -> RecoveryEntry | None:
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        return RecoveryEntry(meta.with_suffix(".ora"), Path(data["source"]) if data.get("source") else None,
                             str(data["name"]), float(data["saved_at"]), str(data["session"]),
                             int(data["pid"]), float(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def adopt(entry: RecoveryEntry, session: Session, key: str) -> RecoveryEntry:
    """Make a recovered entry this session's (renamed), so it stays safe until this session closes
    cleanly, and is not offered again while it runs."""
    project = entry.project.with_name(f"{session.id}-{key}.ora")
    os.replace(entry.project, project)
    adopted = RecoveryEntry(project, entry.source, entry.name, entry.saved_at, session.id, session.pid,
                            session.started)
    _write_meta(adopted)
    with contextlib.suppress(OSError):
        entry.meta.unlink()
    return adopted


def prune(folder: Path | None = None, *, max_bytes: int = MAX_BYTES,
          max_age_days: float = MAX_AGE_DAYS) -> None:
    """Bound the folder: drop dead sessions' entries that are too old, then the oldest of them while the
    folder holds more than `max_bytes`, and project files whose record never got written."""
    folder = folder or recovery_dir()
    entries = list_entries(folder)
    now = time.time()
    dead = [e for e in reversed(entries) if not e.alive()]  # oldest first
    for entry in dead:
        if now - entry.saved_at > max_age_days * 86400:
            entry.remove()
    known = {e.project for e in entries}
    for project in folder.glob("*.ora"):
        with contextlib.suppress(OSError):
            if project not in known and now - project.stat().st_mtime > 86400:
                project.unlink()
    total = sum(_size(e.project) for e in list_entries(folder))
    for entry in (e for e in dead if e.project.exists()):
        if total <= max_bytes:
            break
        total -= _size(entry.project)
        entry.remove()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
