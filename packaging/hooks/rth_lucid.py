"""PyInstaller runtime hook: set Lucid's environment before any app or library code is imported.

- numba caches compiled kernels next to a module's source by default, i.e. inside the bundle, which
  may be read-only (Program Files, a signed .app, a root-owned /opt): point it at the user's cache.
- Modules shipped as plain .py (numba-cached kernels, see lucid.spec) must not get a __pycache__
  written beside them.
- superqt (through qtpy) must pick the one Qt binding the bundle carries.
- Models, settings and caches already live in the user's folders (platformdirs); nothing writes
  into `sys._MEIPASS`.
Values the user set explicitly win (setdefault), so `NUMBA_CACHE_DIR=… lucid` still works.
"""

import contextlib
import os
import sys


def _lucid_env() -> None:
    sys.dont_write_bytecode = True
    os.environ.setdefault("QT_API", "pyside6")
    if not os.environ.get("NUMBA_CACHE_DIR"):
        from platformdirs import user_cache_dir

        os.environ["NUMBA_CACHE_DIR"] = os.path.join(user_cache_dir("Lucid", appauthor=False), "numba")
    # An unwritable home: numba then compiles without caching; the app still runs.
    with contextlib.suppress(OSError):
        os.makedirs(os.environ["NUMBA_CACHE_DIR"], exist_ok=True)


_lucid_env()
del _lucid_env
