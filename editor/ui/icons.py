"""Icons drawn as SVG files in resources/icons (offline, no icon theme needed)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ICONS = RESOURCES / "icons"
SAMPLE_PHOTO = RESOURCES / "samples" / "coffee.png"


@cache
def icon(name: str) -> QIcon:
    path = ICONS / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"missing icon {path}")
    return QIcon(str(path))
