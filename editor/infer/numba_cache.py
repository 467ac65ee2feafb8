"""Where numba keeps compiled kernels: one per-user folder for every numba user in Lucid.

numba caches next to a package's source by default, which is read-only in an installed or frozen
app, so every start would compile again. `configure_numba_cache()` points numba at
`<user cache>/Lucid/numba` (platformdirs) before any kernel is defined; PatchMatch (`inpaint._nnf`)
and pymatting (`matting`) call it on import, and `editor.infer.warm_caches` fills the folder ahead of
time (set-up script, installer build) so no user waits for a compiler.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

#: numba's own variable: a user who already set it keeps their choice.
NUMBA_CACHE_ENV = "NUMBA_CACHE_DIR"


def default_numba_cache_dir() -> Path:
    """`<user cache>/Lucid/numba` (platformdirs), e.g. ~/.cache/Lucid/numba on Linux."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("Lucid", appauthor=False)) / "numba"


def configure_numba_cache() -> Path:
    """Make numba cache compiled kernels in a writable per-user folder; return that folder.

    Must run before the kernels are defined (numba picks each kernel's cache folder then).
    Idempotent. `NUMBA_CACHE_DIR`, when set, wins. If numba is already imported, its live config is
    updated too.
    """
    path = Path(os.environ.get(NUMBA_CACHE_ENV) or default_numba_cache_dir())
    # An unwritable cache folder only costs speed (numba then compiles in memory); not an error.
    with contextlib.suppress(OSError):
        path.mkdir(parents=True, exist_ok=True)
    os.environ[NUMBA_CACHE_ENV] = str(path)
    numba_config = sys.modules.get("numba.core.config")
    if numba_config is not None:
        numba_config.CACHE_DIR = str(path)
    return path
