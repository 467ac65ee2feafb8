"""General-subject models on CPU (run by hand: `python tests/bench/bench_salient.py [--threads N]
[--runs N]`): the `saliency` call (resize in, network, min-max, resize out) on a 1920×1080 photo for
isnet-general-use (IS-Net at 1024², the quality model) beside u2netp (U²-Netp at 320², the small
default, the fair reference measured in the same run), median after a warm-up.

Speed does not depend on the weight values, so the installed model is used when present and a
random-weight network of the same architecture otherwise (as here, where the real files cannot be
downloaded). Prints `cat /proc/loadavg` before and after: the machine is shared.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
PHOTO = (REPO.parent / "shared" / "data" / "matting" / "bgmv2_pair" / "test_fg.jpg").resolve()


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def model(model_id: str, random_net):
    """The installed model, else `random_net()`; and which it was."""
    from editor.core.errors import LucidError
    from editor.infer.safe_load import load_model
    from editor.infer.store import ModelStore

    try:
        return load_model(ModelStore().path(model_id)).model, "installed weights"
    except LucidError:
        return random_net(), "random weights"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    import cv2
    import torch

    from editor.infer.archs.isnet import ISNetDIS
    from editor.infer.archs.u2net import U2Net, u2netp_widths
    from editor.infer.tasks.salient import saliency

    torch.set_num_threads(args.threads)
    if PHOTO.is_file():
        image = np.asarray(Image.open(PHOTO).convert("RGB"), np.float32) / 255.0
        image = cv2.resize(image, (1920, 1080), interpolation=cv2.INTER_AREA)
    else:
        image = np.random.default_rng(0).random((1080, 1920, 3), dtype=np.float32)
    print(f"load before: {loadavg()}; threads {args.threads}; image {image.shape[1]}×{image.shape[0]}")
    for model_id, make in (("u2netp", lambda: U2Net(u2netp_widths()).eval()),
                           ("isnet-general-use", lambda: ISNetDIS().eval())):
        net, kind = model(model_id, make)
        saliency(net, image)  # warm-up
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            saliency(net, image)
            times.append(time.perf_counter() - t)
        params = sum(p.numel() for p in net.parameters()) / 1e6
        print(f"{model_id:18s} ({kind}, {params:.1f} M parameters): median {statistics.median(times):.2f} s "
              f"per image over {args.runs} runs (min {min(times):.2f}, max {max(times):.2f})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole run {peak:.0f} MB; load after: {loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
