"""Issue 14's hostile inputs, measured: each `lucid` run's exit code, wall time, peak RSS and the last
line it printed. Run by hand (minutes; the 15000² images take a while to build):

    PYTHONPATH=$PWD python tests/bench/bench_hostile.py [--quick] [--keep DIR]

The bar: a one-line error (or a correct result) within 60 s and 2 GB of RSS, no traceback, and the
inputs' bytes unchanged. Peak RSS comes from /usr/bin/time when present, else from
getrusage(RUSAGE_CHILDREN) of a fresh wrapper per run. Prints `cat /proc/loadavg` with the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from hostile_files import ora_with_layers, png_bytes

LIMIT_S, LIMIT_MB = 60, 2048


def build(d: Path, quick: bool) -> None:
    if (d / "fifo.png").exists():  # built already (--keep)
        return
    ora_with_layers(d / "canvas.ora", 15800, 15800, ["data/a.png"], {"data/a.png": png_bytes(64, 48)})
    shared = {"data/a.png": png_bytes(4000, 4000)}
    ora_with_layers(d / "shared.ora", 4000, 4000, ["data/a.png"] * 4000, shared)
    ora_with_layers(d / "many.ora", 1000, 1000, [f"data/{i}.png" for i in range(4000)],
                    {f"data/{i}.png": png_bytes(1000, 1000, (i % 256, 2, 3, 255)) for i in range(4000)})
    Image.new("RGB", (64, 48), (120, 130, 140)).save(d / "photo.png")
    Image.new("RGB", (64, 48), (120, 130, 140)).save(d / "photo.jpg", quality=90)
    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (10, 10, 30, 20))
    mask.save(d / "m.png")
    os.mkfifo(d / "fifo.png")
    if not quick:
        Image.new("RGB", (15000, 15000), (120, 130, 140)).save(d / "big.jpg", quality=90)
        Image.new("RGB", (15000, 15000), (120, 130, 140)).save(d / "big.webp", quality=90)
        Image.new("RGB", (15000, 15000), (10, 20, 30)).save(d / "big.tif", compression="tiff_deflate")


def cases(d: Path, quick: bool) -> list[list[str]]:
    out = [
        ["info", "canvas.ora"], ["flatten", "canvas.ora", "o.png"],
        ["info", "shared.ora"], ["flatten", "shared.ora", "o.png"],
        ["info", "many.ora"],
        ["info", "fifo.png"], ["convert", "fifo.png", "o.png"],
        ["inpaint", "photo.png", "--mask", "m.png", "-o", "o.png", "--seed", "-1"],
        ["upscale", "photo.png", "-o", "o.png", "--scale", "0"],
        ["convert", "photo.png", "o.jpg", "--quality", "0"],
        ["inpaint", "photo.png", "--mask", "m.png", "-o", "o.xyz"],
        ["inpaint", "photo.png", "--mask", "m.png", "-o", "photo.png"],
        ["inpaint", "photo.jpg", "--mask", "m.png", "-o", "./photo.jpg"],
        ["inpaint", "photo.png", "--mask", "m.png", "-o", "m.png"],
        ["convert", "photo.png", "photo.png"],
        ["upscale", "photo.png", "-o", "photo.png"],
        ["matte", "photo.png", "--trimap", "m.png", "-o", "photo.png"],
        ["deobstruct", "photo.png", "photo.png", "photo.png", "-o", "photo.png"],
        ["flatten", "photo.png", "photo.png"],
    ]
    if not quick:
        out += [["upscale", "big.jpg", "-o", "o.png"], ["upscale", "big.webp", "-o", "o.png"],
                ["info", "big.tif"]]
    return out


def _digest(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in d.iterdir()
            if p.is_file() and not p.name.startswith(("o.", "."))}


def measure(argv: list[str], d: Path) -> tuple[int, float, float, str]:
    cmd = [sys.executable, "-m", "editor", *argv]
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(Path(__file__).resolve().parents[2])))
    timer = shutil.which("time") and Path("/usr/bin/time").exists()
    rss_file = d / ".rss"
    if timer:
        cmd = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=d, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return -1, time.monotonic() - start, float("nan"), "TIMEOUT"
    wall = time.monotonic() - start
    rss = float(rss_file.read_text().split()[-1]) / 1024 if timer else float("nan")
    text = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
    last = "TRACEBACK" if "Traceback" in proc.stderr else (text[-1] if text else "")
    return proc.returncode, wall, rss, last


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the 15000×15000 images")
    ap.add_argument("--keep", type=Path, help="build the files here and keep them")
    args = ap.parse_args()
    d = args.keep or Path(tempfile.mkdtemp(prefix="lucid-hostile-"))
    d.mkdir(parents=True, exist_ok=True)
    build(d, args.quick)
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    failures = 0
    for argv in cases(d, args.quick):
        before = _digest(d)
        rc, wall, rss, last = measure(argv, d)
        ok = wall < LIMIT_S and not rss > LIMIT_MB and last not in ("TRACEBACK", "TIMEOUT") \
            and _digest(d) == before
        failures += not ok
        print(f"{'ok ' if ok else 'BAD'} rc={rc:3d} {wall:6.1f} s {rss:7.0f} MB  lucid {' '.join(argv)}\n"
              f"      {last[:200]}")
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")
    if args.keep is None:
        shutil.rmtree(d, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
