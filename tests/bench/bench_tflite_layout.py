"""The converted MediaPipe graphs with channels-last activations and weights (what Lucid runs) against the
same graphs with NCHW-contiguous ones (how they ran before), in the same run (run by hand:
`python tests/bench/bench_tflite_layout.py`; needs the face model installed, `lucid models fetch
mediapipe-face-mesh`, and ../shared/data for the 1920×1080 photo).

Both models load the same converted file; the NCHW one gets its 4-D buffers made NCHW-contiguous and the
graph's input conversion swapped back while it runs. Medians of 15 calls (5 for the batch, 3 for
find_faces) after a warm-up, alternating the two twice; prints `cat /proc/loadavg`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_segment import median_s  # noqa: E402  (a script beside this one)

PHOTO = REPO.parent / "shared" / "data" / "matting" / "bgmv2_pair" / "test_fg.jpg"


def nchw_internal(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2).contiguous() if x.ndim == 4 else x


def timings(model, one: torch.Tensor, batch: torch.Tensor, crop: torch.Tensor, photo: np.ndarray) -> str:
    from editor.infer import faces

    det, mesh = model.graph(faces.DETECTOR), model.graph(faces.LANDMARKS)
    return (
        f"detector {1000 * median_s(lambda: det(one), 15):5.1f} ms,"
        f" 32 squares {1000 * median_s(lambda: det(batch), 5):6.1f} ms,"
        f" mesh {1000 * median_s(lambda: mesh(crop), 15):5.1f} ms,"
        f" find_faces 1920×1080 {1000 * median_s(lambda: faces.find_faces(model, photo), 3):5.0f} ms"
    )


def main() -> int:
    import editor.infer.archs.tflite_graph as tg
    from editor.infer.safe_load import load_model
    from editor.infer.store import ModelStore

    torch.set_num_threads(2)
    print(f"loadavg before: {Path('/proc/loadavg').read_text().strip()}")
    path = ModelStore().path("mediapipe-face-mesh")
    channels_last = load_model(path).model
    nchw = load_model(path).model
    for graph in nchw.graphs.values():
        for name, buf in list(graph.named_buffers()):
            if buf.ndim == 4:
                setattr(graph, name, buf.contiguous())
    photo = np.asarray(Image.open(PHOTO).convert("RGB"), np.float32) / 255.0
    one, batch, crop = torch.rand(1, 128, 128, 3), torch.rand(32, 128, 128, 3), torch.rand(1, 192, 192, 3)
    internal = tg.to_internal
    variants = (("NCHW", nchw, nchw_internal), ("channels-last", channels_last, internal))
    with torch.inference_mode():
        for _round in range(2):
            for label, model, to_internal in variants:
                tg.to_internal = to_internal
                print(f"{label:14s} {timings(model, one, batch, crop, photo)}")
    tg.to_internal = internal
    print(f"loadavg after: {Path('/proc/loadavg').read_text().strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
