"""Inputs must be regular files: a FIFO, a device or a directory named `photo.png` is refused at once.

Why: opening a FIFO blocks until a writer appears (forever, for `lucid info x.png`), and a device
such as /dev/zero never ends. `os.stat` does not open the file, so this check itself cannot hang.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from editor.io.errors import ImageLoadError


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """True for an existing regular file (symlinks followed); never opens it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def require_regular_file(path: str | os.PathLike[str], what: str = "") -> Path:
    """`path` if it is an existing regular file, else a one-line `ImageLoadError` naming it."""
    path = Path(path)
    label = f"{what} {path.name}".strip() if what else path.name
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ImageLoadError(f"{label}: does not exist", str(path)) from None
    except (OSError, ValueError) as exc:
        raise ImageLoadError(f"{label}: cannot read it ({exc})", str(path)) from exc
    if stat.S_ISDIR(mode):
        raise ImageLoadError(f"{label}: is a folder, not a file", str(path))
    if not stat.S_ISREG(mode):
        raise ImageLoadError(f"{label}: not a regular file (a pipe, socket or device); refusing to read it",
                             str(path))
    return path


def is_icc_profile(data: bytes) -> bool:
    """True when LittleCMS (Pillow's ImageCms) parses `data` as an ICC profile."""
    import io

    from PIL import ImageCms

    if len(data) < 128:  # shorter than an ICC header
        return False
    try:
        ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return False
    return True
