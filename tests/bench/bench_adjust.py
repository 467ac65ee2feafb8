"""Slider-to-canvas latency for adjustment layers on a 24 MP, 16-bit photo (run by hand; prints a table).

    PYTHONPATH=$PWD .venv/bin/python tests/bench/bench_adjust.py [--width 6000 --height 4000] [--moves 10]

A photo layer with an exposure and a curves layer over it. A "slider move" changes the exposure and asks
for a new frame: the screen-resolution preview (`PreviewProxy`, 1600-px long edge, what the canvas shows
while dragging) against, in the same run, the full-resolution recomposite the canvas falls back to after
release (every tile, the fair reference: what a frame would cost without the proxy).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

from editor.core.adjust.edits import add_adjustment, preview_params
from editor.core.adjust.proxy import PreviewProxy
from editor.core.compositor import Compositor
from editor.core.document import Document
from editor.core.layers import PixelLayer
from editor.io.images import load_image


def photo(w: int, h: int) -> np.ndarray:
    """A photo-like 16-bit image: a real photo from ../shared/data enlarged (smooth, spatially coherent,
    as table lookups meet it in practice) plus sensor-like noise; a synthetic gradient without the data."""
    rng = np.random.default_rng(0)
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    src = shared / "matting" / "bgmv2_pair" / "test_bg.jpg"
    if src.is_file():
        rgb = cv2.resize(load_image(src).pixels[..., :3], (w, h), interpolation=cv2.INTER_CUBIC)
        base = rgb.astype(np.float32) * np.float32(257.0)
    else:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        base = np.stack([x / w, y / h, (x + y) / (w + h)], -1) * np.float32(60000)
    base += rng.normal(0, 300, (h, w, 3)).astype(np.float32)
    out = np.empty((h, w, 4), np.uint16)
    out[..., :3] = np.clip(base, 0, 65535)
    out[..., 3] = 65535
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=6000)
    ap.add_argument("--height", type=int, default=4000)
    ap.add_argument("--moves", type=int, default=10)
    ap.add_argument("--screen", type=int, default=1600, help="preview long edge in pixels")
    args = ap.parse_args()
    doc = Document(args.width, args.height, depth=16)
    doc.add_layer(PixelLayer("photo", photo(args.width, args.height)))
    exposure = add_adjustment(doc, "exposure", {"ev": 0.3})
    add_adjustment(doc, "curves", {"master": [[0, 0], [0.25, 0.2], [0.75, 0.82], [1, 1]]})

    proxy = PreviewProxy(doc, args.screen / max(args.width, args.height))
    t0 = time.perf_counter()
    proxy.render_rgba8()
    first = time.perf_counter() - t0  # includes downsampling the photo once

    times = []
    for i in range(args.moves):
        t0 = time.perf_counter()
        preview_params(doc, exposure, {"ev": 0.3 + 0.05 * (i + 1)})
        proxy.render_rgba8(exposure)
        times.append(time.perf_counter() - t0)

    comp = Compositor(doc, cache_bytes=1 << 34)
    full = []
    for i in range(2):
        preview_params(doc, exposure, {"ev": 1.0 + 0.1 * i})
        t0 = time.perf_counter()
        for ty in range(comp.tiles_y):
            for tx in range(comp.tiles_x):
                comp.tile_rgba8(tx, ty)
        full.append(time.perf_counter() - t0)

    w, h = proxy.size
    print(f"document {args.width}×{args.height} 16-bit, exposure + curves layers; load {os.getloadavg()}")
    print(f"{'what':48s} {'median ms':>10s} {'max ms':>8s} {'min ms':>8s}  (min: least disturbed by load)")
    label = f"preview {w}×{h} first frame (downsample once)"
    print(f"{label:48s} {first * 1e3:10.1f} {first * 1e3:8.1f} {first * 1e3:8.1f}")
    rows = (("preview per slider move", times), ("full resolution, every tile (after release)", full))
    for name, values in rows:
        print(f"{name:48s} {np.median(values) * 1e3:10.1f} {max(values) * 1e3:8.1f} {min(values) * 1e3:8.1f}")


if __name__ == "__main__":
    main()
