"""`lucid edit IN -o OUT [geometry] [adjustments] [--preset FILE]`: crop, straighten, rotate, flip, resize and
adjust without a window, in the panel's order (see `editor.core.adjust.look`). To `.ora` the adjustments
stay editable layers; to PNG/JPEG/TIFF/WebP the result is flattened. 16-bit sources stay 16-bit."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from editor.cli import paths
from editor.cli.batch.spec import FileCommand
from editor.core.errors import LucidError


def _ints(text: str, count: int, sep: str, what: str) -> tuple[int, ...]:
    parts = text.lower().replace("×", "x").split(sep)
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != count:
        raise argparse.ArgumentTypeError(f"{what} must look like {sep.join(['N'] * count)}, got {text!r}")
    return values


def _floats(text: str) -> list[float]:
    try:
        return [float(p) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None


def _curve(text: str) -> list[list[float]]:
    points = []
    for pair in text.split(","):
        try:
            x, y = (float(v) for v in pair.split(":"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"curve points look like X:Y,X:Y (0…1), got {text!r}") from None
        points.append([x, y])
    return points


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "edit", help="crop, straighten, rotate, flip, resize and adjust an image or project",
        description="Applied in this order: crop (input coordinates), straighten (auto-cropped), rotate, "
                    "flip, resize, then white balance, exposure, contrast, highlights/shadows, levels, "
                    "curves, "
                    "hue/saturation/vibrance. Flags override the same settings of --preset.")
    p.add_argument("input", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True,
                   help=".ora keeps adjustments as layers; .png .jpg .tif .webp are flattened")
    p.add_argument("--preset", type=Path, help="JSON of the same settings (a look saved from the app)")
    p.add_argument("--crop", type=lambda t: _ints(t, 4, ",", "--crop"), metavar="X,Y,W,H")
    p.add_argument("--straighten", type=float, metavar="DEG", help="clockwise degrees, within ±45")
    p.add_argument("--rotate", type=int, choices=(90, 180, 270), help="clockwise quarter turns")
    p.add_argument("--flip", choices=("h", "v"))
    size = p.add_mutually_exclusive_group()
    size.add_argument("--resize", type=lambda t: _ints(t, 2, "x", "--resize"), metavar="WxH")
    size.add_argument("--long-edge", type=int, metavar="N")
    p.add_argument("--exposure", type=float, metavar="EV", help="stops, in linear light")
    p.add_argument("--contrast", type=float, metavar="N", help="−100…100")
    p.add_argument("--highlights", type=float, metavar="N", help="−100…100")
    p.add_argument("--shadows", type=float, metavar="N", help="−100…100")
    p.add_argument("--levels", type=_floats, metavar="B,G,W", help="black and white point 0…1, grey as gamma")
    p.add_argument("--curve", type=_curve, metavar="X:Y,…", help="master curve points 0…1 (PCHIP spline)")
    p.add_argument("--temperature", type=float, metavar="K", help="light to neutralise; 6500 changes nothing")
    p.add_argument("--tint", type=float, metavar="N", help="−100…100 (+ is magenta)")
    p.add_argument("--hue", type=float, metavar="DEG")
    p.add_argument("--saturation", type=float, metavar="N", help="−100…100")
    p.add_argument("--vibrance", type=float, metavar="N", help="−100…100")
    p.add_argument("--quality", type=int, default=92, help="JPEG/WebP quality 1–100 (default 92)")
    p.add_argument("--overwrite", action="store_true", help="allow OUT to replace IN")
    p.set_defaults(func=run)


def look_from_args(args: argparse.Namespace):
    """The preset (if any) with the flags on top."""
    from editor.core.adjust.look import FLAT, Look, look_from_dict, merge

    base = Look()
    if args.preset is not None:
        try:
            data = json.loads(args.preset.read_text(encoding="utf-8"))
        except OSError as exc:
            raise LucidError(f"{args.preset.name}: cannot read the preset ({exc.strerror or exc})") from None
        except ValueError as exc:
            raise LucidError(f"{args.preset.name}: not valid JSON ({exc})") from None
        base = look_from_dict(data)
    flags = {"crop": args.crop, "straighten": args.straighten, "rotate": args.rotate, "flip": args.flip,
             "resize": args.resize, "long_edge": args.long_edge}
    flags.update({key: getattr(args, key) for key in FLAT})
    over = look_from_dict({k: v for k, v in flags.items() if v is not None})
    return merge(base, over)


def process_file(args: argparse.Namespace) -> str:
    """Edit one photo into `args.output`; the one-file job `run` and `lucid batch edit` share."""
    from editor.core.adjust.look import apply_look
    from editor.io.export import export_image
    from editor.io.ora import is_project, open_any, save_project

    to_project = is_project(args.output) if args.output.exists() else args.output.suffix.lower() == ".ora"
    paths.check_paths([args.input], [args.output], overwrite=args.overwrite,
                      image_outputs=[] if to_project else [args.output])
    look = look_from_args(args)
    doc = open_any(args.input)
    apply_look(doc, look)
    if to_project:
        save_project(doc, args.output)
    else:
        for note in export_image(doc, args.output, quality=args.quality):
            print(f"lucid: note: {note}", file=sys.stderr)
    return f"wrote {args.output} ({doc.width}×{doc.height}, {doc.depth}-bit)"


def run(args: argparse.Namespace) -> int:
    print(process_file(args))
    return 0


BATCH = FileCommand(process=process_file, input="input")
