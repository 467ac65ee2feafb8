"""Command-line arguments checked before any work starts: outputs never clobber inputs by accident,
inputs are regular files, and numbers are in range (argparse `type=` helpers).

Why: a job that runs for minutes and then fails on `--quality 0`, or silently replaces the photo it
was reading (`-o photo.png`), loses the user's time or their original.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Iterable
from pathlib import Path

from editor.core.errors import LucidError
from editor.io.safe_input import require_regular_file


def add_overwrite(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true",
                        help="allow the output to replace an input file (written atomically after the job)")


def same_file(a: Path, b: Path) -> bool:
    """Same inode when both exist (hard links, `./x` vs `x`), else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.expanduser().resolve() == b.expanduser().resolve()


def check_paths(inputs: Iterable[Path | None], outputs: Iterable[Path | None], *, overwrite: bool = False,
                image_outputs: Iterable[Path | None] = ()) -> None:
    """Raise a one-line LucidError before work starts when an argument cannot succeed.

    `inputs` must be regular files; no output may be an input unless `overwrite`; `image_outputs`
    (a subset of, or the same as, `outputs`) must have a suffix Lucid can write.
    """
    from editor.io.export import format_for

    ins = [Path(p) for p in inputs if p is not None]
    outs = [Path(p) for p in outputs if p is not None]
    for path in ins:
        require_regular_file(path)
    for path in image_outputs:
        if path is not None:
            format_for(path)
    for out in outs:
        clash = next((p for p in ins if same_file(p, out)), None)
        if clash is not None and not overwrite:
            raise LucidError(f"{out}: this is the input file {clash.name}; refusing to overwrite it "
                             "(choose another output, or pass --overwrite)")
        if out.exists() and not out.is_file():
            raise LucidError(f"{out}: exists and is not a regular file; choose another output")


def seed(text: str) -> int:
    """argparse type: a seed is a whole number 0 … 2**63 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**63-1, got {value}")
    return value


def quality(text: str) -> int:
    """argparse type: JPEG/WebP quality 1–100."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be between 1 and 100, got {value}")
    return value


def number_in(low: float, high: float, *, integer: bool = False):
    """argparse type factory: a finite number in [low, high] (0 is not a silent 'default')."""

    def parse(text: str) -> float:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise argparse.ArgumentTypeError(f"must be {kind}, got {text!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}, got {text}")
        return value

    return parse
