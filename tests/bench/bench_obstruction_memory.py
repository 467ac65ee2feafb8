"""Peak memory and time of a fence burst whose two layer hypotheses differ (run by hand:
`python tests/bench/bench_obstruction_memory.py [--scale 6]`).

The burst is DEV case 17 of bench_obstruction (a 7 px grid over the Set5 bird with bricks, where the
two prices of `layered` choose different motions), enlarged `--scale` times. Each variant runs in a
fresh process, so its peak RSS is its own: "one" is the appearance price alone (the method before
the second hypothesis), "two" the pipeline as it is. The reference gets the same burst and process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LABELS = {"one": "appearance price only", "two": "both prices (the pipeline)"}


def run(scale: int, variant: str) -> dict:
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "tests" / "bench"))
    import bench_obstruction as bench
    import cv2
    import numpy as np

    from editor.infer.obstruction import layered, remove_obstruction

    b = bench.case_burst(bench.DEV[17], 320, 240)
    size = (320 * scale, 240 * scale)
    frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in b.frames]).clip(0, 1)
    if variant == "one":
        layered.HYPOTHESES = ("appearance",)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    out = remove_obstruction(frames, kind="fence", reference=b.reference)
    return {
        "variant": variant,
        "size": f"{size[0]}×{size[1]}",
        "seconds": round(time.perf_counter() - t0, 1),
        "hypotheses": out.info.get("hypotheses"),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "before_mb": before // 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=6)
    ap.add_argument("--variant", choices=["one", "two"], help="(internal) run one variant here")
    args = ap.parse_args()
    if args.variant:
        print(json.dumps(run(args.scale, args.variant)))
        return
    print(f"loadavg: {Path('/proc/loadavg').read_text().strip()}")
    for variant in ("one", "two"):
        out = subprocess.run(
            [sys.executable, __file__, "--scale", str(args.scale), "--variant", variant],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{LABELS[r['variant']]}, {r['size']}, 5 frames: {r['seconds']} s, "
            f"{r['hypotheses']} composed, peak RSS {r['peak_mb']} MB (before the run {r['before_mb']} MB)"
        )


if __name__ == "__main__":
    main()
