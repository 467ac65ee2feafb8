"""Icons drawn as SVG files in resources/icons (offline, no icon theme needed)."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from editor.resources import app_icon_dir, resource, sample_photo

ICONS = resource("icons")
APP_ICON = app_icon_dir() / "lucid.svg"
SAMPLE_PHOTO = sample_photo()


@cache
def icon(name: str) -> QIcon:
    path = ICONS / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"missing icon {path}")
    return QIcon(str(path))
