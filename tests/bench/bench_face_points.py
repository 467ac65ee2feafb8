"""Face points against hand marks, per face and point, for the pipeline and its references (run by hand:
`python tests/bench/bench_face_points.py [--held-out]`).

Error = distance to the hand-marked point / hand-marked inter-ocular distance (IOD), in %. The issue's bar:
each point ≤ 12 %, mean ≤ 10 %. Faces: the design set (`mp_helpers.DESIGN_FACES`, which the choices in
`editor.infer.faces` were made on); `--held-out` adds the four held-out faces of test_person_and_faces
(checked once at the end, never tuned on). Variants, all from the same detections:
  box proportions   stand-in: fixed places in the detector's box (eyes at 30/70 % across and 38 % down,
                    mouth at 50 % across and 78 % down)
  detector keypts   BlazeFace's own eye and mouth keypoints
  1 pass, means     the earlier pipeline: one mesh pass in the detector's square; eye = mean of its 16
                    contour points, mouth = mean of the outer lip corners and the inner lip middles
  tracked, means    mesh re-run in MediaPipe's tracking square until it stops moving; the same means
  1 pass, openings  one pass; middles of the eye openings and of the lip line (`opening_centre`)
  tracked, openings what `lucid faces` does now
Prints the mesh time per face, one pass against tracked (same run), and `cat /proc/loadavg`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "segment"))

from mp_helpers import DESIGN_FACES, SHARED_DATA, nearest_detection, point_errors  # noqa: E402
from test_person_and_faces import HAND_MARKED  # noqa: E402

HELD_OUT = {rel: [marks] for rel, marks in HAND_MARKED.items()}  # head: mouth out of frame (None)
EYE_MEANS = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
)
MOUTH_MEAN = (61, 291, 13, 14)


def box_proportions(det: np.ndarray, _mesh) -> list:
    x0, y0, x1, y1 = det[:4]
    w, h = x1 - x0, y1 - y0
    return [(x0 + 0.3 * w, y0 + 0.38 * h), (x0 + 0.7 * w, y0 + 0.38 * h), (x0 + 0.5 * w, y0 + 0.78 * h)]


def detector_keypoints(det: np.ndarray, _mesh) -> list:
    k = det[4:].reshape(6, 2)
    eyes = sorted([tuple(k[0]), tuple(k[1])])
    return [eyes[0], eyes[1], tuple(k[3])]


def means(_det, mesh: np.ndarray) -> list:
    eyes = sorted(tuple(mesh[list(ids), :2].mean(0)) for ids in EYE_MEANS)
    return [eyes[0], eyes[1], tuple(mesh[list(MOUTH_MEAN), :2].mean(0))]


def openings(_det, mesh: np.ndarray) -> list:
    from editor.infer.faces import face_points

    eyes, mouth = face_points(mesh)
    return [eyes[0], eyes[1], mouth]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--held-out", action="store_true")
    args = ap.parse_args()
    import torch

    from editor.infer import faces
    from editor.infer.safe_load import load_model
    from editor.infer.store import ModelStore

    torch.set_num_threads(2)
    print(f"loadavg before: {Path('/proc/loadavg').read_text().strip()}")
    model = load_model(ModelStore().path("mediapipe-face-mesh"))
    sets = [("design", DESIGN_FACES)] + ([("held-out", HELD_OUT)] if args.held_out else [])
    variants = [
        ("box proportions", box_proportions, None),
        ("detector keypts", detector_keypoints, None),
        ("1 pass, means", means, 0),
        ("tracked, means", means, faces.MAX_PASSES),
        ("1 pass, openings", openings, 0),
        ("tracked, openings", openings, faces.MAX_PASSES),
    ]
    for set_name, marked in sets:
        rows: dict[str, list] = {v[0]: [] for v in variants}
        names, spent = [], {v[0]: 0.0 for v in variants}
        for rel, face_marks in marked.items():
            image = np.asarray(Image.open(SHARED_DATA / rel).convert("RGB"), np.float32) / 255.0
            dets = [d for d, _ in faces.detect(model, image)]
            for i, marks in enumerate(face_marks):
                det = nearest_detection(dets, marks)
                names.append(f"{Path(rel).stem[:14]}#{i}")
                for name, points, passes in variants:
                    t = time.perf_counter()
                    mesh = None if passes is None else faces.landmarks(model, image, det, passes)[0]
                    spent[name] += time.perf_counter() - t
                    rows[name].append(point_errors(points(det, mesh), marks))
        print(f"\n{set_name}: error % of IOD per face (left eye / right eye / mouth)")
        print(" " * 18 + "".join(f"{n:>19s}" for n in names))
        for name, errs in rows.items():
            flat = [e for face in errs for e in face]
            cells = "".join(f"{'/'.join(f'{e * 100:.0f}' for e in face):>19s}" for face in errs)
            print(f"{name:18s}{cells}")
            print(
                f"{'':18s}mean {np.mean(flat) * 100:.1f} %, max {np.max(flat) * 100:.1f} %, "
                f"{sum(e > 0.12 for e in flat)} of {len(flat)} points over 12 %"
            )
        for name in ("1 pass, openings", "tracked, openings"):
            print(f"{name}: {spent[name] / len(names) * 1000:.0f} ms per face (mesh passes, same run)")
    print(f"\nloadavg after: {Path('/proc/loadavg').read_text().strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
