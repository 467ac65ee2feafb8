"""Alpha matting: trimap engines (pymatting), background-plate matting, cut-out compositing.

pymatting compiles its numba kernels on import (a cold `import pymatting` took 76 s on the
development machine). numba caches compiled code next to the package source by default, which is
read-only in an installed or frozen app, so every start would compile again. Importing this package
therefore points numba at a per-user cache folder *before* pymatting or numba can be imported by
anything under it; `warm_up()` (run it in a background thread on first start) fills that cache so
the user never waits for compilation in the foreground.

Only cheap modules are imported here; pymatting is imported lazily by the modules that need it.
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


configure_numba_cache()

from editor.infer.matting.background import replace_background  # noqa: E402
from editor.infer.matting.trimap import (  # noqa: E402
    BACKGROUND,
    FOREGROUND,
    UNKNOWN,
    apply_user_trimap,
    snap_trimap,
    trimap_from_mask,
)
from editor.infer.matting.warmup import is_warm, start_warm_up, warm_up  # noqa: E402

__all__ = [
    "BACKGROUND",
    "FOREGROUND",
    "NUMBA_CACHE_ENV",
    "UNKNOWN",
    "apply_user_trimap",
    "configure_numba_cache",
    "default_numba_cache_dir",
    "is_warm",
    "replace_background",
    "snap_trimap",
    "start_warm_up",
    "trimap_from_mask",
    "warm_up",
]
