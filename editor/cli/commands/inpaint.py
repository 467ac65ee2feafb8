"""`lucid inpaint IMAGE --mask MASK -o OUT [--engine …] [--seed N]`: fill a masked region without a window.

MASK is an image of the same size: white = fill, black = keep, grey = a soft edge. Runs the same
`inpaint` task the app's Inpaint tool runs; a 16-bit source is filled in float and written at 16 bits.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from editor.cli import paths
from editor.cli.batch.spec import FileCommand
from editor.core.errors import LucidError
from editor.infer.inpaint.catalog import DEFAULT_ENGINE, ENGINE_NAMES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("inpaint", help="fill the white area of a mask from its surroundings")
    parser.add_argument("image", type=Path)
    parser.add_argument("--mask", type=Path, required=True,
                        help="same-size image: white = fill, black = keep, grey = soft")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output file (.png .jpg .tif .webp)")
    parser.add_argument("--engine", choices=ENGINE_NAMES, default=DEFAULT_ENGINE,
                        help="patchmatch (default, classical), lama (needs the big-lama model), "
                        "telea or ns (diffusion baselines)")
    parser.add_argument("--seed", type=paths.seed, default=0,
                        help="another seed gives another fill (default 0)")
    parser.add_argument("--models-dir", type=Path,
                        help="models folder (default: $LUCID_MODELS_DIR, else per-user)")
    parser.add_argument("--quality", type=paths.quality, default=92,
                        help="JPEG/WebP quality 1–100 (default 92)")
    paths.add_overwrite(parser)
    parser.set_defaults(func=run)


@functools.lru_cache(maxsize=1)
def _lama_loader(models_dir: Path | None):
    """Loads big-lama once per process: a batch worker reuses it for every file."""
    from editor.infer.api import ModelNotInstalled
    from editor.infer.inpaint.catalog import LAMA_MODEL_ID
    from editor.infer.safe_load import load_model
    from editor.infer.store import ModelStore

    try:
        path = ModelStore(models_dir).path(LAMA_MODEL_ID)
    except ModelNotInstalled as exc:
        raise LucidError(f"{exc.message.split(' — ')[0]}. Run `lucid models fetch {LAMA_MODEL_ID}` "
                         "(or `lucid models import FILE`) first.") from exc
    model = load_model(path)
    return lambda _id: model


def warm_up(args: argparse.Namespace) -> None:
    if args.engine == "lama":
        _lama_loader(args.models_dir)


def memory_mb(args: argparse.Namespace) -> int | None:
    if args.engine != "lama":
        return None
    from editor.infer.inpaint.engines import LAMA_MODEL_ID
    from editor.infer.store import ModelStore

    return ModelStore(args.models_dir).manifest(LAMA_MODEL_ID).memory_mb


def process_file(args: argparse.Namespace) -> str:
    """Fill `args.image` through `args.mask` into `args.output`; shared by `run` and `lucid batch`."""
    import time

    import numpy as np

    from editor.core.pixels import to_float
    from editor.infer.api import CancelToken, Request, TaskContext
    from editor.infer.tasks.inpaint import run as inpaint
    from editor.io.export import export_image
    from editor.io.images import load_image

    paths.check_paths([args.image, args.mask], [args.output], overwrite=args.overwrite,
                      image_outputs=[args.output])
    img = load_image(args.image)
    mask_img = load_image(args.mask)
    if (mask_img.width, mask_img.height) != (img.width, img.height):
        raise LucidError(f"The mask is {mask_img.width}×{mask_img.height} but the image is "
                         f"{img.width}×{img.height}; they must be the same size.")
    m = to_float(mask_img.pixels)
    mask = (m[..., :3].mean(axis=-1) * m[..., 3]).astype(np.float32)  # transparent counts as keep
    if not (mask > 0).any():
        raise LucidError(f"{args.mask.name}: the mask is empty (all black); paint white where to fill.")
    pixels = to_float(img.pixels)
    if np.all(img.pixels[..., 3] == np.iinfo(img.pixels.dtype).max):
        pixels = pixels[..., :3]  # opaque: no alpha work, and the file stays RGB
    ctx = TaskContext(load_model=_lama_loader(args.models_dir) if args.engine == "lama" else None)
    request = Request(task="inpaint", image=pixels, mask=mask, params={"engine": args.engine},
                      seed=args.seed, context=ctx)
    start = time.monotonic()
    result = inpaint(request, lambda _p: None, CancelToken())
    a = result.mask[..., None]
    out = pixels * (1 - a) + result.image * a
    out = np.where(a > 0, out, pixels)  # outside the mask: the source's exact values
    notes = export_image(out, args.output, depth=img.depth, icc_profile=img.icc_profile, exif=img.exif,
                         quality=args.quality)
    for note in notes:
        print(f"lucid: note: {note}", file=sys.stderr)
    return (f"wrote {args.output} ({img.width}×{img.height}, {args.engine}, seed {args.seed}, "
            f"{time.monotonic() - start:.1f} s)")


def run(args: argparse.Namespace) -> int:
    print(process_file(args))
    return 0


BATCH = FileCommand(process=process_file, matched=("mask",), warm_up=warm_up, memory_mb=memory_mb)
