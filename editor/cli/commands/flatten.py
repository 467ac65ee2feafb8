"""`lucid flatten PROJECT.ora OUT`: write a project's composite as one image."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from editor.cli import paths
from editor.core.errors import LucidError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("flatten", help="write an OpenRaster project's composite as an image")
    parser.add_argument("project", type=Path)
    parser.add_argument("output", type=Path, help="format from the suffix: .png .jpg .tif .webp")
    parser.add_argument("--quality", type=paths.quality, default=92,
                        help="JPEG/WebP quality 1–100 (default 92)")
    paths.add_overwrite(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from editor.io.export import export_image
    from editor.io.ora import is_project, load_project

    paths.check_paths([args.project], [args.output], overwrite=args.overwrite, image_outputs=[args.output])
    if not is_project(args.project):
        raise LucidError(f"{args.project.name}: not an OpenRaster project (.ora)")
    doc = load_project(args.project)
    for note in export_image(doc, args.output, quality=args.quality):
        print(f"lucid: note: {note}", file=sys.stderr)
    print(f"wrote {args.output}")
    return 0
