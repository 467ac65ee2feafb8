"""Integer rectangles in image pixels; the unit every dirty region and tile is expressed in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

TILE = 256


@dataclass(frozen=True, slots=True)
class Rect:
    """Half-open pixel rectangle [x, x+w) × [y, y+h)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    @classmethod
    def from_bounds(cls, x0: int, y0: int, x1: int, y1: int) -> Rect:
        return cls(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def intersect(self, other: Rect) -> Rect:
        return Rect.from_bounds(
            max(self.x, other.x), max(self.y, other.y),
            min(self.right, other.right), min(self.bottom, other.bottom),
        )

    def union(self, other: Rect) -> Rect:
        if self.empty:
            return other
        if other.empty:
            return self
        return Rect.from_bounds(
            min(self.x, other.x), min(self.y, other.y),
            max(self.right, other.right), max(self.bottom, other.bottom),
        )

    def translated(self, dx: int, dy: int) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def slices(self) -> tuple[slice, slice]:
        """Numpy index (rows, cols) for this rectangle."""
        return slice(self.y, self.bottom), slice(self.x, self.right)

    def tiles(self, tile: int = TILE) -> Iterator[tuple[int, int]]:
        """Tile coordinates (tx, ty) of every tile this rectangle touches."""
        if self.empty:
            return
        for ty in range(self.y // tile, (self.bottom - 1) // tile + 1):
            for tx in range(self.x // tile, (self.right - 1) // tile + 1):
                yield tx, ty


def tile_rect(tx: int, ty: int, width: int, height: int, tile: int = TILE) -> Rect:
    """The rectangle of tile (tx, ty), clipped to a width×height canvas."""
    return Rect(tx * tile, ty * tile, tile, tile).intersect(Rect(0, 0, width, height))
