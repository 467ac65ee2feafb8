"""`lucid` command line. Headless commands never import Qt; plain `lucid [FILE…]` opens the window.

Each module in `editor.cli.commands` exposes `register(subparsers)` and sets `func` on its parser;
adding a command means adding a module.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from editor import __version__
from editor.core.errors import LucidError


def _command_modules() -> list[str]:
    import editor.cli.commands as commands

    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lucid", description="Lucid photo editor.")
    parser.add_argument("--version", action="version", version=f"lucid {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_modules():
        importlib.import_module(f"editor.cli.commands.{name}").register(sub)
    return parser


def _is_command(word: str) -> bool:
    return word.replace("-", "_") in _command_modules() or word in {"-h", "--help", "--version"}


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--self-test"]:  # the installation check (packaging); works without a display
        from editor.selftest import main as self_test

        return self_test(args_list[1:])
    if not args_list or not _is_command(args_list[0]):
        # `lucid`, `lucid photo.jpg …`, `lucid --self-test`: the GUI path.
        from editor.app import main as gui_main

        return gui_main(args_list)
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        return int(args.func(args) or 0)
    except LucidError as exc:
        print(f"lucid: error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lucid: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
