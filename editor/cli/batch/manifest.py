"""OUT_DIR/.lucid-batch.json: what a batch was asked to do and how far it got, written atomically.

Why in the output folder: the outputs and the record of which of them are finished travel together,
so `--resume` (on this machine or from a cluster client) needs nothing but the folder.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from editor import __version__
from editor.core.errors import LucidError
from editor.io.atomic import atomic_write

MANIFEST_NAME = ".lucid-batch.json"
VERSION = 1


class FileState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # the output existed before the batch and --on-exists skip kept it


@dataclass
class FileEntry:
    output: str  # relative to OUT_DIR
    size: int
    mtime: float
    sha256: str
    state: FileState = FileState.PENDING
    error: str | None = None
    seconds: float | None = None
    matched: dict[str, str] = field(default_factory=dict)  # option dest → file matched by name


@dataclass
class Manifest:
    task: str
    options: list[str]
    input_dir: str
    pattern: str | None
    on_exists: str
    format: str | None = None  # output suffix chosen by --format (None: the task's default or the input's)
    files: dict[str, FileEntry] = field(default_factory=dict)  # relative input path → entry
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    lucid_version: str = __version__
    version: int = VERSION

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in FileState}
        for entry in self.files.values():
            out[entry.state.value] += 1
        return out

    def save(self, out_dir: Path) -> None:
        self.updated = time.time()
        data = asdict(self)
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(out_dir / MANIFEST_NAME) as fh:
            fh.write(json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))


def load_manifest(out_dir: Path) -> Manifest | None:
    path = out_dir / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {VERSION}")
        files = {k: FileEntry(**{**v, "state": FileState(v["state"])}) for k, v in data.pop("files").items()}
        return Manifest(**data, files=files)
    except (ValueError, TypeError, KeyError) as exc:
        raise LucidError(f"{path} is not a batch manifest Lucid can read ({exc}); "
                         "move it away to start the batch over.") from exc
