"""`lucid faces IMAGE [--json] [--all]`: every face's box, score, eye centres and mouth centre.

Coordinates are image pixels; the image-left eye comes first. `--json` prints
`{"faces": [{"box": [x, y, w, h], "score": s, "eyes": [[x, y], [x, y]], "mouth": [x, y]}]}`;
`--all` adds the 468 mesh points of each face as "landmarks".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("faces", help="find faces: box, eyes and mouth (MediaPipe face mesh)")
    p.add_argument("image", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--all", action="store_true", help="include the 468 face-mesh points")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.set_defaults(func=run)


def detect_faces(image, device: str = "auto") -> list[dict]:
    """The faces task's JSON-ready list (with landmarks) for a float RGB image."""
    from editor.infer.api import Request
    from editor.infer.service import run_direct
    from editor.infer.store import ModelStore

    return run_direct(Request(task="faces", image=image), store=ModelStore(), device=device).info["faces"]


def run(args: argparse.Namespace) -> int:
    from editor.cli.commands.matte import _load

    faces = detect_faces(_load(args.image, "image")[..., :3], args.device)
    if not args.all:
        faces = [{k: v for k, v in f.items() if k != "landmarks"} for f in faces]
    if args.json:
        print(json.dumps({"faces": faces}))
        return 0
    if not faces:
        print("no faces found")
    for i, f in enumerate(faces, 1):
        (ax, ay), (bx, by) = f["eyes"]
        x, y, w, h = f["box"]
        print(
            f"face {i}: box {x:.0f},{y:.0f} {w:.0f}×{h:.0f}  score {f['score']:.2f}  "
            f"eyes {ax:.1f},{ay:.1f} {bx:.1f},{by:.1f}  mouth {f['mouth'][0]:.1f},{f['mouth'][1]:.1f}"
        )
    return 0
