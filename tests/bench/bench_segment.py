"""Person segmentation, face landmarks and the one-click cut-out on CPU (run by hand:
`python tests/bench/bench_segment.py [--threads N] [--skip-12mp]`).

1. Segmentation per image: Lucid's converted graph (torch) vs Google's runtime (ai-edge-litert, the
   fair reference: same model, same 256×256 input), median of 10 runs after a warm-up, plus the
   whole `segment` task (resize in and out) on a 1920×1080 photo.
2. Face detector and landmark model per face: torch vs litert, and the whole `faces` pipeline; detection
   on a 2 MP and a 12 MP photo with the whole view only against the whole view plus the zoomed squares.
3. The one-click cut-out (`cutout` task: person mask → trimap → closed-form matte → foreground) on a
   12 MP photo (bgmv2 test_fg.jpg upscaled to 4000×3000) and on the 2 MP original.
Prints `cat /proc/loadavg` before and after: the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
DATA = (REPO.parent / "shared" / "data").resolve()


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0


def median_s(fn, runs: int = 10) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-12mp", action="store_true")
    args = ap.parse_args()

    import torch
    from ai_edge_litert.interpreter import Interpreter

    from editor.infer import faces
    from editor.infer.api import Request
    from editor.infer.safe_load import load_model
    from editor.infer.service import run_direct
    from editor.infer.store import ModelStore
    from editor.infer.tasks.segment import person_input

    torch.set_num_threads(args.threads)
    print(f"loadavg before: {loadavg()}  (torch threads {args.threads}, litert threads {args.threads})")
    store = ModelStore()
    seg = load_model(store.path("mediapipe-selfie-segmentation"))
    mesh = load_model(store.path("mediapipe-face-mesh"))
    folder = store.models_dir

    def litert(path: Path):
        it = Interpreter(model_path=str(path), num_threads=args.threads)
        it.allocate_tensors()
        return it

    def lite_call(it, x):
        def go():
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()

        return go

    def torch_call(graph, x):
        t = torch.from_numpy(x)

        def go():
            with torch.inference_mode():
                graph(t)

        return go

    man = load_rgb(DATA / "matting" / "bgmv2_pair" / "test_fg.jpg")
    woman = load_rgb(DATA / "sr" / "Set5" / "x4" / "img_005_SRF_4_HR.png")
    x_seg = person_input(man)
    it = litert(folder / "mediapipe-selfie-segmentation" / "selfie_segmentation.tflite")
    print("\n1. person segmentation, 256×256 model call (median of 10)")
    print(f"   torch (Lucid) {median_s(torch_call(seg.model, x_seg)) * 1000:7.1f} ms")
    print(f"   ai-edge-litert {median_s(lite_call(it, x_seg)) * 1000:6.1f} ms")
    seg_task = lambda: run_direct(  # noqa: E731
        Request(task="segment", image=man, model_id="mediapipe-selfie-segmentation"),
        store=store,
        device="cpu",
    )
    print(f"   whole segment task on 1920×1080 {median_s(seg_task, 5) * 1000:7.1f} ms")

    print("\n2. faces (Set5 woman)")
    det_x = (faces.letterbox(woman)[0] * 2 - 1)[None]
    d = faces.detect(mesh, woman)[0][0]
    kps = d[4:].reshape(6, 2)
    corners = faces.roi_corners(
        np.array([(d[0] + d[2]) / 2, (d[1] + d[3]) / 2]),
        faces.ROI_SCALE * max(d[2] - d[0], d[3] - d[1]),
        faces._rotation(kps[0], kps[1]),
    )
    lmk_x = faces.crop(woman, corners)[None]
    for name, x in (("face_detection_short_range", det_x), ("face_landmark", lmk_x)):
        ours = median_s(torch_call(mesh.model.graph(name), x)) * 1000
        ref = median_s(lite_call(litert(folder / "mediapipe-face-mesh" / f"{name}.tflite"), x)) * 1000
        print(f"   {name:28s} torch {ours:6.1f} ms   litert {ref:6.1f} ms")
    whole = median_s(lambda: faces.find_faces(mesh, woman), 5) * 1000
    print(f"   whole faces pipeline (detect + mesh, 1 face) {whole:.1f} ms")
    big = cv2.resize(man, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    for label, img in (("1920×1080 (test_fg)", man), ("12 MP (test_fg ×2.08)", big)):
        view = median_s(lambda img=img: faces.detect(mesh, img, zoom_levels=0), 3) * 1000
        zoomed = median_s(lambda img=img: faces.detect(mesh, img), 3) * 1000
        found = median_s(lambda img=img: faces.find_faces(mesh, img), 3) * 1000
        print(
            f"   {label:22s} detect: whole view {view:6.0f} ms, with the zoomed squares {zoomed:6.0f} ms;"
            f" find_faces {found:6.0f} ms"
        )

    print("\n3. one-click cut-out (person mask → trimap → closed-form matte → foreground)")
    sizes = [("2 MP (1920×1080)", man)]
    if not args.skip_12mp:
        sizes.append(("12 MP (4000×3000)", cv2.resize(man, (4000, 3000), interpolation=cv2.INTER_CUBIC)))
    for label, img in sizes:
        t = time.perf_counter()
        r = run_direct(
            Request(task="cutout", image=img, model_id="mediapipe-selfie-segmentation"),
            store=store,
            device="cpu",
        )
        dt = time.perf_counter() - t
        band, frac = r.info["band_px"], r.info["subject_fraction"]
        print(f"   {label}: {dt:6.1f} s  (band {band} px, subject {frac:.1%})")
    print(f"\nloadavg after: {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
