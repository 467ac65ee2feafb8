"""Entry point of the frozen app (PyInstaller's script): the same `lucid` command as from source.

`freeze_support()` must run first: a frozen program started as a multiprocessing child (torch or a
library may spawn one) would otherwise start a second copy of the whole app.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from editor.cli import main

    sys.exit(main())
