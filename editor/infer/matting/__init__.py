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

from editor.infer.numba_cache import NUMBA_CACHE_ENV, configure_numba_cache, default_numba_cache_dir

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
