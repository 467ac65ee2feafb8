"""The one check for zip member names that could escape the archive (zip-slip), for every zip Lucid
reads: OpenRaster projects (`editor.io.ora`), TorchScript archives (`editor.infer.convert`) and
wheels (`editor.infer.wheel_source`). In `core` because all of those may import it.

Why refuse instead of sanitise: a name like `../../x`, `/etc/x`, `C:x` or `a\\..\\x` has no business
in any archive we read, so it marks a hostile or broken file; we never guess what it meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_member_name(name: str) -> bool:
    """True when `name` is empty, absolute, has a drive letter, a backslash, a NUL or a `..` part."""
    return (
        not name
        or "\x00" in name
        or "\\" in name
        or name.startswith("/")
        or PurePosixPath(name).is_absolute()
        or bool(_DRIVE.match(name))
        or ".." in name.split("/")
    )


def unsafe_member_names(names: Iterable[str]) -> list[str]:
    """The unsafe names among `names`, in order (empty: all are safe)."""
    return [n for n in names if unsafe_member_name(n)]
