"""Where numba caches pymatting's compiled kernels: a writable per-user folder, set before pymatting
(or numba) is imported. A leaf module (stdlib and platformdirs only) so the package, its warm-up and
its engines all import it without importing each other.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

#: Environment variable that overrides the numba cache folder (numba's own variable: a user who
#: already set it keeps their choice).
NUMBA_CACHE_ENV = "NUMBA_CACHE_DIR"


def default_numba_cache_dir() -> Path:
    """`<user cache>/Lucid/numba` (platformdirs), e.g. ~/.cache/Lucid/numba on Linux."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("Lucid", appauthor=False)) / "numba"


def configure_numba_cache() -> Path:
    """Make numba cache compiled kernels in a writable per-user folder; return that folder.

    Must run before pymatting is imported (numba reads the setting when it builds each kernel's
    cache locator, which pymatting does at import). Idempotent. `NUMBA_CACHE_DIR`, when set,
    wins. If numba is already imported, its live config is updated too.
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
