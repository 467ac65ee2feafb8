"""Window geometry and recent files, kept in an INI file beside settings.json (QSettings, not the registry).

Using the settings folder (not QSettings' platform default) keeps tests hermetic via LUCID_CONFIG_DIR.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from editor.core.settings import config_dir

MAX_RECENT = 10


class WindowState:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "window.ini"
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def recent_files(self) -> list[Path]:
        value = self._qs.value("recent", [])
        if isinstance(value, str):  # QSettings returns a bare string for one-element lists
            value = [value]
        return [Path(v) for v in value or []]

    def add_recent(self, path: Path) -> list[Path]:
        path = Path(path).resolve()
        recent = [path] + [p for p in self.recent_files() if p != path]
        recent = recent[:MAX_RECENT]
        self._qs.setValue("recent", [str(p) for p in recent])
        self._qs.sync()
        return recent

    def clear_recent(self) -> None:
        self._qs.setValue("recent", [])
        self._qs.sync()

    def geometry(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self._qs.value("geometry"), self._qs.value("state")

    def save_geometry(self, geometry: QByteArray, state: QByteArray) -> None:
        self._qs.setValue("geometry", geometry)
        self._qs.setValue("state", state)
        self._qs.sync()
