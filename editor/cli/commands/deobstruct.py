"""`lucid deobstruct FRAME... -o OUT`: remove a fence, raindrops or a reflection using a burst of photos."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from editor.cli import paths
from editor.core.errors import LucidError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deobstruct",
        help="see through a fence or reflection using 3–7 photos taken while moving slightly",
        description="Align the frames on the background, separate the obstruction (which moves "
        "differently) and write the clean background of the reference frame.",
    )
    parser.add_argument("frames", nargs="+", type=Path, metavar="FRAME")
    parser.add_argument("-o", "--output", type=Path, required=True, help="clean background image")
    parser.add_argument(
        "--kind",
        choices=["fence", "reflection", "auto"],
        default="auto",
        help="fence = any opaque obstruction (fences, wires, raindrops, dirt); "
        "reflection = light reflected in glass; auto guesses (default)",
    )
    parser.add_argument(
        "--reference",
        type=int,
        metavar="K",
        help="which frame (1 = first) to clean up; default the middle one",
    )
    parser.add_argument(
        "--layers",
        type=Path,
        metavar="DIR",
        help="also write background.png and obstruction.png (RGBA) into DIR",
    )
    paths.add_overwrite(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from editor.core.pixels import to_float
    from editor.infer.api import CancelToken, Request
    from editor.infer.tasks.obstruction import run as run_task
    from editor.io.export import export_image
    from editor.io.images import load_image

    n = len(args.frames)
    if args.reference is not None and not 1 <= args.reference <= n:
        raise LucidError(
            f"--reference must be between 1 and {n} (the number of frames), got {args.reference}"
        )
    layer_files = [args.layers / "background.png", args.layers / "obstruction.png"] if args.layers else []
    paths.check_paths(args.frames, [args.output, *layer_files], overwrite=args.overwrite,
                      image_outputs=[args.output])
    frames = [to_float(load_image(p).pixels)[..., :3] for p in args.frames]
    sizes = {f.shape[:2] for f in frames}
    if len(sizes) > 1:
        listing = ", ".join(
            f"{p.name} {f.shape[1]}×{f.shape[0]}" for p, f in zip(args.frames, frames, strict=True)
        )
        raise LucidError(f"all frames must have the same size (after EXIF orientation): {listing}")
    params: dict = {"kind": args.kind}
    if args.reference is not None:
        params["reference"] = args.reference - 1
    result = run_task(
        Request(task="obstruction", inputs={"frames": frames}, params=params),
        _progress_printer(),
        CancelToken(),
    )
    for note in export_image(result.image, args.output):
        print(f"lucid: note: {note}", file=sys.stderr)
    if args.layers is not None:
        args.layers.mkdir(parents=True, exist_ok=True)
        export_image(result.image, args.layers / "background.png")
        export_image(result.images["obstruction"], args.layers / "obstruction.png")
    info = result.info
    guessed = f" (guessed, score {info['auto_score']})" if "auto_score" in info else ""
    print(f"wrote {args.output}: kind {info['kind']}{guessed}, reference frame {info['reference'] + 1}")
    return 0


def _progress_printer():
    """Stage changes on stderr, so scripts reading stdout see only the summary line."""
    last = {"stage": None}

    def show(p) -> None:
        stage = p.stage.split(" of ")[0] if p.stage else ""
        if stage and stage != last["stage"] and sys.stderr.isatty():
            print(f"  {p.stage}", file=sys.stderr)
        last["stage"] = stage

    return show
