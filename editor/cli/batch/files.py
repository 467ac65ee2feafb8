"""Inputs of a batch and where each one's output goes: the input tree mirrored under OUT_DIR."""

from __future__ import annotations

import contextlib
import fnmatch
import glob
from pathlib import Path

from editor.core.errors import LucidError

# What `lucid batch` picks up without --pattern: the formats the single-file commands read.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".bmp", ".ora"})
ON_EXISTS = ("skip", "overwrite", "rename")


def check_folders(in_dir: Path, out_dir: Path) -> None:
    if not in_dir.is_dir():
        raise LucidError(f"The input folder {in_dir} does not exist or is not a folder.")
    if in_dir.resolve() == out_dir.resolve():
        raise LucidError("The output folder must differ from the input folder (outputs would mix with "
                         "the originals); pass another -o.")
    if out_dir.exists() and not out_dir.is_dir():
        raise LucidError(f"{out_dir} exists and is not a folder.")


def scan(in_dir: Path, pattern: str | None, exclude: Path | None = None) -> list[str]:
    """Relative POSIX paths of the input files, sorted; hidden files and `exclude` (OUT_DIR) left out.

    `pattern` matches the file name (`*.jpg`) or, when it has a `/`, the relative path (`2024/*.tif`).
    """
    excluded = exclude.resolve() if exclude is not None else None
    found = []
    for path in in_dir.rglob("*"):
        rel = path.relative_to(in_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if excluded is not None and excluded in path.resolve().parents:
            continue
        name = rel.as_posix()
        if pattern is None:
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
        elif not fnmatch.fnmatch(name if "/" in pattern else path.name, pattern):
            continue
        found.append(name)
    return sorted(found)


def output_name(rel: str, suffix: str | None) -> str:
    """`rel` with the output suffix (`--format`, else the task's default, else the input's own)."""
    p = Path(rel)
    return p.with_suffix(suffix).as_posix() if suffix else p.as_posix()


def renamed(rel: str, taken: set[str], out_dir: Path) -> str:
    """`name-1.ext`, `name-2.ext`, …: the first that neither exists in `out_dir` nor is planned."""
    p = Path(rel)
    n = 1
    while True:
        candidate = p.with_name(f"{p.stem}-{n}{p.suffix}").as_posix()
        if candidate not in taken and not (out_dir / candidate).exists():
            return candidate
        n += 1


def matched_file(folder: Path, rel: str) -> Path | None:
    """The file in `folder` with `rel`'s relative name and any image suffix (masks are often PNG)."""
    stem = Path(rel).with_suffix("")
    exact = folder / rel
    if exact.is_file():
        return exact
    candidates = sorted(p for p in (folder / stem.parent).glob(f"{glob.escape(stem.name)}.*")
                        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    return candidates[0] if candidates else None


def remove_stale_temps(out_dir: Path, outputs: list[str]) -> int:
    """Delete temp files a killed run left beside its outputs (atomic_write's `.NAME.*.tmp`)."""
    removed = 0
    for folder, names in _by_folder(out_dir, outputs).items():
        if not folder.is_dir():
            continue
        for name in names:
            for tmp in folder.glob(f".{glob.escape(name)}.*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()
                    removed += 1
    return removed


def _by_folder(out_dir: Path, outputs: list[str]) -> dict[Path, set[str]]:
    folders: dict[Path, set[str]] = {}
    for rel in outputs:
        p = out_dir / rel
        folders.setdefault(p.parent, set()).add(p.name)
    return folders
