"""Inpainting benchmark (run by hand): fidelity and texture per engine, a contact sheet, and scaling.

    .venv/bin/python tests/bench/bench_inpaint.py [OUT_DIR] [--n N] [--no-24mp]

1. Moderate brush-stroke holes (8–25 % of the frame, generated here with a fixed seed) over the
   MI-GAN Places2 photos (256² free-form set and the 512 object set): masked PSNR and SSIM in the hole
   (editor.core.metrics), texture ratio (mean gradient magnitude in the hole, result ÷ original), seconds.
2. The same on MI-GAN's own free-form masks (45–85 % holes), as a report.
3. A contact sheet of object removal (MI-GAN places2_512_object with its masks, white = object).
4. The same 300×300 hole in a 1 MP and a 24 MP photo: time ratio (the crop strategy should make it ≈ 1).
5. `--bar`: issue 19's bar on held-out brush holes (a seed range no tuning used) over all 20 Places2
   512 photos: Telea and PatchMatch run alternately per image (both see the same machine load), wall
   and CPU seconds, masked PSNR, texture ratio, and a check that no pixel outside the feathered
   hole changed. Prints MET / NOT met for: time ≤ 8× Telea, PSNR ≥ Telea − 1 dB, texture 0.7–1.3.
Engines: patchmatch, telea, ns, and lama when its weights are installed. Outputs go to OUT_DIR.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "inpaint" / "migan"

from editor.core.metrics import grey, psnr, ssim  # noqa: E402
from editor.infer.inpaint import inpaint_image  # noqa: E402


def load_rgb(p: Path) -> np.ndarray:
    return np.asarray(Image.open(p).convert("RGB"), np.float32) / 255.0


def brush_mask(h: int, w: int, rng: np.random.Generator, lo: float = 0.08, hi: float = 0.25) -> np.ndarray:
    """Random brush strokes (polylines 4–10 % of the short side thick) covering `lo`–`hi` of the frame."""
    target = rng.uniform(lo, hi)
    m = np.zeros((h, w), np.uint8)
    side = min(h, w)
    while (m > 0).mean() < target:
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        t = int(rng.uniform(0.04, 0.10) * side) + 1
        ang = rng.uniform(0, 2 * np.pi)
        for _ in range(rng.integers(3, 8)):
            ang += rng.uniform(-0.9, 0.9)
            length = rng.uniform(0.08, 0.25) * side
            nx, ny = np.clip(x + length * np.cos(ang), 0, w - 1), np.clip(y + length * np.sin(ang), 0, h - 1)
            cv2.line(m, (int(x), int(y)), (int(nx), int(ny)), 255, t)
            x, y = nx, ny
    return m > 0


def grad(img: np.ndarray) -> np.ndarray:
    g = grey(img).astype(np.float32)
    return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))


def metrics(res: np.ndarray, orig: np.ndarray, hole: np.ndarray) -> tuple[float, float, float]:
    """Masked PSNR and SSIM over the hole, and the texture ratio (mean gradient, result / original)."""
    return (psnr(res, orig, mask=hole), ssim(res, orig, mask=hole),
            float(grad(res)[hole].mean() / max(grad(orig)[hole].mean(), 1e-8)))


def engines() -> list[str]:
    names = ["patchmatch", "telea", "ns"]
    try:
        from editor.infer.store import ModelStore

        if ModelStore().get("big-lama").installed:
            names.append("lama")
    except Exception as exc:  # a bench: say why LaMa is left out and go on
        print(f"(lama skipped: {exc})")
    return names


def run_set(title: str, items: list[tuple[str, np.ndarray, np.ndarray]], names: list[str]) -> dict:
    print(f"\n## {title} ({len(items)} images)")
    print(f"{'engine':12s} {'PSNR dB':>8s} {'SSIM':>6s} {'texture':>8s} {'tex min':>8s} {'s/img':>6s}")
    table = {}
    for e in names:
        rows = []
        for _name, img, hole in items:
            t0 = time.perf_counter()
            out = inpaint_image(img, hole.astype(np.float32), engine=e, seed=0)
            rows.append((*metrics(out, img, hole), time.perf_counter() - t0))
        r = np.array(rows)
        table[e] = r
        print(f"{e:12s} {r[:, 0].mean():8.2f} {r[:, 1].mean():6.3f} {r[:, 2].mean():8.2f} "
              f"{r[:, 2].min():8.2f} {r[:, 3].mean():6.2f}", flush=True)
    if "telea" in table and "patchmatch" in table:
        d = table["patchmatch"][:, 0].mean() - table["telea"][:, 0].mean()
        tr = table["patchmatch"][:, 2].mean()
        ok = d >= -1.0 and 0.7 <= tr <= 1.3
        print(f"patchmatch vs telea: ΔPSNR {d:+.2f} dB, texture {tr:.2f} → bar {'MET' if ok else 'NOT met'}")
    return table


def contact_sheet(out_dir: Path, names: list[str], n: int) -> Path:
    imgs = sorted((DATA / "places2_512_object" / "images").glob("*.png"), key=lambda p: int(p.stem))[:n]
    rows = []
    for p in imgs:
        img = load_rgb(p)
        m = np.asarray(Image.open(DATA / "places2_512_object" / "masks" / p.name).convert("L")) > 127
        shown = img.copy()
        shown[m] = shown[m] * 0.4 + np.array([1.0, 0.0, 0.6], np.float32) * 0.6
        tiles = [shown] + [inpaint_image(img, m.astype(np.float32), engine=e, seed=0) for e in names]
        h = 200
        tiles = [cv2.resize(t, (round(t.shape[1] * h / t.shape[0]), h), interpolation=cv2.INTER_AREA)
                 for t in tiles]
        padded = [np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=1) for t in tiles]
        rows.append(np.concatenate(padded, 1))
    width = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=1)
                            for r in rows], 0)
    path = out_dir / "contact_sheet.png"
    Image.fromarray((sheet * 255 + 0.5).astype(np.uint8)).save(path)
    print(f"\ncontact sheet: {path}  (columns: object mask, {', '.join(names)})")
    return path


def scaling(names: list[str]) -> None:
    src = load_rgb(DATA / "places2_512_object" / "images" / "1.png")
    print("\n## Same 300×300 hole, 1 MP vs 24 MP photo")
    for e in [n for n in names if n != "ns"]:
        times = {}
        for label, (w, h) in {"1MP": (1224, 816), "24MP": (6000, 4000)}.items():
            big = cv2.resize(src, (w, h), interpolation=cv2.INTER_CUBIC)
            mask = np.zeros((h, w), np.float32)
            cy, cx = h // 2, w // 2
            mask[cy - 150 : cy + 150, cx - 150 : cx + 150] = 1.0
            inpaint_image(big[:64, :64], mask[:64, :64] * 0 + np.pad(np.ones((8, 8)), 28), engine=e)  # warm
            best = np.inf
            for _ in range(2):  # best of two: the CPU is shared, single timings are noisy
                t0 = time.perf_counter()
                inpaint_image(big, mask, engine=e, seed=0)
                best = min(best, time.perf_counter() - t0)
            times[label] = best
            del big
        print(f"{e:12s} 1MP {times['1MP']:6.2f} s   24MP {times['24MP']:6.2f} s   "
              f"ratio {times['24MP'] / times['1MP']:.2f}", flush=True)


HELD_OUT_SEED = 7000  # tuning used seeds 1000+ (sets 1–2 above); the bar is judged on these


def far_changed(out: np.ndarray, img: np.ndarray, hole: np.ndarray, px: int = 3) -> int:
    """Pixels more than `px` outside the hole (beyond any feather) whose value changed."""
    near = cv2.dilate(hole.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0
    return int((out[~near] != img[~near]).any(axis=-1).sum())


def bar(n: int) -> bool:
    """Issue 19's fill bar on held-out brush holes; Telea and PatchMatch alternate per image."""
    obj = sorted((DATA / "places2_512_object" / "images").glob("*.png"), key=lambda p: int(p.stem))[:n]
    items = [(load_rgb(p), p) for p in obj]
    items = [(img, brush_mask(*img.shape[:2], np.random.default_rng(HELD_OUT_SEED + i)))
             for i, (img, _p) in enumerate(items)]
    inpaint_image(items[0][0], items[0][1].astype(np.float32), engine="patchmatch")  # compile / load cache
    rows: dict[str, list] = {"telea": [], "patchmatch": []}
    far = 0
    for img, hole in items:
        for e in rows:
            t0, c0 = time.perf_counter(), time.process_time()
            out = inpaint_image(img, hole.astype(np.float32), engine=e, seed=0)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            rows[e].append((*metrics(out, img, hole), wall, cpu))
            far += far_changed(out, img, hole)
    cover = np.mean([h.mean() for _, h in items])
    print(f"\n## Bar (issue 19): held-out brush holes, {len(items)} Places2 512 photos, "
          f"mean {cover:.0%} hole")
    print(f"{'engine':12s} {'PSNR dB':>8s} {'SSIM':>6s} {'texture':>8s} {'wall s/img':>10s} "
          f"{'cpu s/img':>9s}")
    r = {e: np.array(v) for e, v in rows.items()}
    for e, a in r.items():
        print(f"{e:12s} {a[:, 0].mean():8.2f} {a[:, 1].mean():6.3f} {a[:, 2].mean():8.2f} "
              f"{a[:, 3].mean():10.3f} {a[:, 4].mean():9.3f}")
    t_ratio = r["patchmatch"][:, 3].sum() / r["telea"][:, 3].sum()
    c_ratio = r["patchmatch"][:, 4].sum() / r["telea"][:, 4].sum()
    d_psnr = r["patchmatch"][:, 0].mean() - r["telea"][:, 0].mean()
    tex = r["patchmatch"][:, 2].mean()
    checks = {
        f"time {t_ratio:.1f}x Telea (cpu {c_ratio:.1f}x) <= 8x": t_ratio <= 8.0,
        f"masked PSNR {d_psnr:+.2f} dB vs Telea >= -1 dB": d_psnr >= -1.0,
        f"texture ratio {tex:.2f} in 0.7-1.3": 0.7 <= tex <= 1.3,
        f"far pixels changed: {far}": far == 0,
    }
    for text, ok in checks.items():
        print(f"  {'MET    ' if ok else 'NOT met'}  {text}")
    print(f"  load average: {os.getloadavg()}")
    return all(checks.values())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="/tmp/lucid-bench/inpaint", type=Path)
    ap.add_argument("--n", type=int, default=6, help="images per set (default 6)")
    ap.add_argument("--no-24mp", action="store_true")
    ap.add_argument("--bar", action="store_true", help="only issue 19's held-out bar (all 20 photos)")
    args = ap.parse_args()
    if args.bar:
        print(f"load average: {os.getloadavg()}")
        ok = bar(20)
        if not args.no_24mp:
            scaling(["patchmatch", "telea"])
        return 0 if ok else 1
    args.out.mkdir(parents=True, exist_ok=True)
    names = engines()
    n = args.n
    free = sorted((DATA / "places2_256_freeform" / "images").glob("*.jpg"))
    obj = sorted((DATA / "places2_512_object" / "images").glob("*.png"), key=lambda p: int(p.stem))
    brush = []
    for i, p in enumerate(free[:n] + obj[:n]):
        img = load_rgb(p)
        brush.append((p.name, img, brush_mask(*img.shape[:2], np.random.default_rng(1000 + i))))
    cover = np.mean([h.mean() for _, _, h in brush])
    run_set(f"Brush-stroke holes 8–25 % (mean {cover:.0%}), 256² free-form + 512 object photos", brush, names)
    migan = []
    for p in free[:n]:
        known = np.asarray(Image.open(DATA / "places2_256_freeform" / "masks" / f"{p.stem}.png").convert("L"))
        migan.append((p.name, load_rgb(p), known < 128))  # MI-GAN: white = known, black = hole
    cover = np.mean([h.mean() for _, _, h in migan])
    run_set(f"MI-GAN free-form masks (mean {cover:.0%} hole), report only", migan, names)
    contact_sheet(args.out, names, n)
    if not args.no_24mp:
        scaling(names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
