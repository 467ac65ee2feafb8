"""Atomic file writes: the target is either the complete new file or the untouched old one.

The one helper for every write that must not leave half a file behind: project saves and exports
(`editor.io`), settings (`editor.core.settings`), model files and manifests (`editor.infer.store`) and
verified downloads (`editor.infer.download`). It lives in `core` because that is the one layer all of
them may import (core itself may not import `io`); it needs nothing but the standard library.
Temp files are named `.<target name>.<random>.tmp` beside the target.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from editor.core.stale_temps import remove_stale_temps

TEMP_SUFFIX = ".tmp"


def temp_prefix(target: Path) -> str:
    """Prefix of the temp files `atomic_write` makes for `target` (hidden, named after it)."""
    return f".{target.name}."


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file in `path`'s folder; on success fsync it and `os.replace` it over `path`.

    Why: a crash, a full disk or an exception half-way through a save must never leave a truncated
    project where the user's last good file was. On any error the temp file is removed and the
    error propagates; the original file is untouched. The folder must exist.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    remove_stale_temps(folder)  # left by earlier saves that were killed before their rename
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=TEMP_SUFFIX, dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _keep_mode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(folder)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically (creating its folder); return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target) as fh:
        fh.write(data)
    return target


def atomic_copy(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Copy `src` to `dest` atomically (creating its folder): `dest` never holds part of `src`."""
    target = Path(dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as source, atomic_write(target) as fh:
        shutil.copyfileobj(source, fh, 1 << 20)
    return target


def atomic_replace(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Move a finished file (a verified download, a converter's output) over `dest` durably.

    For files written elsewhere than `atomic_write`: flush `src` to disk first, so that after a crash
    `dest` is the complete new file or the old one, never an empty name (rename before data).
    `src` must be on the same file system as `dest` (the same folder, in practice).
    """
    source, target = Path(src), Path(dest)
    with open(source, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(source, target)
    _fsync_dir(target.parent if str(target.parent) else Path("."))
    return target


def _keep_mode(target: Path, tmp: Path) -> None:
    """mkstemp creates 0600 files; give the new file the old file's mode, or the umask default."""
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX); directories cannot be opened this way on Windows."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
