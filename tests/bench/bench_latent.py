"""Latent-editing benchmark (run by hand, not collected by pytest):

    .venv/bin/python tests/bench/bench_latent.py [--out /tmp/lucid-bench/latent] [--device cpu|cuda]

1. Tiny random StyleGAN2 (64 px): inversion PSNR against steps for W, W+, W+ then fine-tuning, of an
   image made from a known latent; seconds per step (the reference in the same run: W alone).
2. The real BEGAN face generator on the Set5 faces (head, woman): PSNR against steps for z (= W = W+
   for a one-style GAN) and z then fine-tuning.
3. A contact sheet of GANSpace edits at −2…+2 of the BEGAN inversions (PNG in --out) and the woman's
   photo with an edit composited back (photo | edit's change pasted | generated face pasted).
   Look at them: the face must stay the same person at 0 and
   change smoothly along each row.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from editor.infer.latent.invert import InvertOptions, invert  # noqa: E402
from editor.infer.latent.loaders import load_generator  # noqa: E402
from editor.infer.latent.session import LatentSession  # noqa: E402
from tests.latent.conftest import make_tiny  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
BEGAN = SHARED / "weights/gan/began_celeba64_sunshineatnoon/netG_200000.pth"
FACES = {  # eye centres and mouth centre, clicked by looking at the images
    "woman": ("sr/Set5/x4/img_005_SRF_4_HR.png", (76, 104, 137, 94), (122, 170)),
    "head": ("sr/Set5/x4/img_004_SRF_4_HR.png", (165, 170, 220, 170), (200, 275)),  # profile: far eye guessed
}
CHECK = (25, 50, 100, 200, 300)


def curve(history: list[tuple[int, str, float]], offset: int = 0) -> dict[int, float]:
    """PSNR at the checkpoints: of the latent stage (offset 0) or of the fine-tuning (offset = steps)."""
    stage = "Fine-tuning" if offset else "Inverting"
    return {s - offset: p for s, st, p in history if st == stage and s - offset in CHECK}


def timed_invert(gen, target, opts: InvertOptions):
    t = time.perf_counter()
    inv = invert(gen, target, opts)
    return inv, (time.perf_counter() - t) / (opts.steps + opts.finetune_steps)


def table(title: str, rows: list[tuple[str, dict[int, float], float]]) -> None:
    print(f"\n{title}")
    print(f"{'method':<28}" + "".join(f"{s:>8}" for s in CHECK) + f"{'s/step':>9}")
    for name, c, sps in rows:
        print(
            f"{name:<28}" + "".join(f"{c[s]:8.2f}" if s in c else f"{'':>8}" for s in CHECK) + f"{sps:9.3f}"
        )


def bench_tiny(device: str, steps: int) -> None:
    gen = make_tiny(size=64, dim=64, top=32, seed=1).to(device)
    with torch.no_grad():
        w = gen.mapping(gen.sample_latent(1, seed=123))
        target = gen.synthesis(w[:, None].expand(-1, gen.num_ws, -1))
    rows = []
    for name, space, ft in (("W", "w", 0), ("W+", "w+", 0), ("W+ then fine-tune", "w+", steps)):
        opts = InvertOptions(steps=steps, space=space, finetune_steps=ft, preview_every=25)
        inv, sps = timed_invert(gen, target, opts)
        rows.append((name, curve(inv.history), sps))
        if ft:
            rows.append(("  then fine-tuning steps", curve(inv.history, steps), sps))
    table(f"Tiny StyleGAN2 64 px (random weights), PSNR dB against steps, {device}", rows)


def load_face(rel: str) -> np.ndarray:
    img = cv2.imread(str(SHARED / rel), cv2.IMREAD_COLOR)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32) / 255


def bench_began(device: str, steps: int, out: Path) -> dict[str, LatentSession]:
    gen = load_generator(BEGAN).to(device)
    rows, sessions = [], {}
    for face, (rel, eyes, mouth) in FACES.items():
        photo = load_face(rel)
        s = LatentSession.from_photo(gen, photo, eyes, mouth)
        t = time.perf_counter()
        inv = s.invert(steps=steps, finetune_steps=steps // 2, preview_every=25, finetune_lr=3e-4)
        sps = (time.perf_counter() - t) / (steps + steps // 2)
        rows.append((f"{face}: z", curve(inv.history), sps))
        rows.append(("  then fine-tuning steps", curve(inv.history, steps), sps))
        print(f"{face}: z {inv.psnr_latent:.2f} dB → fine-tuned {inv.psnr_final:.2f} dB")
        cv2.imwrite(
            str(out / f"began_{face}_aligned.png"),
            cv2.cvtColor((s.crop * 255).astype(np.uint8), cv2.COLOR_RGB2BGR),
        )
        sessions[face] = s
    table(f"BEGAN 64 px on Set5 faces, PSNR dB against steps, {device} (z = W = W+ here)", rows)
    return sessions


def contact_sheet(sessions: dict[str, LatentSession], out: Path, n: int = 4) -> Path:
    amounts = (-2.0, -1.0, 0.0, 1.0, 2.0)
    blocks = []
    for s in sessions.values():
        if not s.directions:
            s.add_default_directions(n_sefa=4, n_pca=n)
        target = np.pad(s.crop, ((0, 0), (0, 8), (0, 0)), constant_values=1.0)
        rows = []
        for i in range(n):
            tiles = [
                np.pad(s.render({f"pca{i}": a}), ((2, 2), (2, 2), (0, 0)), constant_values=1.0)
                for a in amounts
            ]
            rows.append(np.concatenate(tiles, 1))
        sheet = np.concatenate(rows, 0)
        col = np.ones((sheet.shape[0], target.shape[1], 3), np.float32)
        col[2 : 2 + target.shape[0]] = target
        blocks.append(np.concatenate([col, sheet], 1))
    img = np.concatenate([np.pad(b, ((0, 12), (0, 0), (0, 0)), constant_values=1.0) for b in blocks], 0)
    img = cv2.resize(img, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
    path = out / "began_ganspace_contact_sheet.png"
    cv2.imwrite(str(path), cv2.cvtColor((np.clip(img, 0, 1) * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    return path


def composite_demo(s: LatentSession, out: Path) -> Path:
    before = s.photo
    gap = np.ones((before.shape[0], 8, 3), np.float32)
    detail = s.apply({"pca1": 2.0}).image
    replaced = s.apply({"pca1": 2.0}, keep_detail=False).image
    both = np.concatenate([before, gap, detail, gap, replaced], 1)
    path = out / "began_woman_composite_pca1_+2.png"
    cv2.imwrite(str(path), cv2.cvtColor((np.clip(both, 0, 1) * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    return path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("/tmp/lucid-bench/latent"))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (1 is fastest on a shared machine)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    bench_tiny(args.device, args.steps)
    if not BEGAN.is_file():
        print(f"\nBEGAN weights not found at {BEGAN}: skipping the real-face part")
        return 0
    sessions = bench_began(args.device, args.steps, args.out)
    print(f"\ncontact sheet: {contact_sheet(sessions, args.out)}")
    print(f"composite:     {composite_demo(sessions['woman'], args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
