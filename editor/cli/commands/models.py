"""`lucid models list|fetch ID|import FILE|remove ID`: the model store without a window."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list, download, import or remove AI models")
    parser.add_argument(
        "--models-dir", type=Path, help="models folder (default: $LUCID_MODELS_DIR, else per-user)"
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="every known model with status, size and licences")
    fetch = sub.add_parser("fetch", help="download models and verify them")
    fetch.add_argument("ids", nargs="+", metavar="ID")
    fetch.add_argument(
        "--if-missing", action="store_true", help="skip models already installed (for set-up scripts)"
    )
    imp = sub.add_parser("import", help="install a weights file you already have")
    imp.add_argument("file", type=Path)
    imp.add_argument("--id", help="the model this file belongs to (default: matched by checksum)")
    rm = sub.add_parser("remove", help="delete a model's downloaded files")
    rm.add_argument("id")
    parser.set_defaults(func=run)


def _store(args: argparse.Namespace):
    from editor.infer.store import ModelStore

    return ModelStore(args.models_dir)


def run(args: argparse.Namespace) -> int:
    return {"list": _list, "fetch": _fetch, "import": _import, "remove": _remove}[args.action](args)


def _list(args: argparse.Namespace) -> int:
    from editor.infer.store import format_mb

    store = _store(args)
    infos = store.list()
    rows = [("ID", "TASK", "STATUS", "SIZE", "LICENCES", "")]
    for i in infos:
        flag = "default" if i.manifest.default else ""
        rows.append((i.id, i.task, i.status.value, format_mb(i.size_bytes), i.licences, flag))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    print(f"\nmodels folder: {store.models_dir}")
    for err in store.errors:
        print(f"lucid: warning: {err.message}", file=sys.stderr)
    return 0


class _ProgressPrinter:
    """One updating line on a terminal, a line per 10 % otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, p) -> None:
        pct = int(p.fraction * 100)
        if self.tty:
            print(f"\r{pct:3d}%  {p.stage[:70]:<70}", end="", file=sys.stderr, flush=True)
        elif pct // 10 != self.last // 10 or pct == 100:
            print(f"{pct:3d}%  {p.stage}", file=sys.stderr)
        self.last = pct

    def done(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def _fetch(args: argparse.Namespace) -> int:
    from editor.infer.api import CancelToken
    from editor.infer.store import ModelStatus

    store = _store(args)
    token = CancelToken()
    for model_id in args.ids:
        if args.if_missing and store.status(model_id) is ModelStatus.INSTALLED:
            print(f"{model_id} is already installed")
            continue
        printer = _ProgressPrinter()
        try:
            path = store.fetch(model_id, progress=printer, cancel=token)
        finally:
            printer.done()
        print(f"installed {model_id}: {path}")
    return 0


def _import(args: argparse.Namespace) -> int:
    info = _store(args).import_file(args.file, id=args.id)
    print(f"imported {args.file.name} as {info.id} ({info.status.value}): {info.path}")
    if not info.manifest.commercial_use:
        note = f"note: {info.id} is marked non-commercial or of unknown licence ({info.licences})"
        print(note, file=sys.stderr)
    return 0


def _remove(args: argparse.Namespace) -> int:
    removed = _store(args).remove(args.id)
    print(f"removed {args.id}" if removed else f"{args.id} was not installed")
    return 0
