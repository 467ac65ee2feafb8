"""Recording in-place edits of a pixel, mask or selection array as 256×256 tile deltas.

Callers write straight into `edit.array` after `edit.touch(rect)`; the first touch of a tile keeps a copy
of it, and closing the edit stores (before, after) only for tiles that really changed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from editor.core.commands import TileDelta
from editor.core.geometry import TILE, Rect

Index = tuple[slice, slice]


class PixelEdit:
    """An open edit of one array. `array` is the live array; call `touch(rect)` before writing to `rect`."""

    def __init__(self, get_array: Callable[[], np.ndarray], notify: Callable[[Rect], None]) -> None:
        self._get_array = get_array
        self._notify = notify
        self.array: np.ndarray = get_array()
        self.bounds = Rect(0, 0, self.array.shape[1], self.array.shape[0])
        self._before: dict[tuple[int, int], tuple[Index, np.ndarray]] = {}
        self._touched = Rect(0, 0, 0, 0)
        self._notified = Rect(0, 0, 0, 0)

    @property
    def touched(self) -> Rect:
        """Union of the rectangles touched so far (clipped to the array)."""
        return self._touched

    def touch(self, rect: Rect) -> Rect:
        """Announce that `rect` (array coordinates) is about to change; returns it clipped to the array."""
        rect = rect.intersect(self.bounds)
        if rect.empty:
            return rect
        self._touched = self._touched.union(rect)
        for key in rect.tiles():
            if key not in self._before:
                index = _tile_index(key, self.bounds)
                self._before[key] = (index, self.array[index].copy())
        return rect

    def original(self, tx: int, ty: int) -> np.ndarray:
        """The tile's content before this edit (touches it first); do not modify."""
        if (tx, ty) not in self._before:
            self.touch(Rect(tx * TILE, ty * TILE, TILE, TILE))
        return self._before[(tx, ty)][1]

    def notify(self, rect: Rect) -> None:
        """Emit change events for `rect` now (live feedback while the edit is open, e.g. per brush dab).
        Once used, closing the edit only emits for changes outside what was notified."""
        rect = rect.intersect(self.bounds)
        if not rect.empty:
            self._notified = self._notified.union(rect)
            self._notify(rect)

    def restore(self) -> None:
        """Put every touched tile back as it was (used when the edit fails)."""
        for index, before in self._before.values():
            self.array[index] = before
        if not self._notified.empty:
            self._notify(self._notified)

    def finish(self) -> TileDelta | None:
        """Build the delta of tiles that changed, emit the final events, and return it (None: no change)."""
        tiles = {}
        changed = Rect(0, 0, 0, 0)
        for key, (index, before) in self._before.items():
            after = self.array[index]
            box = _changed_box(before, after)
            if box is not None:
                tiles[key] = (index, before, after.copy())
                changed = changed.union(box.translated(index[1].start, index[0].start))
        self._before.clear()
        if not tiles:
            return None
        if self._notified.empty or changed.union(self._notified) != self._notified:
            self._notify(changed)
        return TileDelta(self._get_array, tiles, changed, self._notify)


def _tile_index(key: tuple[int, int], bounds: Rect) -> Index:
    rect = Rect(key[0] * TILE, key[1] * TILE, TILE, TILE).intersect(bounds)
    return rect.slices()


def _changed_box(before: np.ndarray, after: np.ndarray) -> Rect | None:
    """Bounding box (tile coordinates) of the pixels that differ, or None if none do."""
    diff = before != after
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff.any(axis=0))
    return Rect.from_bounds(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
