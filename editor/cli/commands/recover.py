"""`lucid recover --list`: the crash-recovery files (path, original file, time, state) for scripts."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recover", help="list autosaved crash-recovery files",
        description="One line per recovery file, tab-separated: PATH, SOURCE (the original file, or -), "
        "TIME (ISO 8601) and STATE (recoverable = its Lucid is gone; running = still open). "
        "Open one with `lucid PATH`, or start Lucid to be offered them.")
    parser.add_argument("--list", action="store_true", help="list the recovery files (the default)")
    parser.add_argument("--dir", type=Path,
                        help="recovery folder (default: $LUCID_RECOVERY_DIR, else per-user)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from editor.io.recovery import list_entries

    for entry in list_entries(args.dir):
        when = dt.datetime.fromtimestamp(entry.saved_at).astimezone().isoformat(timespec="seconds")
        state = "running" if entry.alive() else "recoverable"
        print(f"{entry.project}\t{entry.source or '-'}\t{when}\t{state}")
    return 0
