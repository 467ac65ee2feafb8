"""Remove temp files that interrupted saves left behind (`.NAME.XXXXXXXX.tmp`, as `atomic_write` names
them): a save killed between creating its temp file and renaming it leaves one in the user's folder.

Called at the start of the next save to the same folder. Only names of exactly that shape are
touched, and only when untouched for `min_age` seconds, so a save running right now in another
process (which keeps writing, so its mtime is fresh) is left alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

# tempfile.mkstemp names: prefix + 8 characters from [a-z0-9_] + suffix
STALE_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
MIN_AGE_S = 60.0


def remove_stale_temps(folder: str | os.PathLike[str], *, min_age: float = MIN_AGE_S) -> list[Path]:
    """Delete abandoned atomic-write temp files in `folder`; return what was removed. Never raises."""
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not STALE_TEMP.match(entry.name):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if entry.is_file(follow_symlinks=False) and now - st.st_mtime >= min_age:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed
