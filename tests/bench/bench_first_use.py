"""First fill and first matte from a fresh install (run by hand): empty numba cache vs prepared cache.

    PYTHONPATH=$PWD .venv/bin/python tests/bench/bench_first_use.py [--only inpaint|matting]

Each figure is a fresh Python process, timed from its start to the end of the first fill (PatchMatch
on a 512×340 Places2-sized photo with a brush hole) or first matte (closed-form on 256²), with
`NUMBA_CACHE_DIR` pointing at a new empty folder: once cold, then after `lucid warm-caches` (what the
set-up script and installer build run) has filled that folder. Issue 19's goal: no compile in the
user's way (first matte ≤ 10 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FIRST_USE = {
    "inpaint": """
import numpy as np
from editor.infer.inpaint import inpaint_image
rng = np.random.default_rng(0)
img = rng.random((340, 512, 3)).astype(np.float32)
mask = np.zeros((340, 512), np.float32); mask[120:200, 180:330] = 1
inpaint_image(img, mask, engine="patchmatch")
""",
    "matting": """
import numpy as np
from editor.infer.matting.engines import estimate_alpha
rng = np.random.default_rng(0)
img = rng.random((256, 256, 3))
tri = np.full((256, 256), 0.5); tri[:, :80] = 0; tri[:, 176:] = 1
estimate_alpha(img, tri, "cf")
""",
}


def timed(cmd: list[str], cache: Path) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=list(FIRST_USE), action="append")
    args = ap.parse_args()
    parts = args.only or list(FIRST_USE)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()}")
    print(f"{'part':8s} {'empty cache s':>13s} {'warm-caches s':>13s} {'prepared s':>10s}")
    for part in parts:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp)
            use = [sys.executable, "-c", FIRST_USE[part]]
            cold = timed(use, cache)
            for p in cache.iterdir():  # empty again: warm-caches must do the work itself
                shutil.rmtree(p)
            warm = timed([sys.executable, "-m", "editor", "warm-caches", "--only", part], cache)
            prepared = timed(use, cache)
        print(f"{part:8s} {cold:13.1f} {warm:13.1f} {prepared:10.1f}", flush=True)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
