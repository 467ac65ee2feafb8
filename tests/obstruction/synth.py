"""Synthetic bursts with known ground truth: background moved by small homographies, an obstruction
with its own (larger) motion on top, plus sensor noise. Shared by the tests and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Burst:
    frames: np.ndarray  # N×H×W×3 float32
    background: np.ndarray  # ground-truth background of the reference frame
    reference: int
    homographies: list[np.ndarray]  # reference pixel → frame pixel, background layer
    obstruction_homographies: list[np.ndarray] | None = None  # the same for the obstruction (grids)
    alpha: np.ndarray | None = None  # the obstruction's coverage of the reference (grids), H×W 0–1


def texture(h: int, w: int, seed: int) -> np.ndarray:
    """A colourful, multi-scale random texture with edges (something alignment can lock onto)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((h, w, 3), np.float32)
    for cell, amp in ((32, 0.5), (8, 0.3), (3, 0.2)):
        small = rng.random((h // cell + 2, w // cell + 2, 3)).astype(np.float32)
        out += amp * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(12):  # a few hard-edged shapes
        c = tuple(int(v) for v in rng.integers(0, [w, h]))
        cv2.circle(out, c, int(rng.integers(4, max(5, h // 6))), tuple(float(v) for v in rng.random(3)), -1)
    return np.clip(0.1 + 0.8 * (out - out.min()) / (np.ptp(out) + 1e-6), 0, 1).astype(np.float32)


def random_homography(rng: np.random.Generator, w: int, h: int, max_shift: float) -> np.ndarray:
    """Reference → frame homography that moves the image corners by up to `max_shift` pixels."""
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-max_shift, max_shift, (4, 2)).astype(np.float32)
    return cv2.getPerspectiveTransform(src, dst)


def view(canvas: np.ndarray, hom: np.ndarray, margin: int, h: int, w: int) -> np.ndarray:
    """Frame pixel y shows canvas point (margin + H⁻¹ y): the frame seen through homography `hom`."""
    shift = np.array([[1, 0, margin], [0, 1, margin], [0, 0, 1]], np.float64)
    m = shift @ np.linalg.inv(hom)
    return cv2.warpPerspective(
        canvas, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
    )


def fence_alpha(
    h: int, w: int, offset: tuple[float, float], spacing: float = 14.0, width: float = 2.0
) -> np.ndarray:
    """Anti-aliased diagonal chain-link mesh, shifted by `offset` pixels."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = x + offset[0], y + offset[1]
    alpha = np.zeros((h, w), np.float32)
    for u in (x + y, x - y):
        d = np.abs(((u / np.sqrt(2)) % spacing) - spacing / 2)
        alpha = np.maximum(alpha, np.clip(width / 2 - d + 0.5, 0, 1))
    return alpha


def grid_alpha(
    h: int,
    w: int,
    offset: tuple[float, float],
    pitch: float,
    thickness: float,
    angle: float = 0.0,
    pattern: str = "square",
) -> np.ndarray:
    """Anti-aliased wire grid, the whole grid turned by `angle` degrees and shifted by `offset` pixels:
    "square" (two wire families 90° apart), "diamond" (60° apart), "chain" (a chain-link mesh: two
    families 90° apart whose wires zig-zag, as woven links do) or "wire" (one family of parallel wires)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = x + offset[0], y + offset[1]
    between = {"square": 90.0, "diamond": 60.0, "chain": 90.0, "wire": None}[pattern]
    alpha = np.zeros((h, w), np.float32)
    for a in (angle,) if between is None else (angle, angle + between):
        t = np.deg2rad(a)
        u = x * np.cos(t) + y * np.sin(t)  # distance along the wires' normal
        if pattern == "chain":  # zig-zag along the wire with the pitch's period
            v = -x * np.sin(t) + y * np.cos(t)
            u = u + 0.18 * pitch * (2 * np.abs((v / pitch) % 1 - 0.5) - 0.5)
        d = np.abs((u % pitch) - pitch / 2)
        alpha = np.maximum(alpha, np.clip(thickness / 2 - d + 0.5, 0, 1))
    return alpha


def bricks(h: int, w: int, course: float = 14.0, mortar: float = 2.0, seed: int = 0) -> np.ndarray:
    """H×W×1 gain of a running-bond brick wall: light mortar lines, each brick its own shade."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    row = np.floor(y / course)
    length = 2.2 * course
    xs = x + (row % 2) * length / 2
    col = np.floor(xs / length)
    shade = rng.uniform(0.55, 1.0, (int(row.max()) + 2, int(col.max()) + 2)).astype(np.float32)
    gain = shade[row.astype(int), col.astype(int)]
    joint = (np.minimum(y % course, course - y % course) < mortar / 2) | (
        np.minimum(xs % length, length - xs % length) < mortar / 2
    )
    return np.where(joint, 1.1, gain)[..., None].astype(np.float32)


def text_overlay(img: np.ndarray, seed: int = 0, size: float = 0.6) -> np.ndarray:
    """`img` with lines of dark random text printed over it (a poster, a sign: fine, dense edges)."""
    rng = np.random.default_rng(seed)
    ink = np.zeros(img.shape[:2], np.uint8)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789"
    step = int(30 * size) + 4
    for y in range(step, ink.shape[0], step):
        line = "".join(rng.choice(list(letters), 60))
        cv2.putText(
            ink,
            line,
            (int(rng.integers(-20, 0)), y),
            cv2.FONT_HERSHEY_SIMPLEX,
            size,
            255,
            max(1, int(2 * size)),
            cv2.LINE_AA,
        )
    a = (ink.astype(np.float32) / 255)[..., None]
    return (img * (1 - a) + 0.08 * a).astype(np.float32)


def stripes(h: int, w: int, period: float, angle: float, contrast: float = 0.8) -> np.ndarray:
    """H×W×1 periodic gain in [1 − contrast, 1]: a background's own regular texture (zebra, blinds)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    t = np.deg2rad(angle)
    wave = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * (x * np.cos(t) + y * np.sin(t)) / period))
    return (1 - contrast + contrast * cv2.GaussianBlur(wave, (0, 0), 0.7))[..., None].astype(np.float32)


def grid_burst(
    bg_canvas: np.ndarray,
    margin: int,
    *,
    pitch: float,
    thickness: float,
    angle: float = 0.0,
    pattern: str = "square",
    bg_motion: float = 8.0,
    fence_motion: float = 24.0,
    rotation: float = 0.0,
    n: int = 5,
    seed: int = 0,
    noise: float = 2 / 255,
    color=(0.6, 0.6, 0.62),
) -> Burst:
    """A wire grid in front of `bg_canvas` (seen inside `margin`): the outermost frames' background is
    translated by `bg_motion` px (plus a 1 px homography jitter) and the grid by `fence_motion` px, each
    along its own random direction, and turned by up to `rotation` degrees about the centre — the
    held-out-style bursts of the harder bench."""
    rng = np.random.default_rng(seed)
    h, w = bg_canvas.shape[0] - 2 * margin, bg_canvas.shape[1] - 2 * margin
    ref, half = n // 2, max(1, n // 2)
    bg_dir, fence_dir = (np.array([np.cos(a), np.sin(a)]) for a in rng.uniform(0, 2 * np.pi, 2))
    homs, ob_homs, frames = [], [], []
    ref_alpha = None
    for k in range(n):
        step = (k - ref) / half
        hom = np.eye(3)
        if k != ref:
            shift = np.eye(3)
            shift[:2, 2] = bg_motion * step * bg_dir
            hom = shift @ random_homography(rng, w, h, 1.0)
            if rotation:
                turn = cv2.getRotationMatrix2D((w / 2, h / 2), rotation * step, 1.0)
                hom = np.vstack([turn, [0, 0, 1]]) @ hom
        homs.append(hom)
        bg = view(bg_canvas, hom, margin, h, w)
        off = fence_motion * step * fence_dir + (0 if k == ref else rng.uniform(-1, 1, 2))
        a = grid_alpha(h, w, (float(off[0]), float(off[1])), pitch, thickness, angle, pattern)[..., None]
        frames.append(bg * (1 - a) + np.asarray(color, np.float32) * a)
        # frame pixel y shows the grid at y + off, so the reference's grid pixel x lands on x − off
        ob_homs.append(np.array([[1, 0, -off[0]], [0, 1, -off[1]], [0, 0, 1]], np.float64))
        if k == ref:
            ref_alpha = a[..., 0]
    background = view(bg_canvas, homs[ref], margin, h, w)
    return Burst(_noisy(frames, noise, rng), background, ref, homs, ob_homs, ref_alpha)


def _backgrounds(
    bg_canvas: np.ndarray, n: int, rng: np.random.Generator, shift: float
) -> tuple[list[np.ndarray], list[np.ndarray], int, int]:
    """n views of the canvas (the middle one unmoved) inside a margin of 1/12 of its height."""
    margin = (bg_canvas.shape[0] - bg_canvas.shape[0] * 5 // 6) // 2
    h, w = bg_canvas.shape[0] - 2 * margin, bg_canvas.shape[1] - 2 * margin
    ref = n // 2
    homs = [np.eye(3) if k == ref else random_homography(rng, w, h, shift) for k in range(n)]
    return [view(bg_canvas, hm, margin, h, w) for hm in homs], homs, ref, margin


def fence_burst(
    bg_canvas: np.ndarray,
    n: int = 5,
    seed: int = 0,
    noise: float = 0.01,
    shift: float = 3.0,
    fence_motion: float = 9.0,
    color=(0.85, 0.85, 0.8),
    spacing: float = 14.0,
    width: float = 2.0,
) -> Burst:
    """Opaque mesh in front of the background; it moves `fence_motion` px per frame (parallax)."""
    rng = np.random.default_rng(seed)
    bgs, homs, ref, _ = _backgrounds(bg_canvas, n, rng, shift)
    h, w = bgs[0].shape[:2]
    frames = []
    for k, bg in enumerate(bgs):
        off = (
            fence_motion * (k - ref) + rng.uniform(-1, 1),
            0.4 * fence_motion * (k - ref) + rng.uniform(-1, 1),
        )
        a = fence_alpha(h, w, off, spacing, width)[..., None]
        shade = (
            np.asarray(color, np.float32)
            * (0.9 + 0.1 * np.linspace(0, 1, w, dtype=np.float32))[None, :, None]
        )
        frames.append(bg * (1 - a) + shade * a)
    return Burst(_noisy(frames, noise, rng), bgs[ref], ref, homs)


def reflection_burst(
    bg_canvas: np.ndarray,
    refl_canvas: np.ndarray,
    n: int = 5,
    seed: int = 0,
    noise: float = 0.01,
    shift: float = 3.0,
    refl_shift: float = 10.0,
    strength: float = 0.35,
) -> Burst:
    """A second picture added as light with its own, larger motion (a reflection in glass)."""
    rng = np.random.default_rng(seed)
    bgs, homs, ref, margin = _backgrounds(bg_canvas * (1 - strength * 0.5), n, rng, shift)
    h, w = bgs[0].shape[:2]
    frames = []
    for k, bg in enumerate(bgs):
        rh = np.eye(3) if k == ref else random_homography(rng, w, h, refl_shift)
        frames.append(np.clip(bg + strength * view(refl_canvas, rh, margin, h, w), 0, 1))
    return Burst(_noisy(frames, noise, rng), bgs[ref], ref, homs)


def _noisy(frames: list[np.ndarray], noise: float, rng: np.random.Generator) -> np.ndarray:
    stack = np.stack(frames).astype(np.float32)
    stack += rng.normal(0, noise, stack.shape).astype(np.float32)
    return np.clip(stack, 0, 1)


def cover(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """`img` resized to cover w×h (area resampling) and cropped about its centre to exactly that."""
    s = max(w / img.shape[1], h / img.shape[0])
    img = cv2.resize(
        img, (max(w, round(img.shape[1] * s)), max(h, round(img.shape[0] * s))), interpolation=cv2.INTER_AREA
    )
    y0, x0 = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return np.ascontiguousarray(img[y0 : y0 + h, x0 : x0 + w])
