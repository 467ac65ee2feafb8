"""`lucid matte IMAGE (--trimap TRIMAP | --plate PLATE | --subject person|auto) -o OUT [--engine …]`.

Cuts the subject out with a soft alpha matte, headless. TRIMAP is a grey image: 0 background,
128 unknown, 255 foreground (other greys snap to the nearest). PLATE is a photo of the same scene
without the subject (background-plate matting); a --trimap given with it acts as brush corrections.
--subject needs no trimap: the subject model's mask (refined to a rough --selection when given)
seeds a trimap whose band (--band, default 1 % of the longer side) the matting solves.
OUT is RGBA (estimated foreground colours + the matte as alpha) unless --background is given:
a colour (#rrggbb, r,g,b or a name), an image file (scaled to cover), or `blur` (blurred original).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from editor.cli import paths
from editor.cli.batch.spec import FileCommand
from editor.core.errors import LucidError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("matte", help="cut out the subject with a soft alpha matte")
    parser.add_argument("image", type=Path)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--trimap", type=Path, help="trimap image: 0 background, 128 unknown, 255 foreground")
    source.add_argument(
        "--plate", type=Path, help="clean background plate: the same scene without the subject"
    )
    source.add_argument(
        "--subject", choices=("person", "auto"), help="find the subject with a model: no trimap needed"
    )
    parser.add_argument("--selection", type=Path, help="with --subject: a rough mask around the subject")
    parser.add_argument("--band", type=int, help="with --subject: trimap band in pixels")
    parser.add_argument(
        "--corrections",
        type=Path,
        help="with --plate: a trimap whose black/white areas override the automatic one",
    )
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="output file (.png .tif .webp; .jpg flattens)"
    )
    parser.add_argument(
        "--engine",
        choices=("cf", "knn", "lkm"),
        default="cf",
        help="closed-form (default), KNN or large-kernel matting",
    )
    parser.add_argument("--background", help="composite over this: a colour, an image file, or 'blur'")
    paths.add_overwrite(parser)
    parser.set_defaults(func=run)


def _load(path: Path, what: str):
    from editor.core.pixels import to_float
    from editor.io.images import load_image

    if not path.is_file():
        raise LucidError(f"The {what} {path} does not exist.")
    try:
        loaded = load_image(path)
    except LucidError as exc:
        raise LucidError(f"Cannot read the {what} {path.name}: {exc.message}") from exc
    return to_float(loaded.pixels)


def _background(spec: str, shape: tuple[int, int]):
    """A colour, 'blur', or an image scaled to cover `shape` and centre-cropped."""
    import cv2

    from editor.infer.matting.background import parse_color

    if spec == "blur":
        return "blur"
    path = Path(spec)
    if not path.is_file():
        return parse_color(spec)  # raises a clear error for neither colour nor file
    img = _load(path, "background image")[..., :3]
    h, w = shape
    s = max(h / img.shape[0], w / img.shape[1])
    size = (max(w, round(img.shape[1] * s)), max(h, round(img.shape[0] * s)))
    img = cv2.resize(img, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[y : y + h, x : x + w]


def _same_size(arr, image, what: str, path: Path) -> None:
    if arr.shape[:2] != image.shape[:2]:
        raise LucidError(
            f"The {what} {path.name} is {arr.shape[1]}×{arr.shape[0]} but the image is "
            f"{image.shape[1]}×{image.shape[0]}; they must be the same size."
        )


def process_file(args: argparse.Namespace, progress=None) -> str:
    """Matte `args.image` into `args.output`; the one-file job `run` and `lucid batch` share."""
    from editor.infer.api import CancelToken, Request, no_progress
    from editor.infer.matting.trimap import snap_trimap
    from editor.infer.tasks.matting import run as matting

    background_file = Path(args.background) if args.background and Path(args.background).is_file() else None
    if args.subject is not None:
        paths.check_paths([args.image, args.selection, background_file], [args.output],
                          overwrite=args.overwrite, image_outputs=[args.output])
        return _run_subject(args, progress or no_progress)
    if args.corrections is not None and args.plate is None:
        raise LucidError("--corrections only applies with --plate (with --trimap, edit the trimap itself).")
    paths.check_paths([args.image, args.trimap, args.plate, args.corrections, background_file], [args.output],
                      overwrite=args.overwrite, image_outputs=[args.output])
    image = _load(args.image, "image")[..., :3]
    background = _background(args.background, image.shape[:2]) if args.background else None
    inputs = {}
    trimap_path = args.trimap or args.corrections
    if trimap_path is not None:
        trimap = _load(trimap_path, "trimap")
        _same_size(trimap, image, "trimap", trimap_path)
        inputs["trimap"] = snap_trimap(trimap[..., 0])
    if args.plate is not None:
        plate = _load(args.plate, "plate")[..., :3]
        _same_size(plate, image, "plate", args.plate)
        inputs["plate"] = plate
    mode = "plate" if args.plate is not None else "trimap"
    request = Request(
        task="matting", image=image, inputs=inputs, params={"mode": mode, "engine": args.engine}
    )
    result = matting(request, progress or no_progress, CancelToken())
    _write_cutout(result.image, image, background, args.output)
    return f"wrote {args.output}"


def run(args: argparse.Namespace) -> int:
    print(process_file(args, _stage_printer()), file=sys.stderr)
    return 0


def _write_cutout(cutout, image, background, output: Path) -> None:
    """Export the cut-out, composited over `background` first when one was given."""
    from editor.infer.matting.background import replace_background
    from editor.io.export import export_image

    if background is not None:
        cutout = replace_background(cutout, background, original=image)
    for note in export_image(cutout, output):
        print(f"lucid: note: {note}", file=sys.stderr)


def _run_subject(args: argparse.Namespace, progress) -> str:
    """One click: subject model → (GrabCut on a rough selection) → trimap → closed-form matte."""
    from editor.infer.api import Request
    from editor.infer.service import run_direct
    from editor.infer.store import ModelStore
    from editor.infer.subject import subject_model

    image = _load(args.image, "image")[..., :3]
    background = _background(args.background, image.shape[:2]) if args.background else None
    inputs = {}
    if args.selection is not None:
        sel = _load(args.selection, "selection")
        _same_size(sel, image, "selection", args.selection)
        inputs["selection"] = sel[..., :3].mean(-1) if sel.shape[2] >= 3 else sel[..., 0]
    store = ModelStore()
    request = Request(
        task="cutout",
        image=image,
        inputs=inputs,
        model_id=subject_model(store, args.subject),
        params={"engine": args.engine, "band_px": args.band},
    )
    result = run_direct(request, store=store, progress=progress)
    _write_cutout(result.image, image, background, args.output)
    return f"wrote {args.output} ({result.info['model_id']}, band {result.info['band_px']} px)"


def _stage_printer():
    """Progress that prints each new stage once (the single-file command; batch shows its own bar)."""
    last = [""]

    def progress(p) -> None:
        if p.stage and p.stage != last[0] and p.stage != "Done":
            last[0] = p.stage
            print(f"{p.stage}…", file=sys.stderr)

    return progress


BATCH = FileCommand(process=process_file, matched=("trimap", "plate", "corrections"), default_suffix=".png")
