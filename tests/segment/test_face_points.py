"""How eyes and mouth are placed (`editor.infer.faces`), checked on the hand-marked design faces
(`mp_helpers.DESIGN_FACES`; the held-out faces are in test_person_and_faces). Figures per variant:
tests/bench/bench_face_points.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from mp_helpers import (
    BABY,
    DESIGN_FACES,
    OLD_PHOTO,
    WOMAN_AT,
    WOMAN_SCALE,
    group_photo,
    loaded,
    nearest_detection,
    photo,
    point_errors,
)

from editor.infer import faces

BAR_EACH, BAR_MEAN = 0.12, 0.10


def test_opening_centre_is_the_middle_of_the_opening_not_the_mean_of_its_points() -> None:
    """Contours crowded at one end (as a turned face's far half is) must not pull the centre."""
    xs = np.array([0, 6, 7, 8, 9, 10], float)  # both contours from corner (0, 0) to corner (10, 0)
    upper = np.stack([xs, [0, -2, -1.8, -1.4, -0.8, 0]], 1)
    lower = np.stack([xs, [0, 4, 3.6, 2.8, 1.6, 0]], 1)
    pts = np.concatenate([upper, lower[1:-1]])
    up_ids, lo_ids = tuple(range(6)), (0, 6, 7, 8, 9, 5)
    centre = faces.opening_centre(pts, up_ids, lo_ids)
    # at x = 5 the upper contour is at -2·5/6 and the lower at 4·5/6 (linear from the corner)
    np.testing.assert_allclose(centre, [5.0, (-10 / 6 + 20 / 6) / 2], atol=1e-9)
    assert pts[:, 0].mean() > 6  # the mean of the points would sit well right of the middle


def test_opening_centre_follows_a_rotated_opening() -> None:
    t = np.linspace(0, np.pi, 9)
    upper = np.stack([5 - 5 * np.cos(t), -2 * np.sin(t)], 1)
    lower = np.stack([5 - 5 * np.cos(t), 3 * np.sin(t)], 1)
    a = np.deg2rad(30)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    pts = np.concatenate([upper, lower]) @ rot.T + (100, 50)
    centre = faces.opening_centre(pts, tuple(range(9)), tuple(range(9, 18)))
    np.testing.assert_allclose(centre, np.array([5, 0.5]) @ rot.T + (100, 50), atol=1e-9)


@pytest.fixture(scope="module")
def face_model():
    pytest.importorskip("torch")
    return loaded("mediapipe-face-mesh")


def _box_proportions(det: np.ndarray) -> list:
    """Stand-in: fixed places in the detector's box."""
    x0, y0, x1, y1 = det[:4]
    w, h = x1 - x0, y1 - y0
    return [(x0 + 0.3 * w, y0 + 0.38 * h), (x0 + 0.7 * w, y0 + 0.38 * h), (x0 + 0.5 * w, y0 + 0.78 * h)]


def test_design_faces_points_near_hand_marks(face_model) -> None:
    """10 faces (30 points), from a frontal baby to 25-px-IOD children, a laughing man with shut eyes and a
    three-quarter smile. Measured: mean 4.6 %, 29 of 30 within 12 %; the worst is old_photo's mouth (12.7 %:
    the mesh stops its near lip corner ~8 px short of the visible one). The stand-in fails."""
    ours, stand_in = [], []
    for rel, marked in DESIGN_FACES.items():
        image = photo(rel)
        found = faces.find_faces(face_model, image)
        dets = [d for d, _ in faces.detect(face_model, image)]
        assert len(found) >= len(marked)
        for marks in marked:
            face = min(found, key=lambda f: float(np.hypot(*np.subtract(f.eyes[0], marks[0]))))
            ours += point_errors([*face.eyes, face.mouth], marks)
            stand_in += point_errors(_box_proportions(nearest_detection(dets, marks)), marks)

    def meets(errs: list[float]) -> bool:
        return np.mean(errs) <= 0.06 and max(errs) <= 0.15 and sum(e > BAR_EACH for e in errs) <= 1

    assert meets(ours), np.round(np.array(ours) * 100, 1)
    assert not meets(stand_in)
    assert np.mean(stand_in) > 3 * np.mean(ours)


@pytest.mark.parametrize("rel", [BABY, OLD_PHOTO], ids=["frontal", "three-quarter"])
def test_tracking_recovers_from_an_off_centre_square(face_model, rel: str) -> None:
    """A detector box shifted by a quarter of its width (as on profiles and small faces): one mesh pass
    lands 15–51 % of the IOD off; re-running in the mesh's own tracking square returns to where the true
    box leads (measured ≤ 1.3 %)."""
    image = photo(rel)
    det = faces.detect(face_model, image)[0][0]
    ref_eyes, ref_mouth = faces.face_points(faces.landmarks(face_model, image, det)[0])
    ref = np.array([*ref_eyes, ref_mouth])
    iod = float(np.hypot(*np.subtract(*ref_eyes)))
    width = det[2] - det[0]
    for dx, dy in ((0.2, 0.15), (-0.25, 0.1)):
        moved = det.copy()
        moved[[0, 2]] += dx * width
        moved[[1, 3]] += dy * width
        one = faces.face_points(faces.landmarks(face_model, image, moved, passes=0)[0])
        tracked = faces.face_points(faces.landmarks(face_model, image, moved)[0])
        err_one = np.hypot(*(np.array([*one[0], one[1]]) - ref).T) / iod
        err_tracked = np.hypot(*(np.array([*tracked[0], tracked[1]]) - ref).T) / iod
        assert err_tracked.max() <= 0.03, err_tracked
        assert err_one.max() >= 0.10, err_one  # the shift really matters to a single pass


def test_a_small_face_beside_a_large_one_is_found_once_each(face_model, monkeypatch) -> None:
    """A group photo: the whole 128×128 view finds the large face and misses a face a tenth of the frame's
    width (before the zoomed squares were always searched, only the large face came back). Each face is
    found exactly once, although the whole view and the zoomed squares box the large one differently."""
    canvas = group_photo()
    found = faces.find_faces(face_model, canvas)
    assert len(found) == 2, [f.box for f in found]
    # the woman's hand marks (test_person_and_faces.HAND_MARKED), scaled and moved with her
    (ox, oy), s = WOMAN_AT, WOMAN_SCALE
    marks = tuple((x * s + ox, y * s + oy) for x, y in ((77, 102), (140, 92), (122, 169)))
    face = min(found, key=lambda f: float(np.hypot(*np.subtract(f.eyes[0], marks[0]))))
    errs = point_errors([*face.eyes, face.mouth], marks)
    assert max(errs) <= BAR_EACH, errs
    # a second, poorer box on the same face (as the whole view gives beside a zoomed square): one face
    real = faces.detect(face_model, canvas)
    low = [(d.copy(), s * 0.6) for d, s in real if d[0] < 800]  # the woman's box, moved down by 45 %
    for d, _ in low:
        d[1::2] += 0.45 * (d[3] - d[1])
    monkeypatch.setattr(faces, "detect", lambda *_a, **_k: real + low)
    assert len(faces.find_faces(face_model, canvas)) == 2


def test_find_faces_stops_at_a_cancel_check(face_model) -> None:
    """The zoomed search and the meshes call the job's cancel check between steps, so Cancel stops a
    Find face on a large photo instead of waiting for it."""
    from editor.infer.api import Cancelled

    canvas = group_photo(with_woman=False)
    calls = []
    found = faces.find_faces(face_model, canvas, check=lambda: calls.append(1))
    assert len(found) == 1 and len(calls) >= 4  # every detector batch, then the face's mesh

    def cancel_on_second() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise Cancelled()

    calls.clear()
    with pytest.raises(Cancelled):
        faces.find_faces(face_model, canvas, check=cancel_on_second)
    assert len(calls) == 2  # nothing ran on after the cancel
