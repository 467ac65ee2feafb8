"""`lucid latent-edit IMAGE --generator FILE [--eyes X1,Y1,X2,Y2 --mouth X,Y] [--edit NAME=AMOUNT ...] -o OUT`

Without --eyes/--mouth the face is found by MediaPipe's detector and face mesh (`lucid faces`).

Inverts the face into the generator, moves it along edit directions (`sefa0…`, `pca0…`, or the stem of a
boundary imported with `--direction FILE`) and writes the photo with the face composited back.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from editor.cli import paths
from editor.core.errors import LucidError


def _floats(text: str, n: int, what: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != n:
        raise argparse.ArgumentTypeError(f"{what} needs {n} comma-separated numbers, got '{text}'")
    return vals


def _edit(text: str) -> tuple[str, float]:
    name, sep, amount = text.partition("=")
    try:
        return name.strip(), float(amount) if sep else float("nan")
    except ValueError:
        raise argparse.ArgumentTypeError(f"--edit needs NAME=AMOUNT, got '{text}'") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "latent-edit", help="edit a face by GAN inversion (StyleGAN2) and composite it back"
    )
    p.add_argument("image", type=Path)
    p.add_argument("--generator", type=Path, required=True, help="StyleGAN2 .pkl/.pt/.safetensors")
    p.add_argument(
        "--eyes", type=lambda t: _floats(t, 4, "--eyes"), help="X1,Y1,X2,Y2 (default: the detected face)"
    )
    p.add_argument(
        "--mouth", type=lambda t: _floats(t, 2, "--mouth"), help="X,Y (default: the detected face)"
    )
    p.add_argument(
        "--edit",
        action="append",
        type=_edit,
        default=[],
        metavar="NAME=AMOUNT",
        help="e.g. pca0=2 or smile=-1.5 (repeatable)",
    )
    p.add_argument(
        "--direction",
        action="append",
        type=Path,
        default=[],
        help="an InterFaceGAN boundary .npy or a Lucid directions .json (repeatable)",
    )
    p.add_argument("--steps", type=int, default=200, help="inversion steps (default 200)")
    p.add_argument("--finetune", type=int, default=0, help="generator fine-tuning steps (default 0)")
    p.add_argument("--space", choices=("w", "w+"), default="w+")
    p.add_argument("--mode", choices=("reconstruct", "superres", "inpaint"), default="reconstruct")
    p.add_argument("--scale", type=paths.number_in(1, 64, integer=True), default=4,
                   help="superres: how much smaller the face is (default 4)")
    p.add_argument("--mask", type=Path, help="inpaint: the part to fill; otherwise: where to composite")
    p.add_argument(
        "--replace-face",
        action="store_true",
        help="paste the generated face itself (colour-matched) instead of only the edit's change",
    )
    p.add_argument("--seed", type=paths.seed, default=0)
    p.add_argument("--crop-out", type=Path, help="also write the edited face crop here")
    p.add_argument("-o", "--output", type=Path, required=True)
    paths.add_overwrite(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from editor.core.pixels import to_float
    from editor.infer.api import CancelToken, Progress, Request
    from editor.infer.tasks.latent import run as latent
    from editor.io.export import export_image
    from editor.io.images import load_image

    bad = [n for n, a in args.edit if not n or a != a]
    if bad or any(not n for n, _ in args.edit):
        raise LucidError("--edit needs NAME=AMOUNT, e.g. --edit pca0=2")
    paths.check_paths([args.image, args.generator, args.mask, *args.direction], [args.output, args.crop_out],
                      overwrite=args.overwrite, image_outputs=[args.output, args.crop_out])
    photo = to_float(load_image(args.image).pixels)
    if (args.eyes is None) != (args.mouth is None):
        raise LucidError("Give both --eyes and --mouth, or neither to use the detected face.")
    if args.eyes is None:
        args.eyes, args.mouth = _detected_face(photo)
    mask = None
    inputs = {}
    if args.mask is not None:
        m = to_float(load_image(args.mask).pixels)
        m = m[..., :3].mean(-1) if m.shape[2] >= 3 else m[..., 0]
        if m.shape != photo.shape[:2]:
            raise LucidError(f"{args.mask.name} is not the size of {args.image.name}.")
        if args.mode == "inpaint":
            inputs["hole"] = m.astype(np.float32)
        else:
            mask = m.astype(np.float32)
    params = {
        "generator": str(args.generator),
        "eyes": args.eyes,
        "mouth": args.mouth,
        "steps": args.steps,
        "finetune": args.finetune,
        "space": args.space,
        "mode": args.mode,
        "scale": args.scale,
        "edits": dict(args.edit),
        "keep_detail": not args.replace_face,
        "directions": [str(d) for d in args.direction],
    }
    last = [-1]

    def progress(p: Progress) -> None:
        pct = int(p.fraction * 100)
        if pct // 10 != last[0] // 10:
            last[0] = pct
            print(f"{pct:3d}% {p.stage}", file=sys.stderr)

    req = Request(task="latent", image=photo, mask=mask, inputs=inputs, params=params, seed=args.seed)
    result = latent(req, progress, CancelToken())
    known = {d["name"] for d in result.info["recipe"]["directions"]}
    export_image(result.images["image"], args.output)
    if args.crop_out is not None:
        export_image(result.images["crop"], args.crop_out)
    info = result.info
    print(
        f"inversion {info['psnr_latent']:.2f} dB (latent), {info['psnr_final']:.2f} dB (final); "
        f"edits: {', '.join(sorted(known)) or 'none'}"
    )
    print(f"wrote {args.output}")
    return 0


def _detected_face(photo) -> tuple[list[float], list[float]]:
    """Eyes (image-left first) and mouth of the most confident face, or a clear error."""
    from editor.cli.commands.faces import detect_faces

    faces = detect_faces(photo[..., :3])
    if not faces:
        raise LucidError("No face was found in the photo; give --eyes X1,Y1,X2,Y2 and --mouth X,Y.")
    f = faces[0]
    (x1, y1), (x2, y2) = f["eyes"]
    mx, my = f["mouth"]
    print(f"face found: eyes {x1:.0f},{y1:.0f} {x2:.0f},{y2:.0f}  mouth {mx:.0f},{my:.0f}", file=sys.stderr)
    return [x1, y1, x2, y2], list(f["mouth"])
