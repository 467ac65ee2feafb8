"""Matting benchmark (run by hand: `python tests/bench/bench_matting.py [--out DIR]`).

1. Closed-form alpha against the original MATLAB output (Levin et al.; closed_form_testdata).
2. Exact-alpha synthetic test (pymatting's 32×32): error per engine.
3. Plate matting on synthetic composites made here (RGBA subjects over real photos; the plate is the
   background shifted a few pixels, with an exposure change and sensor noise): SAD/MSE of plate
   matting vs (a) plain difference keying and (b) closed-form on an automatic trimap, each on the raw
   plate and on the aligned, exposure-matched plate (the fair baseline); s/megapixel.
4. The real photo + plate pair (BackgroundMattingV2): cut-out and composite, before and after a
   scripted user trimap correction for the car door that differs between the shots.
5. numba: cold (empty cache) vs warm import of pymatting, measured in fresh processes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
DATA = (REPO.parent / "shared" / "data").resolve()

from editor.infer.matting import replace_background, snap_trimap, trimap_from_mask  # noqa: E402
from editor.infer.matting.engines import ENGINES, estimate_alpha  # noqa: E402
from editor.infer.matting.plate import difference_key, plate_matte  # noqa: E402
from editor.infer.matting.trimap import BACKGROUND, UNKNOWN  # noqa: E402


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0


def load_grey(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"), np.float32) / 255.0


def save(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8)).save(path)


def sad(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of absolute differences, in thousands (the usual matting unit)."""
    return float(np.abs(a - b).sum() / 1000.0)


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a - b) ** 2).mean())


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    print(f"\n## {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + " |")


# --- 1. closed-form vs MATLAB -------------------------------------------------------------------


def scribble_trimap(image: np.ndarray, scribbles: np.ndarray) -> np.ndarray:
    """The MATLAB reference was computed from scribbles: pixels where the scribble image differs from
    the photo are constrained to the scribble's value (white 1, black 0), all others unknown."""
    constrained = np.abs(image - scribbles).sum(axis=2) > 0.001
    trimap = np.full(image.shape[:2], UNKNOWN, np.float32)
    trimap[constrained] = np.round(scribbles[..., 0][constrained])
    return trimap


def bench_closed_form() -> None:
    d = DATA / "matting" / "closed_form_testdata"
    image = load_rgb(d / "source.png")
    ref = load_grey(d / "matlab_alpha.png")
    rows = []
    for name, trimap in [
        ("scribbles.png (as the reference)", scribble_trimap(image, load_rgb(d / "scribbles.png"))),
        ("trimap.png", snap_trimap(load_grey(d / "trimap.png"))),
    ]:
        t0 = time.perf_counter()
        alpha = estimate_alpha(image, trimap, "cf", epsilon=1e-7)
        rows.append([name, mse(alpha, ref), sad(alpha, ref), time.perf_counter() - t0])
    table("Closed-form (ε = 1e-7) vs MATLAB reference, 235×189", ["input", "MSE", "SAD (k)", "s"], rows)


# --- 2. synthetic exact alpha -------------------------------------------------------------------


def bench_synthetic() -> None:
    d = DATA / "matting" / "pymatting" / "synthetic_test"
    image = load_rgb(d / "test.png")
    gt = load_grey(d / "test_alpha.png")
    trimap = snap_trimap(load_grey(d / "test_trimap.png"))
    unknown = trimap == UNKNOWN
    rows = []
    for engine in ENGINES:
        alpha = estimate_alpha(image, trimap, engine)
        rows.append([engine, mse(alpha, gt), float(np.abs(alpha - gt)[unknown].max()), sad(alpha, gt) * 1000])
    table(
        "pymatting synthetic_test (32×32, exact alpha)", ["engine", "MSE", "max |err| (unknown)", "SAD"], rows
    )


# --- 3. plate matting on synthetic composites ---------------------------------------------------


def subjects() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name → (foreground RGB, alpha). cat.png is fully opaque (alpha 255 everywhere), so it is no
    matting subject; the lemur (pymatting's F and alpha, algorithm outputs) stands in."""
    out = {}
    rgba = (
        np.asarray(Image.open(DATA / "sr/realesrgan_inputs/children-alpha.png").convert("RGBA"), np.float32)
        / 255
    )
    out["children"] = (rgba[..., :3], rgba[..., 3])
    rgba = np.asarray(Image.open(DATA / "sr/realesrgan_inputs/tree_alpha_16bit.png"), np.float32)
    rgba /= 65535.0 if rgba.max() > 255 else 255.0
    out["tree"] = (rgba[..., :3], rgba[..., 3])
    lemur = DATA / "matting/pymatting/lemur"
    out["lemur"] = (load_rgb(lemur / "lemur_foreground.png"), load_grey(lemur / "lemur_alpha.png"))
    return out


BACKGROUNDS = {
    "children": "inpaint/migan/places2_512_object/images/8.png",
    "tree": "inpaint/migan/places2_512_object/images/20.png",
    "lemur": "inpaint/migan/places2_512_object/images/14.png",
}


def make_composite(
    fg: np.ndarray, alpha: np.ndarray, background: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(photo, plate): subject over the background; plate = background shifted by a few pixels,
    with a per-channel exposure change, each with independent sensor noise."""
    rng = np.random.default_rng(seed)
    h, w = alpha.shape
    m = 12
    big = cv2.resize(background, (w + 2 * m, h + 2 * m), interpolation=cv2.INTER_AREA)
    bg = big[m : m + h, m : m + w]
    dx, dy = rng.uniform(2.0, 5.0) * rng.choice([-1, 1]), rng.uniform(2.0, 5.0) * rng.choice([-1, 1])
    shift = np.float32([[1, 0, dx + m], [0, 1, dy + m]])
    plate = cv2.warpAffine(big, shift, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    gain = rng.uniform(0.85, 1.15, 3).astype(np.float32)
    offset = rng.uniform(-0.03, 0.03, 3).astype(np.float32)
    plate = np.clip(plate * gain + offset, 0, 1)
    photo = fg * alpha[..., None] + bg * (1 - alpha[..., None])
    noise = 0.01
    photo = np.clip(photo + rng.normal(0, noise, photo.shape), 0, 1).astype(np.float32)
    plate = np.clip(plate + rng.normal(0, noise, plate.shape), 0, 1).astype(np.float32)
    return photo, plate


def auto_trimap_cf(photo: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """Baseline (b): threshold the difference key, a band around it, closed-form inside the band."""
    key = difference_key(photo, plate)
    band = max(2, round(0.01 * max(photo.shape[:2])))
    trimap = trimap_from_mask((key > 0.5).astype(np.float32), band)
    if not ((trimap == 1).any() and (trimap == 0).any()):
        return key
    return estimate_alpha(photo, trimap, "cf")


def bench_plate(out: Path) -> None:
    """Plate matting against keying on the raw plate *and* on the aligned, exposure-matched plate
    (plate matting's own first two steps): the fair baseline says what the matting adds on top."""
    rows = []
    labels = ("plate", "diff", "diff aligned", "cf", "cf aligned")
    totals = dict.fromkeys(labels, 0.0)
    for seed, (name, (fg, alpha)) in enumerate(subjects().items()):
        background = load_rgb(DATA / BACKGROUNDS[name])
        photo, plate = make_composite(fg, alpha, background, seed)
        t0 = time.perf_counter()
        result = plate_matte(photo, plate)
        seconds = time.perf_counter() - t0
        estimates = {
            "plate": result.alpha,
            "diff": difference_key(photo, plate),
            "diff aligned": difference_key(photo, result.background),
            "cf": auto_trimap_cf(photo, plate),
            "cf aligned": auto_trimap_cf(photo, result.background),
        }
        for label, est in estimates.items():
            totals[label] += sad(est, alpha)
        rows.append(
            [
                f"{name} {alpha.shape[1]}×{alpha.shape[0]}",
                *[f"{sad(est, alpha):.4g} / {mse(est, alpha):.4g}" for est in estimates.values()],
                seconds / (alpha.size / 1e6),
            ]
        )
        stem = out / "synthetic" / name
        save(stem.with_name(f"{name}_photo.png"), photo)
        save(stem.with_name(f"{name}_plate.png"), plate)
        save(stem.with_name(f"{name}_alpha_gt.png"), alpha)
        save(stem.with_name(f"{name}_alpha_plate.png"), result.alpha)
        save(stem.with_name(f"{name}_alpha_diffkey.png"), estimates["diff"])
        save(stem.with_name(f"{name}_alpha_diffkey_aligned.png"), estimates["diff aligned"])
        save(stem.with_name(f"{name}_trimap.png"), result.trimap)
    rows.append(["**total SAD**", *[totals[k] for k in labels], ""])
    table(
        "Plate matting on synthetic composites (SAD in thousands / MSE); 'aligned' = keyed on the "
        "aligned, exposure-matched plate",
        ["composite", *[f"{k} SAD / MSE" for k in labels], "plate s/MP"],
        rows,
    )
    for base in ("diff", "diff aligned"):
        ratio = totals["plate"] / totals[base]
        verdict = "PASS" if ratio <= 0.25 else "FAIL"
        print(f"\nplate SAD / {base}-key SAD = {ratio:.3f} (BAR ≤ 0.25: {verdict})")


# --- 4. the real pair ---------------------------------------------------------------------------


def _scaled(points: list[tuple[int, int]], w: int) -> np.ndarray:
    return (np.array(points, np.float64) * (w / 1920.0)).astype(np.int32)


def door_correction(shape: tuple[int, int]) -> np.ndarray:
    """Background brush over the open car door (photo's upper left), which the plate lacks.
    Everything else stays 'unknown', so the automatic trimap decides there."""
    h, w = shape
    user = np.full((h, w), UNKNOWN, np.float32)
    cv2.fillPoly(user, [_scaled([(0, 140), (330, 140), (300, 420), (260, 900), (0, 900)], w)], BACKGROUND)
    return user


def outline_correction(shape: tuple[int, int]) -> np.ndarray:
    """Background brush everywhere outside a loose outline around the person: the whole car changed
    (open door, different reflections), and wind moved the trees, so one big stroke fixes it all."""
    h, w = shape
    user = np.full((h, w), BACKGROUND, np.float32)
    person = [
        (790, 40),
        (1010, 40),
        (1010, 330),
        (1290, 360),
        (1290, 480),
        (1020, 500),
        (1060, 700),
        (1120, 900),
        (1190, 1080),
        (815, 1080),
        (845, 880),
        (848, 700),
        (845, 560),
        (790, 500),
    ]
    cv2.fillPoly(user, [_scaled(person, w)], UNKNOWN)
    between_legs = [(942, 650), (972, 650), (972, 870), (945, 870)]  # the car's tail seen between the legs
    cv2.fillPoly(user, [_scaled(between_legs, w)], BACKGROUND)
    return user


def bench_real_pair(out: Path) -> None:
    d = DATA / "matting" / "bgmv2_pair"
    photo, plate = load_rgb(d / "test_fg.jpg"), load_rgb(d / "test_bg.jpg")
    new_bg = cv2.resize(load_rgb(DATA / "matting/pymatting/lemur/beach.png"), photo.shape[1::-1])
    rows = []
    corrections = [
        ("automatic", "auto", None),
        ("door painted as background", "door", door_correction(photo.shape[:2])),
        ("background painted around the person", "outline", outline_correction(photo.shape[:2])),
    ]
    for label, tag, user in corrections:
        t0 = time.perf_counter()
        result = plate_matte(photo, plate, user_trimap=user)
        seconds = time.perf_counter() - t0
        save(out / f"real_{tag}_alpha.png", result.alpha)
        save(out / f"real_{tag}_trimap.png", result.trimap)
        cut = result.cutout
        Image.fromarray(np.clip(cut * 255 + 0.5, 0, 255).astype(np.uint8), "RGBA").save(
            out / f"real_{tag}_cutout.png"
        )
        save(out / f"real_{tag}_on_beach.png", replace_background(cut, new_bg))
        save(out / f"real_{tag}_on_blur.png", replace_background(cut, "blur", original=photo))
        info = result.info
        rows.append(
            [
                label,
                seconds,
                seconds / (photo.shape[0] * photo.shape[1] / 1e6),
                info["alignment"],
                info["feature_inliers"],
                info["ecc"],
                info["gain"],
                info["unknown_fraction"],
                float((result.alpha > 0.5).mean()),
            ]
        )
    table(
        "Real pair (BackgroundMattingV2 test_fg/test_bg, 1920×1080)",
        ["run", "s", "s/MP", "alignment", "inliers", "ECC", "gain", "unknown frac", "fg frac"],
        rows,
    )
    print(f"\nimages written to {out}")


# --- 5. numba cold vs warm ----------------------------------------------------------------------


def bench_numba(cold: bool) -> None:
    code = (
        "import time; t=time.perf_counter(); import editor.infer.matting as m; "
        "r=m.warm_up(); print(round(time.perf_counter()-t,2), {k: round(v,3) for k,v in r.items()})"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("cold (empty cache)", tmp), ("warm", tmp)] if cold else []
        runs.append(("warm (user cache)", None))
        for label, cache in runs:
            env = dict(os.environ)
            if cache is not None:
                env["NUMBA_CACHE_DIR"] = cache
            res = subprocess.run(
                [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True
            )
            rows.append([label, res.stdout.strip() or res.stderr.strip()[-200:]])
    table(
        "numba: import editor.infer.matting + warm_up() in a fresh process",
        ["cache", "total s, per step"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("/tmp/lucid-bench/matting"))
    parser.add_argument("--cold", action="store_true", help="also time a cold numba compile (about a minute)")
    parser.add_argument("--only", choices=["cf", "synthetic", "plate", "real", "numba"])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    steps = {
        "numba": lambda: bench_numba(args.cold),
        "cf": bench_closed_form,
        "synthetic": bench_synthetic,
        "plate": lambda: bench_plate(args.out),
        "real": lambda: bench_real_pair(args.out),
    }
    for name, step in steps.items():
        if args.only in (None, name):
            step()


if __name__ == "__main__":
    main()
