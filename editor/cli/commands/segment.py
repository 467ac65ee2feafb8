"""`lucid segment IMAGE --subject person|auto -o MASK.png [--soft]`: the subject's mask, white = subject.

"person" uses MediaPipe's person model; "auto" the installed general salient-object model (u2netp,
isnet…) or, without one, the person model. The mask has the image's size; by default it is cut at
0.5 (black/white), `--soft` keeps the model's probability as grey.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("segment", help="mask of the person / main subject (white = subject)")
    p.add_argument("image", type=Path)
    p.add_argument("--subject", choices=("person", "auto"), default="auto")
    p.add_argument("--soft", action="store_true", help="keep the model's probability as grey levels")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("-o", "--output", type=Path, required=True, help="mask image (.png)")
    p.set_defaults(func=run)


def subject_mask_cli(image_path: Path, subject: str, device: str):
    """(image, soft mask, model id) for the CLI commands that find the subject."""
    from editor.cli.commands.matte import _load
    from editor.infer.api import Request
    from editor.infer.service import run_direct
    from editor.infer.store import ModelStore
    from editor.infer.subject import subject_model

    image = _load(image_path, "image")[..., :3]
    store = ModelStore()
    model_id = subject_model(store, subject)
    result = run_direct(Request(task="segment", image=image, model_id=model_id), store=store, device=device)
    return image, result.mask, model_id


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from editor.io.export import export_image

    _image, mask, model_id = subject_mask_cli(args.image, args.subject, args.device)
    out = mask if args.soft else (mask >= 0.5).astype(np.float32)
    export_image(np.repeat(out[..., None], 3, axis=2), args.output)
    print(
        f"wrote {args.output} ({model_id}, subject {float((mask >= 0.5).mean()):.1%} of the image)",
        file=sys.stderr,
    )
    return 0
