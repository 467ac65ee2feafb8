"""The bar on real photos: `lucid segment --subject person` agrees with Google's runtime on the same model
(IoU ≥ 0.95 of the masks at 0.5), and `lucid faces --json` finds eyes and mouth near hand-marked points.

Hand-marked points (image pixels, image-left eye first). How they were made: each photo was cropped
around the face, enlarged 5× with nearest-neighbour and overlaid with a 10-pixel grid (labelled every
50 px); each eye was marked at the middle of its visible opening (halfway between the corners and
between the lids, which also falls on the iris) and the mouth at the middle of the line where the lips
meet. Set5 "head" is a three-quarter profile cut off below the nose: its mouth is outside the frame
and cannot be marked, and its far eye shows only as lashes beside the nose bridge (marked there).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mp_helpers import GIRL, HEAD, MAN, SELFIE, WOMAN, litert, litert_run, model_file, photo, point_errors

torch = pytest.importorskip("torch")

from editor.cli import main  # noqa: E402

HAND_MARKED = {
    WOMAN: ((77, 102), (140, 92), (122, 169)),
    GIRL: ((343, 422), (430, 416), (387, 500)),
    HEAD: ((162, 168), (219, 168), None),
    MAN: ((902, 145), (929, 136), (935, 176)),  # marked on an 8× crop; the face is ~70 px, IOD 28 px
}
PEOPLE = [WOMAN, HEAD, MAN, GIRL]  # held out: the face-point choices were made on mp_helpers.DESIGN_FACES


def _google_mask(rel: str) -> np.ndarray:
    """Google's runtime on the same model and the same 256×256 input, resized like ours."""
    import cv2

    from editor.infer.tasks.segment import person_input

    img = photo(rel)
    (prob,) = litert_run(litert(model_file(*SELFIE)), person_input(img))
    h, w = img.shape[:2]
    return cv2.resize(prob[0, ..., 0], (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.mark.parametrize("rel", PEOPLE, ids=lambda r: Path(r).stem)
def test_segment_cli_agrees_with_googles_runtime(rel: str, tmp_path: Path) -> None:
    from mp_helpers import SHARED_DATA
    from PIL import Image

    model_file(*SELFIE)
    out = tmp_path / "mask.png"
    assert main(["segment", str(SHARED_DATA / rel), "--subject", "person", "-o", str(out)]) == 0
    ours = np.asarray(Image.open(out).convert("L")) >= 128
    ref = _google_mask(rel)
    assert ours.shape == ref.shape
    assert 0.02 < ref.mean() < 0.98  # a real person/background split, not a trivial mask
    assert iou(ours, ref) >= 0.95


def _faces_json(rel: str, capsys) -> list[dict]:
    from mp_helpers import SHARED_DATA

    model_file("mediapipe-face-mesh", "face_mesh.safetensors")
    capsys.readouterr()
    assert main(["faces", str(SHARED_DATA / rel), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["faces"]


def _errors(face: dict, marks) -> list[float]:
    """Distances to the hand-marked points in units of the hand-marked inter-ocular distance."""
    return point_errors([face["eyes"][0], face["eyes"][1], face["mouth"]], marks)


def test_faces_json_format_and_points_near_hand_marks(capsys) -> None:
    """Measured: woman 2.3 / 0.6 / 2.1 %, girl 4.9 / 1.4 / 2.6 % (left eye / right eye / mouth)."""
    all_errors = []
    for rel in (WOMAN, GIRL):
        faces = _faces_json(rel, capsys)
        assert len(faces) == 1
        face = faces[0]
        assert set(face) == {"box", "score", "eyes", "mouth"}
        _x, _y, w, h = face["box"]
        assert w > 0 and h > 0 and 0 < face["score"] <= 1
        assert face["eyes"][0][0] < face["eyes"][1][0]  # image-left eye first
        errs = _errors(face, HAND_MARKED[rel])
        assert max(errs) <= 0.12, (rel, errs)
        all_errors += errs
    assert float(np.mean(all_errors)) <= 0.10


def test_faces_on_a_profile_cut_off_below_the_nose(capsys) -> None:
    """Set5 head, a true profile: the near eye is found within the bar; the hidden far eye is NOT.
    Measured: near eye 11.7 %, far eye 25.2 % of the inter-ocular distance (before the tracking passes:
    12.7 % and 2.2 %). The mesh re-run in its own tracking square turns the square by −17° (its guess at the
    hidden eye's corner sets the angle) and then puts the far eye 14 px above the lashes it is marked on
    (enlarged crop: /work/helpers/shots-20faces/head-eyes-8x.png). It stays open: the design faces now hold
    strongly turned ones (tests/bench/face_photos.py: Walter in breakingbad.jpg ~60°, within 9 %, and 2 %
    on his far eye; cut off below the nose like this photo, 7 %), and no rule for the square's rotation did
    better on them than the eye corners (bench_face_points.py --cut); the detector's rotation, which
    puts this far eye within 10 %, makes the cut Walter miss (13 %). A second annotator, marking blind, put
    both eyes within 2 px of these marks (near 161, 169.5; far 218, 170): against theirs the points are
    12.4 % and 29.0 % off. MediaPipe's own static-image pipeline (the mediapipe 0.10.14 wheel, one pass in
    its detector's square) is 12.8 % and 11 % off on this face."""
    faces = _faces_json(HEAD, capsys)
    assert (
        len(faces) == 1
    )  # the detector's second, weak box in the hair is dropped by the mesh's presence score
    near, far = _errors(faces[0], HAND_MARKED[HEAD])
    assert near <= 0.12, (near, far)
    assert far <= 0.30, (near, far)  # a known miss (see above), bounded so that it cannot get worse unseen


def test_faces_all_adds_468_points_inside_the_photo(capsys) -> None:
    from mp_helpers import SHARED_DATA

    model_file("mediapipe-face-mesh", "face_mesh.safetensors")
    capsys.readouterr()
    assert main(["faces", str(SHARED_DATA / WOMAN), "--json", "--all"]) == 0
    face = json.loads(capsys.readouterr().out)["faces"][0]
    pts = np.array(face["landmarks"])
    assert pts.shape == (468, 2)
    x, y, w, h = face["box"]
    inside = (
        (pts[:, 0] > x - 0.2 * w)
        & (pts[:, 0] < x + 1.2 * w)
        & (pts[:, 1] > y - 0.2 * h)
        & (pts[:, 1] < y + 1.2 * h)
    )
    assert inside.all()


def test_no_face_in_a_photo_without_people(capsys) -> None:
    faces = _faces_json("sr/Set5/x4/img_003_SRF_4_HR.png", capsys)  # a butterfly
    assert faces == []


def test_a_small_three_quarter_face_is_found_by_the_zoomed_search(capsys) -> None:
    """bgmv2 test_fg: the man's face is ~4 % of the frame's width, too small for the short-range detector
    on the whole view; the half-size squares find it, and the mesh, re-run in its own tracking square, fits
    the turned face. Measured: 6.5 %, 6.6 %, 6.1 % of the (foreshortened, 28 px) inter-ocular distance for
    near eye, far eye, mouth (before the tracking passes and the opening centres: 8.9 %, 13.7 %, 17.2 %)."""
    faces = _faces_json(MAN, capsys)
    assert len(faces) == 1
    errs = _errors(faces[0], HAND_MARKED[MAN])
    assert max(errs) <= 0.12, errs
    assert float(np.mean(errs)) <= 0.10, errs


def test_held_out_faces_mean_error(capsys) -> None:
    """The bar's mean over every marked point of the four held-out faces (11 points): measured 6.35 %.
    Per face: woman 1.7 %, girl 3.0 %, man 6.4 %, head 18.4 % (its hidden far eye misses, see above)."""
    errs = [e for rel in PEOPLE for e in _errors(_faces_json(rel, capsys)[0], HAND_MARKED[rel])]
    assert len(errs) == 11
    assert float(np.mean(errs)) <= 0.10, errs
