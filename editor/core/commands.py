"""The undoable changes `Document` records. Each command is applied once by `Document`, then moved back
and forth by the history; every direction emits the same events a live change would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from editor.core.geometry import Rect
from editor.core.layers import GroupLayer, Layer, PixelLayer

if TYPE_CHECKING:
    from editor.core.document import Document

# Properties whose change alters the composite (and so must emit `dirty`).
COMPOSITE_PROPERTIES = frozenset({"visible", "opacity", "blend_mode", "offset"})
LAYER_PROPERTIES = frozenset({"name", "visible", "opacity", "blend_mode", "locked", "offset"})


def layer_nbytes(layer: Layer) -> int:
    """Memory a layer holds in pixels and masks (recursively for groups)."""
    if isinstance(layer, GroupLayer):
        return sum(layer_nbytes(c) for c in layer.children)
    if isinstance(layer, PixelLayer):
        return layer.pixels.nbytes + (layer.mask.nbytes if layer.mask is not None else 0)
    mask = getattr(layer, "mask", None)  # adjustment layers hold only a mask
    return mask.nbytes if mask is not None else 0


def emit_layer_dirty(doc: Document, layer: Layer, bounds: Rect | None = None) -> None:
    rect = (layer.bounds if bounds is None else bounds).intersect(doc.rect)
    if not rect.empty:
        doc.events.dirty.emit(rect)


@dataclass(eq=False)
class SetProperty:
    doc: Document
    layer: Layer
    name: str
    old: Any
    new: Any
    nbytes: int = 0

    def _apply(self, value: Any) -> None:
        before = self.layer.bounds
        setattr(self.layer, self.name, value)
        if self.name in COMPOSITE_PROPERTIES:
            emit_layer_dirty(self.doc, self.layer, before.union(self.layer.bounds))

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


@dataclass(eq=False)
class SetRecipe:
    layer: Layer
    old: Any
    new: Any
    nbytes: int = 0

    def _apply(self, value: Any) -> None:
        self.layer.recipe = value  # type: ignore[attr-defined]
        self.layer.events.recipe.emit(value)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


@dataclass(eq=False)
class CreateMask:
    """Give a mask-less pixel layer an all-ones mask (the composite does not change)."""

    layer: PixelLayer
    nbytes: int = 0

    def redo(self) -> None:
        self.layer.mask = np.ones((self.layer.height, self.layer.width), np.float32)
        self.layer.events.mask.emit(Rect(0, 0, self.layer.width, self.layer.height))

    def undo(self) -> None:
        self.layer.mask = None
        self.layer.events.mask.emit(Rect(0, 0, self.layer.width, self.layer.height))


@dataclass(eq=False)
class InsertLayer:
    """Put `layer` at `index` in `parent.children`; undo takes it out again."""

    doc: Document
    layer: Layer
    parent: GroupLayer
    index: int

    @property
    def nbytes(self) -> int:
        return 0

    def redo(self) -> None:
        self.parent.children.insert(self.index, self.layer)
        self.doc.events.layers_changed.emit()
        emit_layer_dirty(self.doc, self.layer)

    def undo(self) -> None:
        self.parent.children.remove(self.layer)
        self.doc.forget_active(self.layer)
        self.doc.events.layers_changed.emit()
        emit_layer_dirty(self.doc, self.layer)


@dataclass(eq=False)
class RemoveLayer:
    """The inverse of InsertLayer; the history keeps the removed layer's pixels alive."""

    insert: InsertLayer

    @property
    def nbytes(self) -> int:
        return layer_nbytes(self.insert.layer)

    def redo(self) -> None:
        self.insert.undo()

    def undo(self) -> None:
        self.insert.redo()


@dataclass(eq=False)
class MoveLayer:
    doc: Document
    layer: Layer
    old_parent: GroupLayer
    old_index: int
    new_parent: GroupLayer
    new_index: int
    nbytes: int = 0

    def _move(self, src: GroupLayer, dst: GroupLayer, index: int) -> None:
        src.children.remove(self.layer)
        dst.children.insert(index, self.layer)
        self.doc.events.layers_changed.emit()
        emit_layer_dirty(self.doc, self.layer)

    def redo(self) -> None:
        self._move(self.old_parent, self.new_parent, self.new_index)

    def undo(self) -> None:
        self._move(self.new_parent, self.old_parent, self.old_index)


@dataclass(eq=False)
class TileDelta:
    """Changed 256×256 tiles of one array (pixels, mask or selection): before and after copies only."""

    get_array: Callable[[], np.ndarray]
    tiles: dict[tuple[int, int], tuple[tuple[slice, slice], np.ndarray, np.ndarray]]
    rect: Rect  # bounding box of the change, in the array's coordinates
    notify: Callable[[Rect], None]

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes + a.nbytes for _, b, a in self.tiles.values())

    def _write(self, which: int) -> None:
        arr = self.get_array()
        for index, before, after in self.tiles.values():
            arr[index] = (before, after)[which]
        self.notify(self.rect)

    def redo(self) -> None:
        self._write(1)

    def undo(self) -> None:
        self._write(0)
