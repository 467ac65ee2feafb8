"""OpenRaster save/open benchmark (run by hand), side by side with one cv2 PNG encode of the photo.

    PYTHONPATH=$PWD .venv/bin/python tests/bench/bench_ora.py [--size 6000x4000] [--reps 3] [--layers 1,3,10]

A 6000×4000 "photo" (a Places2 photo upscaled, plus sensor-like noise so it compresses like a real
one) with 1, 3 and 10 layers, 8- and 16-bit: the photo plus small inpaint-like result layers (canvas-
sized pixels, a 300×300-ish mask each, as the Inpaint panel makes them). Reference in the same run:
one `cv2.imencode('.png')` of the photo (RGB, OpenCV's default level). Bar (issue 19): saving the
photo + two small result layers, 8-bit, takes ≤ 2× that encode. Also reports open times, file
sizes and the machine's load average. Best of `--reps` for every figure, reference, save and open
alternating (the CPU is shared); "cpu ratio" is the save's process CPU time (all threads) over the
reference's, a measure of work that load does not distort.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
PHOTO = REPO.parent / "shared" / "data" / "inpaint" / "migan" / "places2_512_object" / "images" / "1.png"

from editor.core.document import Document  # noqa: E402
from editor.core.layers import PixelLayer, ResultLayer  # noqa: E402
from editor.core.recipe import Recipe  # noqa: E402
from editor.io.ora import load_project, save_project  # noqa: E402


def photo(w: int, h: int, depth: int) -> np.ndarray:
    """H×W×4 RGBA photo in the document's dtype."""
    if PHOTO.is_file():
        src = np.asarray(Image.open(PHOTO).convert("RGB"), np.float32) / 255.0
    else:  # no data: a smooth synthetic scene (the figures are then only indicative)
        ys, xs = np.mgrid[0:340, 0:512].astype(np.float32)
        src = np.stack([xs / 512, ys / 340, 0.5 + 0.5 * np.sin(xs / 20)], -1)
    big = cv2.resize(src, (w, h), interpolation=cv2.INTER_CUBIC)
    big += np.random.default_rng(0).normal(0, 2.0 / 255, big.shape).astype(np.float32)
    top = 65535 if depth == 16 else 255
    rgb = (np.clip(big, 0, 1) * top + 0.5).astype(np.uint16 if depth == 16 else np.uint8)
    alpha = np.full((h, w, 1), top, rgb.dtype)
    return np.concatenate([rgb, alpha], -1)


def make_doc(px: np.ndarray, n_layers: int, depth: int) -> Document:
    h, w = px.shape[:2]
    doc = Document(w, h, depth=depth)
    doc.add_layer(PixelLayer("Photo", px))
    rng = np.random.default_rng(1)
    for i in range(n_layers - 1):
        mask = np.zeros((h, w), np.float32)
        y, x = int(rng.integers(0, h - 400)), int(rng.integers(0, w - 400))
        mask[y : y + 300, x : x + 300] = 1.0
        mask[y - 2 : y + 302, x - 2 : x + 302] = np.maximum(mask[y - 2 : y + 302, x - 2 : x + 302], 0.5)
        fill = px.copy()  # the Inpaint panel's result: the whole composite with the fill inside
        fill[y : y + 300, x : x + 300, :3] = fill[y : y + 300, x : x + 300, :3] // 2
        doc.add_layer(ResultLayer(f"Inpaint {i}", fill, mask, Recipe(task="inpaint", seed=i)))
    return doc


def interleaved(fns: list, reps: int) -> list[tuple[float, float]]:
    """Best (wall, process CPU) seconds of each function, the functions alternating within each rep so
    that all of them see the same machine load."""
    out = [(np.inf, np.inf)] * len(fns)
    for _ in range(reps):
        for i, fn in enumerate(fns):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            out[i] = (min(out[i][0], wall), min(out[i][1], cpu))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="6000x4000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--layers", default="1,3,10")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()}; canvas {w}×{h}; best of {args.reps}")
    print(f"{'depth':>5s} {'layers':>6s} {'ref enc s':>9s} {'save s':>7s} {'ratio':>6s} {'cpu ratio':>9s} "
          f"{'open s':>7s} {'MB':>7s}")
    verdict = None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.ora"
        for depth in (8, 16):
            px = photo(w, h, depth)
            bgr = np.ascontiguousarray(px[..., 2::-1])
            for n in (int(v) for v in args.layers.split(",")):
                doc = make_doc(px, n, depth)
                (ref, ref_cpu), (save, save_cpu), (opened, _) = interleaved(
                    [lambda b=bgr: cv2.imencode(".png", b), lambda d=doc: save_project(d, path),
                     lambda: load_project(path)], args.reps)
                mb = path.stat().st_size / 1e6
                print(f"{depth:5d} {n:6d} {ref:9.2f} {save:7.2f} {save / ref:6.2f} {save_cpu / ref_cpu:9.2f} "
                      f"{opened:7.2f} {mb:7.1f}", flush=True)
                if depth == 8 and n == 3:
                    verdict = save / ref
                del doc
    print(f"load average after: {os.getloadavg()}")
    if verdict is not None:
        ok = verdict <= 2.0
        print(f"bar: photo + two small result layers, 8-bit: save {verdict:.2f}× one cv2 PNG encode "
              f"→ {'MET' if ok else 'NOT met'} (≤ 2×)")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
