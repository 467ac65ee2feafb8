"""`lucid convert IN OUT [--quality Q] [--to-srgb [--intent I]]`: read any supported image or project, write
PNG/JPEG/TIFF/WebP; the source's ICC profile travels, or the pixels are converted to sRGB."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from editor.cli import paths
from editor.cli.batch.spec import FileCommand


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("convert", help="convert an image or project to PNG, JPEG, TIFF or WebP")
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path, help="format from the suffix: .png .jpg .tif .webp")
    parser.add_argument("--quality", type=paths.quality, default=92,
                        help="JPEG/WebP quality 1–100 (default 92)")
    parser.add_argument("--depth", type=int, choices=(8, 16), help="bits per channel (default: the source's)")
    paths.add_overwrite(parser)
    parser.add_argument("--to-srgb", action="store_true",
                        help="convert colours from the source's ICC profile to sRGB (LittleCMS) for the web")
    parser.add_argument("--intent", choices=("perceptual", "relative", "saturation", "absolute"),
                        default="relative", help="rendering intent for --to-srgb (default relative)")
    parser.set_defaults(func=run)


def process_file(args: argparse.Namespace) -> str:
    """Convert `args.input` into `args.output`; the one-file job `run` and `lucid batch` share."""
    from editor.io.export import export_image
    from editor.io.ora import open_any

    paths.check_paths([args.input], [args.output], overwrite=args.overwrite, image_outputs=[args.output])
    doc = open_any(args.input)
    notes = export_image(doc, args.output, quality=args.quality, depth=args.depth, to_srgb=args.to_srgb,
                         intent=args.intent)
    for note in notes:
        print(f"lucid: note: {note}", file=sys.stderr)
    return f"wrote {args.output}"


def run(args: argparse.Namespace) -> int:
    print(process_file(args))
    return 0


BATCH = FileCommand(process=process_file, input="input", output="output", output_flag=None)
