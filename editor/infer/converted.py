"""The checksum of a converted model, recorded when conversion runs from verified sources.

A converted file (ncnn → safetensors, TorchScript → safetensors) has no published sha256: the store
writes `<output>.lucid-sha256.json` beside it — the converted file's sha256 plus the sha256 of each
verified source it came from — and checks the file against it whenever the model is loaded. A
byte-flipped or swapped file, or one whose record is missing, is not used.
"""

from __future__ import annotations

import json
from pathlib import Path

RECORD_SUFFIX = ".lucid-sha256.json"


def record_path(converted: Path) -> Path:
    return converted.with_name(converted.name + RECORD_SUFFIX)


def record_text(sha256: str, sources: dict[str, str]) -> str:
    """The record's content: the converted file's sha256 and its sources' sha256s."""
    return json.dumps({"sha256": sha256, "sources": sources}, indent=1, sort_keys=True)


def recorded_sha256(converted: Path, sources: dict[str, str | None]) -> str | None:
    """The recorded sha256 of `converted`, or None when there is no usable record for these sources
    (missing, unreadable, or made from other source files than the manifest names now)."""
    try:
        data = json.loads(record_path(converted).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sha256"), str):
        return None
    if data.get("sources") != {k: v for k, v in sources.items() if v is not None}:
        return None
    return data["sha256"]
