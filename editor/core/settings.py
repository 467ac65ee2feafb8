"""User preferences: a validated dataclass stored as JSON in the platform's config folder.

Qt-free so the CLI, the inference service and tests read the same values as the preferences dialog.
`LUCID_CONFIG_DIR` overrides the folder (tests point it at a temporary directory).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from editor.core.atomic import atomic_write_bytes
from editor.core.errors import LucidError

SETTINGS_SCHEMA = 1
EXPORT_FORMATS = ("png", "jpeg", "webp", "tiff")
DEVICES = ("auto", "cpu", "cuda", "mps")


class SettingsError(LucidError):
    """A preference value is out of range, or the settings file cannot be read or written."""


def config_dir() -> Path:
    """Folder for settings.json (and the UI's window state): env override, else platformdirs."""
    override = os.environ.get("LUCID_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("Lucid", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Every preference with its default. Frozen: change with `dataclasses.replace` then `validate`."""

    undo_memory_mb: int = 1024
    export_format: str = "png"
    export_quality: int = 92
    models_dir: str = ""  # empty = the platform default (the inference store decides)
    compute_device: str = "auto"
    autosave_minutes: int = 5  # 0 = off
    memory_budget_mb: int = 0  # document memory budget; 0 = automatic (editor.core.budget)
    schema: int = SETTINGS_SCHEMA

    def validate(self) -> Settings:
        """Return self when every value is usable, else raise SettingsError naming the field."""
        if not 64 <= self.undo_memory_mb <= 65536:
            raise SettingsError(f"Undo memory must be between 64 and 65536 MB, not {self.undo_memory_mb}.")
        if self.export_format not in EXPORT_FORMATS:
            raise SettingsError(
                f"Export format must be one of {', '.join(EXPORT_FORMATS)}, not {self.export_format!r}."
            )
        if not 1 <= self.export_quality <= 100:
            raise SettingsError(f"Export quality must be between 1 and 100, not {self.export_quality}.")
        if self.compute_device not in DEVICES:
            raise SettingsError(
                f"Compute device must be one of {', '.join(DEVICES)}, not {self.compute_device!r}."
            )
        if not 0 <= self.autosave_minutes <= 240:
            raise SettingsError(
                f"Autosave interval must be 0 (off) to 240 minutes, not {self.autosave_minutes}."
            )
        if self.memory_budget_mb != 0 and not 256 <= self.memory_budget_mb <= 4 << 20:
            raise SettingsError(
                f"Memory budget must be 0 (automatic) or 256 to {4 << 20} MB, not {self.memory_budget_mb}."
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Build from stored JSON: unknown keys are ignored, wrong types raise SettingsError."""
        out = cls()
        changes: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data or f.name == "schema":
                continue
            default = getattr(out, f.name)
            value = data[f.name]
            if isinstance(default, int) and not isinstance(default, bool):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise SettingsError(f"Setting {f.name!r} must be a whole number, not {value!r}.")
            elif isinstance(default, str) and not isinstance(value, str):
                raise SettingsError(f"Setting {f.name!r} must be text, not {value!r}.")
            changes[f.name] = value
        return replace(out, **changes).validate()


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings(path: Path | None = None) -> Settings:
    """Read settings; a missing file gives the defaults, a broken one raises SettingsError."""
    path = path or settings_path()
    if not path.exists():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsError(f"Cannot read the settings file {path}.", detail=str(exc)) from exc
    if not isinstance(data, dict):
        raise SettingsError(f"The settings file {path} does not hold a JSON object.")
    return Settings.from_dict(data)


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Validate and write atomically so a crash or a full disk never leaves half a file (or a temp file)."""
    settings.validate()
    path = path or settings_path()
    text = json.dumps(settings.to_dict(), indent=2, sort_keys=True)
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise SettingsError(f"Cannot write the settings file {path}.", detail=str(exc)) from exc
    return path
