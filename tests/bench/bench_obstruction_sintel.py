"""Fences over real motion (run by hand: `python tests/bench/bench_obstruction_sintel.py [--out DIR]`).

Issue 17 asks for frames cut from the RAFT Sintel demo with a synthetic fence over them: unlike the
synthetic bursts, the background here moves as a real scene does (the camera pans, the girl turns her
head and moves her arm, parallax between near and far), so no single homography explains it. The five
consecutive demo frames (`../shared/data/obstruction/raft_demo_frames_sintel`, 1024×436, BSD-3 repo,
MPI-Sintel renders) get a wire grid composited over them with its own motion (24 px at the outermost
frames, as in the harder bench) and noise 2/255; the reference is the middle frame, whose clean render
is the ground truth.

Per fence: PSNR of the reference frame, of the median of the frames as our own alignment stage aligns
them (a fair classical reference), of Lucid's background, the gain over the reference, and PSNR inside
and outside the moving girl's box (where one homography cannot hold). A contact sheet (input, Lucid's
background, obstruction layer over a checkerboard, ground truth; one row per fence) goes to OUT.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "obstruction"))

from bench_obstruction import fence_on_checker  # noqa: E402  (the script beside this one)
from synth import grid_alpha  # noqa: E402

from editor.core.metrics import psnr  # noqa: E402
from editor.core.pixels import to_float  # noqa: E402
from editor.infer.obstruction import remove_obstruction  # noqa: E402
from editor.infer.obstruction.align import align_burst  # noqa: E402
from editor.io.images import load_image  # noqa: E402

FRAMES = REPO.parent / "shared" / "data" / "obstruction" / "raft_demo_frames_sintel"
# (pattern, pitch px, thickness px, angle °, direction of the grid's motion °)
FENCES = [
    ("square", 28, 3, 0, 30),
    ("diamond", 24, 4, 15, 200),
    ("chain", 20, 2, 45, 110),
    ("square", 36, 7, 10, 300),
]
GIRL = (290, 60, 990, 436)  # x0, y0, x1, y1 of the girl, her arm and the apple in the reference frame


def burst(
    frames: np.ndarray,
    pattern: str,
    pitch: float,
    thick: float,
    angle: float,
    direction: float,
    seed: int,
    motion: float = 24.0,
    noise: float = 2 / 255,
) -> np.ndarray:
    """The clean frames with a grey wire grid over them, moving `motion` px at the outermost frames."""
    rng = np.random.default_rng(seed)
    n, h, w = frames.shape[:3]
    ref, half = n // 2, max(1, n // 2)
    d = np.deg2rad(direction)
    out = []
    for k in range(n):
        off = motion * (k - ref) / half * np.array([np.cos(d), np.sin(d)])
        if k != ref:
            off = off + rng.uniform(-1, 1, 2)
        a = grid_alpha(h, w, (float(off[0]), float(off[1])), pitch, thick, angle, pattern)[..., None]
        out.append(frames[k] * (1 - a) + np.float32([0.6, 0.6, 0.62]) * a)
    stack = np.stack(out).astype(np.float32) + rng.normal(0, noise, (n, h, w, 3)).astype(np.float32)
    return np.clip(stack, 0, 1)


def _region_psnr(a: np.ndarray, b: np.ndarray, inside: bool) -> float:
    x0, y0, x1, y1 = GIRL
    m = np.zeros(a.shape[:2], bool)
    m[y0:y1, x0:x1] = True
    m = m if inside else ~m
    m[:8], m[-8:], m[:, :8], m[:, -8:] = False, False, False, False
    mse = float(np.mean((a[m] - b[m]) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/lucid-bench/obstruction-sintel"))
    args = parser.parse_args()
    if not FRAMES.is_dir():
        raise SystemExit(f"{FRAMES} is missing (../shared/data)")
    args.out.mkdir(parents=True, exist_ok=True)
    clean = np.stack(
        [to_float(load_image(FRAMES / f"frame_{k:04d}.png").pixels)[..., :3] for k in range(16, 21)]
    )
    truth = clean[2]
    print(f"loadavg {Path('/proc/loadavg').read_text().strip()}")
    print(f"Sintel frames 16–20, {clean.shape[2]}×{clean.shape[1]}, grid motion 24 px, noise 2/255; PSNR dB")
    print(
        f"{'fence':32} {'reference':>9} {'median':>7} {'ours':>7} {'gain':>6} "
        f"{'girl ref/ours':>14} {'rest ref/ours':>14} {'s':>5}"
    )
    rows, gains = [], []
    for i, (pattern, pitch, thick, angle, direction) in enumerate(FENCES):
        frames = burst(clean, pattern, pitch, thick, angle, direction, seed=200 + i)
        t0 = time.perf_counter()
        layers = remove_obstruction(list(frames), kind="fence", reference=2)
        secs = time.perf_counter() - t0
        median = np.median(align_burst(frames, 2, thin=True).warped, 0)
        ref_db, med_db, ours_db = (psnr(v, truth, border=8) for v in (frames[2], median, layers.background))
        girl = (_region_psnr(frames[2], truth, True), _region_psnr(layers.background, truth, True))
        rest = (_region_psnr(frames[2], truth, False), _region_psnr(layers.background, truth, False))
        gains.append(ours_db - ref_db)
        name = f"{pattern} p{pitch} t{thick} {angle}°"
        print(
            f"{name:32} {ref_db:9.2f} {med_db:7.2f} {ours_db:7.2f} {ours_db - ref_db:+6.2f} "
            f"{girl[0]:6.2f}/{girl[1]:6.2f} {rest[0]:6.2f}/{rest[1]:6.2f} {secs:5.1f}",
            flush=True,
        )
        obst = fence_on_checker(layers)
        rows.append(np.concatenate([frames[2], layers.background, obst, truth], axis=1))
    print(f"worst {min(gains):+.2f} dB, mean {np.mean(gains):+.2f} dB over {len(gains)}")
    sheet = np.concatenate([np.pad(r, ((0, 6), (0, 0), (0, 0)), constant_values=1.0) for r in rows])
    small = cv2.resize(sheet, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    path = args.out / "sintel_contact_sheet.png"
    cv2.imwrite(str(path), cv2.cvtColor((small * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR))
    print(f"contact sheet (input, background, obstruction, ground truth): {path}")


if __name__ == "__main__":
    main()
