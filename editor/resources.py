"""Where Lucid's read-only files (`resources/`: icons, the sample photo) are, from source or frozen.

From source they sit beside the `editor` package; in a PyInstaller build the spec copies them to
`<bundle>/resources`, and `sys._MEIPASS` is the bundle's root (one-folder: `_internal/`; macOS
`.app`: `Contents/Frameworks`, which links to `Contents/Resources`). Everything here is read-only:
never write into it (a frozen bundle may live in a folder the user cannot write to).
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The `resources/` folder: the frozen bundle's copy, else the one beside the source tree."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource(*parts: str) -> Path:
    """Path of a file under `resources/` (it may not exist: callers check and explain)."""
    return resources_dir().joinpath(*parts)


def sample_photo() -> Path:
    """The photo Lucid opens when started without a file (licence in `resources/samples/LICENSE.md`)."""
    return resource("samples", "coffee.png")


def app_icon_dir() -> Path:
    """The app icon in every size (`lucid.svg`, `lucid-<N>.png`, `lucid.ico`, `lucid.icns`)."""
    return resource("icons", "app")
