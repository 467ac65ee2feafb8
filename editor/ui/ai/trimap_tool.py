"""The Matte tool's trimap: painted codes per document, a canvas brush for them, and a tinted overlay.

Why codes and not the task's {0, 0.5, 1} floats: a painted trimap has a fourth state, "not painted",
which the overlay leaves untinted and which counts as unknown for the engines (scribble matting, as
in Levin et al.; in plate mode it means "no correction"). uint8 codes also compress to a few KB, so
a cut-out layer's recipe can carry its trimap and re-run it after the project is reopened.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from psygnal import Signal
from PySide6.QtCore import QPointF, Qt

from editor.core.brush import dab
from editor.core.cow import lend, writable
from editor.core.errors import LucidError
from editor.core.geometry import Rect
from editor.core.snapshot import MaskRender
from editor.ui.canvas.tiles import TiledImageItem
from editor.ui.tools import Tool

if TYPE_CHECKING:
    from editor.ui.canvas.view import CanvasView

NONE, BACKGROUND, UNKNOWN, FOREGROUND = 0, 1, 2, 3
CODE_NAMES = {"foreground": FOREGROUND, "background": BACKGROUND, "unknown": UNKNOWN}
_TASK_VALUE = np.array([0.5, 0.0, 0.5, 1.0], np.float32)  # code → task trimap (unpainted = unknown)
_TINTS = {  # code → (RGB, opacity) of its overlay tint
    FOREGROUND: ((40, 220, 90), 0.45),
    BACKGROUND: ((220, 40, 60), 0.45),
    UNKNOWN: ((250, 210, 40), 0.40),
}
UNDO_DEPTH = 8


def _overlay_lut() -> np.ndarray:
    """4×4 table: code → premultiplied RGBA8 tint."""
    lut = np.zeros((4, 4), np.uint8)
    for code, (rgb, a) in _TINTS.items():
        lut[code, :3] = [round(c * a) for c in rgb]
        lut[code, 3] = round(255 * a)
    return lut


_LUT = _overlay_lut()


class Trimap:
    """A document-sized painted trimap (uint8 codes) with a small stroke-level undo.

    It is tool state, not document content, so it lives beside the document rather than in its history;
    the cut-out's recipe stores it (`encode`) so re-run does not depend on it staying around.
    """

    changed = Signal(object)  # Rect (canvas) that changed, or None for everything

    def __init__(self, width: int, height: int) -> None:
        self.codes = np.zeros((height, width), np.uint8)
        self._undo: list[np.ndarray] = []

    @property
    def shape(self) -> tuple[int, int]:
        return self.codes.shape  # type: ignore[return-value]

    @property
    def painted(self) -> bool:
        return bool(self.codes.any())

    def has(self, code: int) -> bool:
        return bool((self.codes == code).any())

    # -- edits ---------------------------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Remember the current state (call before a stroke or a replacement)."""
        self._undo.append(self.codes.copy())
        del self._undo[:-UNDO_DEPTH]

    def undo(self) -> bool:
        if not self._undo:
            return False
        self.codes = self._undo.pop()
        self.changed.emit(None)
        return True

    def stamp(self, x: float, y: float, diameter: float, code: int) -> Rect:
        """Paint one round dab (hard edge: where the brush covers half a pixel or more)."""
        rect, cov = dab(x, y, diameter, 1.0)
        h, w = self.codes.shape
        clip = rect.intersect(Rect(0, 0, w, h))
        if clip.empty:
            return clip
        hit = cov[clip.translated(-rect.x, -rect.y).slices()] >= 0.5
        self.codes = writable(self.codes)  # a running cut-out may still read these codes
        self.codes[clip.slices()][hit] = code
        self.changed.emit(clip)
        return clip

    def replace(self, codes: np.ndarray) -> None:
        if codes.shape != self.codes.shape:
            raise LucidError("The trimap does not match the image size.")
        self.checkpoint()
        self.codes = np.ascontiguousarray(codes, np.uint8)
        self.changed.emit(None)

    def clear(self) -> None:
        self.replace(np.zeros_like(self.codes))

    def set_from_task_trimap(self, trimap: np.ndarray) -> None:
        """Take a {0, 0.5, 1} trimap (from a mask band or the subject model) as fully painted codes."""
        self.replace(codes_from_task_trimap(trimap))

    # -- outputs -------------------------------------------------------------------------------------
    def task_trimap(self) -> np.ndarray:
        """float32 {0, 0.5, 1} for the matting task; unpainted pixels are unknown."""
        return _TASK_VALUE[self.codes]

    def task_trimap_later(self) -> MaskRender:
        """`task_trimap` as a lazy source: the codes are lent (copy-on-write), the worker maps them."""
        h, w = self.codes.shape
        return MaskRender(lend(self.codes), w, h, values=_TASK_VALUE)

    def packed_later(self) -> Callable[[], dict]:
        """`encode_codes` of the codes as they are now, to run off the GUI thread (`run_packing`)."""
        codes = lend(self.codes)
        return lambda: encode_codes(codes)

    def overlay_tile(self, rect: Rect) -> np.ndarray:
        return _LUT[self.codes[rect.slices()]]


def codes_from_task_trimap(trimap: np.ndarray) -> np.ndarray:
    t = np.asarray(trimap, np.float32)
    codes = np.full(t.shape, UNKNOWN, np.uint8)
    codes[t < 0.25] = BACKGROUND
    codes[t > 0.75] = FOREGROUND
    return codes


def encode_codes(codes: np.ndarray) -> dict:
    """JSON-safe, compact form of a trimap for a recipe (zlib of the codes, base64)."""
    packed = base64.b64encode(zlib.compress(np.ascontiguousarray(codes, np.uint8).tobytes(), 9)).decode()
    return {"shape": list(codes.shape), "zlib_b64": packed}


def decode_codes(data: dict) -> np.ndarray:
    try:
        h, w = (int(v) for v in data["shape"])
        raw = zlib.decompress(base64.b64decode(data["zlib_b64"]))
        return np.frombuffer(raw, np.uint8).reshape(h, w).copy()
    except (KeyError, TypeError, ValueError, zlib.error) as exc:
        raise LucidError("The stored trimap of this layer is damaged; paint a new one.") from exc


class TrimapBrushTool(Tool):
    """Paints one trimap code with the shared brush size; a stroke is one trimap undo step."""

    def __init__(self, view: CanvasView, trimap: Trimap, code: int) -> None:
        super().__init__(view)
        self.trimap = trimap
        self.code = code
        self._last: QPointF | None = None

    def _size(self, pressure: float) -> float:
        st = self.view.tool_state
        return max(1.0, st.brush_size * (pressure if st.use_pressure else 1.0))

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        self.trimap.checkpoint()
        self._last = pos
        self.trimap.stamp(pos.x(), pos.y(), self._size(pressure), self.code)

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier, pressure: float) -> None:
        if self._last is None:
            return
        size = self._size(pressure)
        step = max(1.0, size * 0.25)
        dx, dy = pos.x() - self._last.x(), pos.y() - self._last.y()
        n = max(1, int(np.hypot(dx, dy) / step))
        for i in range(1, n + 1):
            self.trimap.stamp(self._last.x() + dx * i / n, self._last.y() + dy * i / n, size, self.code)
        self._last = pos

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        self._last = None

    def cancel(self) -> None:
        self._last = None


class TrimapOverlay(TiledImageItem):
    """The trimap drawn over the photo as translucent tints; follows the trimap's `changed` events."""

    def __init__(self, trimap: Trimap) -> None:
        h, w = trimap.shape
        self.trimap = trimap
        super().__init__(w, h, self._overlay_tile, checkerboard=False)
        self.setZValue(2)  # above the selection overlay
        trimap.changed.connect(self.invalidate)

    def _overlay_tile(self, tx: int, ty: int) -> np.ndarray:
        from editor.core.geometry import tile_rect

        h, w = self.trimap.shape
        return self.trimap.overlay_tile(tile_rect(tx, ty, w, h))

    def detach(self) -> None:
        self.trimap.changed.disconnect(self.invalidate)
