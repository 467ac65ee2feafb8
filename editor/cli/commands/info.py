"""`lucid info FILE`: format, size, depth, metadata and (for projects) the layer tree."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="describe an image or an OpenRaster project")
    parser.add_argument("file", type=Path)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from editor.io.ora import is_project, load_project
    from editor.io.safe_input import require_regular_file

    path: Path = require_regular_file(args.file)
    if is_project(path):
        doc = load_project(path)
        print(f"{path.name}: OpenRaster project, {doc.width}×{doc.height}, {doc.depth}-bit RGBA")
        meta = doc.metadata
        print(f"  ICC profile: {'yes' if meta.icc_profile else 'no'}   EXIF: {'yes' if meta.exif else 'no'}")
        print(f"  layers ({len(doc.all_layers())}, top first):")
        _print_layers(doc.root.children, 2)
        return 0
    from editor.core.budget import current_budget, layer_bytes
    from editor.io.images import describe_header, load_image

    head = describe_header(path)
    # Decoding peaks at ~4× the RGBA pixels (Pillow's buffer, the RGBA copy, orientation): measured 3.5 GB
    # for a 225 MP RGB TIFF. A quick look may use half the budget; past that the header tells enough.
    decoding = 4 * layer_bytes(head["width"], head["height"], head["depth"]) if head else 0
    if head is not None and not current_budget().fits(2 * decoding):
        print(f"{path.name}: {head['format']}, {head['width']}×{head['height']}, mode {head['mode']}, "
              f"{head['depth']}-bit")
        print(f"  ICC profile: {'yes' if head['icc'] else 'no'}   EXIF: {'yes' if head['exif'] else 'no'}")
        print("  note: described from its header only (decoding it would exceed the memory budget)")
        return 0
    img = load_image(path)
    info = img.info
    print(f"{path.name}: {img.format}, {img.width}×{img.height}, mode {info.get('mode')}, {img.depth}-bit")
    print(f"  ICC profile: {'yes' if img.icc_profile else 'no'}   EXIF: {'yes' if img.exif else 'no'}")
    if info.get("frames", 1) > 1:
        print(f"  frames/pages: {info['frames']} (the first is used)")
    if info.get("orientation_applied"):
        print(f"  EXIF orientation {info['orientation_applied']} applied")
    for note in info.get("notes", []):
        print(f"  note: {note}")
    return 0


def _print_layers(layers: list, indent: int) -> None:
    for layer in reversed(layers):
        flags = [layer.kind, layer.blend_mode.label.lower(), f"opacity {layer.opacity:.2f}"]
        if not layer.visible:
            flags.append("hidden")
        if getattr(layer, "mask", None) is not None:
            flags.append("masked")
        size = f" {layer.width}×{layer.height} at {layer.offset}" if hasattr(layer, "pixels") else ""
        print(f"{' ' * (indent + 2)}- {layer.name}{size} ({', '.join(flags)})")
        if layer.kind == "group":
            _print_layers(layer.children, indent + 2)
