"""Faces: MediaPipe's BlazeFace short-range detector, then the 468-point face mesh, as MediaPipe runs them.

Detection letterboxes the photo into a 128×128 square (values in [-1, 1]), decodes the 896 SSD
anchors (x, y, w, h and six keypoints, scale 128), keeps scores ≥ 0.5 and merges overlaps by
weighted non-maximum suppression (IoU 0.3); overlapping squares of a half and a quarter of the photo
are searched the same way, so that the smaller faces of a group photo are found too. Each face's first
crop is a square 1.5× the box's longer side, centred on the box and rotated so the eyes are level; it
is resampled from the full-resolution photo to 192×192 ([0, 1]) for the mesh, whose points are mapped
back through the same rotation.
The mesh is then run again in the square MediaPipe's tracker derives from the mesh itself (eye
corners 33 → 263 level, the points' bounding box × 1.5) until that square stops moving: the
detector's box is often off-centre on turned and small faces, the tracking square fits the mesh. (On a
true profile it turns with the mesh's guess at the hidden eye, which can then drift: Set5 head's.)
An eye's centre is the middle of its visible opening (halfway between its corners, and there
halfway between the lids), the mouth's the middle of the line where the lips meet (halfway between
the inner lip corners, and there halfway between the inner lips): measured along the mesh's own
contours, so a turned face's foreshortened half does not pull the point (as a mean of points would).
All geometry is numpy; the networks are the converted TFLite graphs (`archs.tflite_graph`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

DETECTOR = "face_detection_short_range"
LANDMARKS = "face_landmark"
DET_SIZE, MESH_SIZE = 128, 192
MIN_SCORE, NMS_IOU = 0.5, 0.3
ROI_SCALE = 1.5
MIN_PRESENCE = 0.1
ZOOM_BATCH = 32  # squares per detector call in the zoomed search
MAX_PASSES, ROI_STILL = 4, 0.01  # tracking passes; "still" = centre and side move < 1 % of the side
# Openings of the 468-point mesh (MediaPipe's FACEMESH_RIGHT_EYE / LEFT_EYE / LIPS), each as an upper and
# a lower contour from one corner to the other: the subject's right eye, left eye, inner lips.
EYE_A = ((33, 246, 161, 160, 159, 158, 157, 173, 133), (33, 7, 163, 144, 145, 153, 154, 155, 133))
EYE_B = ((263, 466, 388, 387, 386, 385, 384, 398, 362), (263, 249, 390, 373, 374, 380, 381, 382, 362))
LIPS = (
    (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308),
    (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308),
)
Point = tuple[float, float]


@dataclass
class Face:
    box: tuple[float, float, float, float]  # x, y, w, h in image pixels
    score: float
    eyes: tuple[Point, Point]  # image-left eye first
    mouth: Point
    landmarks: np.ndarray = field(repr=False)  # 468×3 (x, y in pixels; z relative)
    presence: float = 1.0

    def as_json(self, *, all_points: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "box": [round(v, 2) for v in self.box],
            "score": round(self.score, 4),
            "eyes": [[round(v, 2) for v in e] for e in self.eyes],
            "mouth": [round(v, 2) for v in self.mouth],
        }
        if all_points:
            out["landmarks"] = np.round(self.landmarks[:, :2], 2).tolist()
        return out


def anchors() -> np.ndarray:
    """The 896 anchor centres (x, y) of the short-range detector (SSD, strides 8, 16, 16, 16)."""
    out = []
    for grid, per_cell in ((16, 2), (8, 6)):  # layers with the same stride share one grid
        ys, xs = np.mgrid[0:grid, 0:grid]
        centres = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], -1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(out).astype(np.float32)


ANCHORS = anchors()


def _area_resize(image: np.ndarray, scale: float) -> np.ndarray:
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def letterbox(image: np.ndarray, size: int = DET_SIZE) -> tuple[np.ndarray, float, int, int]:
    """The image scaled to fit a `size` square, centred on black: (square, scale, offset x, offset y)."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    small = _area_resize(np.ascontiguousarray(image[..., :3], dtype=np.float32), scale)
    out = np.zeros((size, size, 3), np.float32)
    oy, ox = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
    out[oy : oy + small.shape[0], ox : ox + small.shape[1]] = small
    return out, scale, ox, oy


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(boxes N×16 as normalised x0, y0, x1, y1 + 6 keypoints (x, y), scores N) above MIN_SCORE."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.reshape(-1).astype(np.float64), -100, 100)))
    keep = scores >= MIN_SCORE
    r, a = raw_boxes.reshape(-1, 16)[keep] / DET_SIZE, ANCHORS[keep]
    cx, cy = r[:, 0] + a[:, 0], r[:, 1] + a[:, 1]
    w, h = r[:, 2], r[:, 3]
    kps = r[:, 4:].reshape(-1, 6, 2) + a[:, None, :]
    boxes = np.concatenate(
        [np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1), kps.reshape(-1, 12)], 1
    )
    return boxes, scores[keep]


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x0, y0 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x1, y1 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda z: (z[..., 2] - z[..., 0]) * (z[..., 3] - z[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's WEIGHTED suppression: overlapping boxes are averaged, weighted by score."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    out = []
    while len(scores):
        overlap = _iou(boxes[0], boxes) > NMS_IOU
        w = scores[overlap][:, None]
        out.append(((boxes[overlap] * w).sum(0) / w.sum(), float(scores[0])))
        boxes, scores = boxes[~overlap], scores[~overlap]
    return out


def _rotation(eye_a: np.ndarray, eye_b: np.ndarray) -> float:
    """MediaPipe's ROI rotation from keypoint 0 (the subject's right eye) to 1: eyes level."""
    r = -math.atan2(-(eye_b[1] - eye_a[1]), eye_b[0] - eye_a[0])
    return (r + math.pi) % (2 * math.pi) - math.pi


def roi_corners(centre: np.ndarray, side: float, angle: float) -> np.ndarray:
    """Image positions of the rotated square's top-left, top-right and bottom-left corners."""
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    local = np.array([[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5]]) * side
    return (local @ rot.T + centre).astype(np.float32)


def crop(image: np.ndarray, corners: np.ndarray, size: int = MESH_SIZE) -> np.ndarray:
    """The rotated square resampled to size×size (area-filtered first when it shrinks a lot)."""
    c = corners.astype(np.float64)
    four = np.vstack([c, c[1] + c[2] - c[0]])
    h, w = image.shape[:2]
    x0, y0 = (int(max(0, np.floor(v))) for v in four.min(0))
    x1, y1 = int(min(w, np.ceil(four[:, 0].max()) + 1)), int(min(h, np.ceil(four[:, 1].max()) + 1))
    if x1 <= x0 or y1 <= y0:
        return np.zeros((size, size, 3), np.float32)
    sub = np.ascontiguousarray(image[y0:y1, x0:x1, :3], dtype=np.float32)
    shrink = np.linalg.norm(c[1] - c[0]) / size
    local = c - (x0, y0)
    if shrink > 2:
        sub = _area_resize(sub, 1.0 / shrink)
        local = local * (sub.shape[1] / (x1 - x0), sub.shape[0] / (y1 - y0))
    dst = np.array([[0, 0], [size, 0], [0, size]], np.float32)
    m = cv2.getAffineTransform(local.astype(np.float32), dst)
    return cv2.warpAffine(sub, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def to_image(points: np.ndarray, corners: np.ndarray, size: int = MESH_SIZE) -> np.ndarray:
    """Crop pixel positions (N×2) back to image pixels through the crop's affine map."""
    src = np.array([[0, 0], [size, 0], [0, size]], np.float32)
    m = cv2.getAffineTransform(src, corners)
    return points @ m[:, :2].T + m[:, 2]


def _run(graph: Any, x: np.ndarray, *, batch: bool = False) -> list[np.ndarray]:
    """The graph's outputs for one input (or, with `batch`, for a stack of them at once)."""
    import torch

    buf = next(iter(graph.buffers()))
    with torch.inference_mode():
        out = graph(torch.from_numpy(np.ascontiguousarray(x if batch else x[None])).to(buf.device))
    return [o.float().cpu().numpy() for o in out]


def _detect_in(net: Any, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw detections (image pixels) and scores of the whole photo, letterboxed."""
    small, scale, ox, oy = letterbox(image)
    raw_boxes, raw_scores = _run(net.graph(DETECTOR), small * 2.0 - 1.0)
    boxes, scores = decode(raw_boxes, raw_scores)
    pts = (boxes.reshape(len(boxes), 8, 2) * DET_SIZE - np.array([ox, oy])) / scale
    return pts.reshape(len(boxes), 16), scores


def _tiles(h: int, w: int, side: int) -> list[tuple[int, int]]:
    """Top-left corners of side×side squares covering the image with half-square overlap."""

    def starts(n: int) -> list[int]:
        if n <= side:
            return [0]
        k = int(np.ceil((n - side) / (side / 2))) + 1
        return [round(i * (n - side) / (k - 1)) for i in range(k)]

    return [(x, y) for y in starts(h) for x in starts(w)]


def _detect_zoomed(
    net: Any, image: np.ndarray, side: int, check: Callable[[], None] = lambda: None
) -> tuple[np.ndarray, np.ndarray]:
    """Raw detections (image pixels) and scores in overlapping side×side squares. The photo is shrunk once
    so that a square is the detector's 128 pixels, and the squares go through the detector as one batch.
    A box that runs past an edge its square shares with the rest of the photo is dropped: that face is
    cut by the square, and the overlapping square beside it sees it whole."""
    scale = DET_SIZE / side
    level = _area_resize(image, scale)
    lh, lw = level.shape[:2]
    corners = _tiles(lh, lw, DET_SIZE)
    squares = np.zeros((len(corners), DET_SIZE, DET_SIZE, 3), np.float32)
    for i, (x, y) in enumerate(corners):
        tile = level[y : y + DET_SIZE, x : x + DET_SIZE]
        squares[i, : tile.shape[0], : tile.shape[1]] = tile
    graph = net.graph(DETECTOR)
    outs = []
    for i in range(0, len(corners), ZOOM_BATCH):
        check()
        outs.append(_run(graph, squares[i : i + ZOOM_BATCH] * 2.0 - 1.0, batch=True))
    raw_boxes = np.concatenate([o[0] for o in outs])
    raw_scores = np.concatenate([o[1] for o in outs])
    found_pts, found_scores = [], []
    for (x, y), rb, rs in zip(corners, raw_boxes, raw_scores, strict=True):
        boxes, scores = decode(rb, rs)
        px = boxes.reshape(len(boxes), 8, 2) * DET_SIZE  # pixels of the square
        cut = (px[:, 0, 0] < 0) & (x > 0)
        cut |= (px[:, 0, 1] < 0) & (y > 0)
        cut |= (px[:, 1, 0] > DET_SIZE) & (x + DET_SIZE < lw)
        cut |= (px[:, 1, 1] > DET_SIZE) & (y + DET_SIZE < lh)
        found_pts.append(((px[~cut] + (x, y)) / scale).reshape(-1, 16))
        found_scores.append(scores[~cut])
    return np.concatenate(found_pts), np.concatenate(found_scores)


def detect(
    model: Any, image: np.ndarray, *, zoom_levels: int = 2, check: Callable[[], None] = lambda: None
) -> list[tuple[np.ndarray, float]]:
    """Detections in image pixels: (x0, y0, x1, y1, 6 keypoints x/y) and score, best first.

    The short-range detector sees the whole photo at 128×128, so a face smaller than about a tenth of
    the frame is missed: in a group photo it finds the larger faces and misses the rest. So overlapping
    squares of half, then a quarter, of the shorter side are searched too (while a square is at least twice
    the detector's input), and what every view finds is merged by weighted suppression. `check` is called
    before each batch of squares (a job's cancel check).
    """
    net = getattr(model, "model", model)
    image = np.clip(np.asarray(image[..., :3], np.float32), 0, 1)
    found = [_detect_in(net, image)]
    side = min(image.shape[:2])
    for _ in range(zoom_levels):
        if side < 2 * DET_SIZE:
            break
        side //= 2
        found.append(_detect_zoomed(net, image, side, check))
    boxes = np.concatenate([b for b, _ in found])
    scores = np.concatenate([s for _, s in found])
    return [(b, s) for b, s in weighted_nms(boxes, scores)]


def mesh_in(model: Any, image: np.ndarray, centre: np.ndarray, side: float, angle: float):
    """468×3 mesh points in image pixels and the face-presence score for one rotated square."""
    net = getattr(model, "model", model)
    corners = roi_corners(centre, side, angle)
    mesh, flag = _run(net.graph(LANDMARKS), crop(np.clip(image, 0, 1), corners))
    pts = mesh.reshape(-1, 3).astype(np.float64)
    xy = to_image(pts[:, :2], corners)
    z = pts[:, 2:] * side / MESH_SIZE
    presence = float(1.0 / (1.0 + np.exp(-np.clip(flag.reshape(-1)[0], -80, 80))))
    return np.concatenate([xy, z], 1), presence


def mesh_roi(points: np.ndarray, angle: float | None = None) -> tuple[np.ndarray, float, float]:
    """MediaPipe's tracking square from a mesh (face_landmarks_to_roi): rotation that levels the eye
    corners 33 → 263 (or `angle`), the points' bounding box in that level frame, its longer side × 1.5."""
    pts = points[:, :2]
    angle = _rotation(pts[33], pts[263]) if angle is None else angle
    rot = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
    local = (pts - pts.mean(0)) @ rot.T  # into the face's level frame
    lo, hi = local.min(0), local.max(0)
    return pts.mean(0) + ((lo + hi) / 2) @ rot, ROI_SCALE * float(max(hi - lo)), angle


def landmarks(
    model: Any,
    image: np.ndarray,
    det: np.ndarray,
    passes: int = MAX_PASSES,
    angle: Callable[[np.ndarray], float | None] | None = None,
) -> tuple[np.ndarray, float]:
    """The mesh of one detection: first in the detection's square (MediaPipe's first frame), then up to
    `passes` times in the tracking square of the previous mesh (`mesh_roi`, MediaPipe's next frame),
    until that square moves less than ROI_STILL of its side. A pass whose face-presence score falls
    below MIN_PRESENCE is not taken. `angle` (mesh → rotation) replaces the eye-corner rotation of the
    tracking square, for the bench to compare other rules on the same passes."""
    x0, y0, x1, y1 = det[:4]
    kps = det[4:].reshape(6, 2)
    centre, side = np.array([(x0 + x1) / 2, (y0 + y1) / 2]), ROI_SCALE * max(x1 - x0, y1 - y0)
    best = mesh_in(model, image, centre, side, _rotation(kps[0], kps[1]))
    for _ in range(passes):
        new_centre, new_side, turn = mesh_roi(best[0], None if angle is None else angle(best[0]))
        again = mesh_in(model, image, new_centre, new_side, turn)
        if again[1] < MIN_PRESENCE:
            break
        best = again
        moved = max(float(np.hypot(*(new_centre - centre))), abs(new_side - side)) / new_side
        centre, side = new_centre, new_side
        if moved < ROI_STILL:
            break
    return best


def opening_centre(points: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...]) -> np.ndarray:
    """The middle of an opening bounded by two contours that share their end points (the corners):
    halfway between the corners along the line joining them, and there halfway between the contours."""
    up, lo = points[list(upper), :2], points[list(lower), :2]
    c0, c1 = up[0], up[-1]
    length = float(np.hypot(*(c1 - c0)))
    if length < 1e-6:
        return (c0 + c1) / 2
    axis = (c1 - c0) / length
    return (_crossing(up, c0, axis, length / 2) + _crossing(lo, c0, axis, length / 2)) / 2


def _crossing(poly: np.ndarray, origin: np.ndarray, axis: np.ndarray, at: float) -> np.ndarray:
    """Where the polyline first crosses the perpendicular to `axis` at distance `at` from `origin`."""
    t = (poly - origin) @ axis
    for i in range(len(t) - 1):
        if (t[i] - at) * (t[i + 1] - at) <= 0 and t[i] != t[i + 1]:
            return poly[i] + (at - t[i]) / (t[i + 1] - t[i]) * (poly[i + 1] - poly[i])
    return poly[int(np.argmin(np.abs(t - at)))]


def face_points(mesh: np.ndarray) -> tuple[tuple[Point, Point], Point]:
    """Both eye centres (image-left first) and the mouth centre of a mesh, in image pixels."""
    eyes = sorted(tuple(map(float, opening_centre(mesh, *eye))) for eye in (EYE_A, EYE_B))
    mouth = opening_centre(mesh, *LIPS)
    return (eyes[0], eyes[1]), (float(mouth[0]), float(mouth[1]))  # type: ignore[return-value]


def _mesh_box(mesh: np.ndarray) -> np.ndarray:
    return np.concatenate([mesh[:, :2].min(0), mesh[:, :2].max(0)])


def _inside(point: Point, box: np.ndarray) -> bool:
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])


def find_faces(
    model: Any, image: np.ndarray, *, max_faces: int = 8, check: Callable[[], None] = lambda: None
) -> list[Face]:
    """Every face the detector finds (best first), with its mesh, eyes and mouth. A box whose mesh says it
    holds no face is dropped, and so is one whose mesh lands on a face already kept (the whole view and a
    zoomed square can each box the same face, differently enough that suppression keeps both, and a mesh
    grown from the poorer box may not settle exactly on the other: an eye inside a kept face's mesh is the
    same face, as two people's faces never overlap that much). `check` is called between the steps (a job's
    cancel check)."""
    faces: list[Face] = []
    kept: list[np.ndarray] = []
    for det, score in detect(model, image, check=check):
        if len(faces) == max_faces:
            break
        check()
        mesh, presence = landmarks(model, image, det)
        if presence < MIN_PRESENCE:
            continue  # the detector's box holds no face the mesh model accepts
        eyes, mouth = face_points(mesh)
        if any(_inside(eye, box) for eye in eyes for box in kept):
            continue
        kept.append(_mesh_box(mesh))
        x0, y0, x1, y1 = (float(v) for v in det[:4])
        faces.append(
            Face(
                box=(x0, y0, x1 - x0, y1 - y0),
                score=score,
                eyes=eyes,
                mouth=mouth,
                landmarks=mesh,
                presence=presence,
            )
        )
    return faces
