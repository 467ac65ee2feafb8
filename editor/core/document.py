"""The document: canvas size, bit depth, the layer tree, the selection mask and file metadata.

Every change a user can undo goes through a method here: it builds a command (`commands.py`), applies
it and records it in `self.history`. Layer setters on their own change a value without history and
without `dirty`; views may read layers freely but should change them through the document.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from psygnal import Signal, SignalGroup

from editor.core import commands as cmds
from editor.core import selection as sel
from editor.core.adjust.layer import AdjustmentLayer
from editor.core.blend import BlendMode
from editor.core.cow import writable
from editor.core.errors import LucidError
from editor.core.geometry import TILE, Rect
from editor.core.history import History
from editor.core.layers import GroupLayer, Layer, PixelLayer, ResultLayer
from editor.core.pixel_edit import PixelEdit
from editor.core.recipe import Recipe

Target = Literal["pixels", "mask", "selection"]


class DocumentEvents(SignalGroup):
    dirty = Signal(object)  # Rect in canvas pixels that must be recomposited and repainted
    layers_changed = Signal()  # structure changed: add, remove, reorder
    active_layer = Signal(object)  # Layer | None
    selection = Signal(object)  # Rect of the selection mask that changed
    modified = Signal(bool)  # unsaved-changes flag
    path = Signal(object)  # Path | None
    canvas = Signal(object)  # (width, height) after a crop, rotation or resize (editor.core.transform)


@dataclass
class Metadata:
    """What the source file carried that export must keep."""

    icc_profile: bytes | None = None
    exif: bytes | None = None
    source_format: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Document:
    """One open image. `depth` is 8 or 16: the storage depth of its pixel layers."""

    def __init__(self, width: int, height: int, *, depth: int = 8, metadata: Metadata | None = None) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"document size must be positive, got {width}×{height}")
        if depth not in (8, 16):
            raise ValueError(f"depth must be 8 or 16, got {depth}")
        self.events = DocumentEvents()
        self.width = int(width)
        self.height = int(height)
        self.depth = depth
        self.metadata = metadata or Metadata()
        self.root = GroupLayer("root")
        self.selection = np.zeros((height, width), np.float32)
        self._active: Layer | None = None
        self._path: Path | None = None
        self._modified = False
        self.history = History(self)

    @property
    def dtype(self) -> type[np.unsignedinteger]:
        return np.uint16 if self.depth == 16 else np.uint8

    @property
    def rect(self) -> Rect:
        return Rect(0, 0, self.width, self.height)

    @property
    def layers(self) -> list[Layer]:
        """Top-level layers, bottom first."""
        return self.root.children

    def all_layers(self) -> list[Layer]:
        return list(self.root.walk())

    def find(self, layer_id: str) -> Layer | None:
        return next((layer for layer in self.root.walk() if layer.id == layer_id), None)

    def parent_of(self, layer: Layer) -> GroupLayer:
        """The group holding `layer` (the root for top-level layers)."""
        if layer in self.root.children:
            return self.root
        for group in self.root.walk():
            if isinstance(group, GroupLayer) and layer in group.children:
                return group
        raise KeyError(f"{layer!r} is not in this document")

    def contains(self, layer: Layer) -> bool:
        return any(item is layer for item in self.root.walk())

    @property
    def active_layer(self) -> Layer | None:
        return self._active

    @active_layer.setter
    def active_layer(self, layer: Layer | None) -> None:
        if layer is self._active:
            return
        self._active = layer
        self.events.active_layer.emit(layer)

    def forget_active(self, removed: Layer) -> None:
        """Called when `removed` leaves the tree: the active layer must not point outside the document."""
        active = self._active
        if active is None:
            return
        inside = isinstance(removed, GroupLayer) and any(c is active for c in removed.walk())
        if active is removed or inside:
            self.active_layer = None

    @property
    def path(self) -> Path | None:
        return self._path

    @path.setter
    def path(self, value: Path | None) -> None:
        self._path = Path(value) if value is not None else None
        self.events.path.emit(self._path)

    @property
    def modified(self) -> bool:
        return self._modified

    @modified.setter
    def modified(self, value: bool) -> None:
        if value != self._modified:
            self._modified = value
            self.events.modified.emit(value)

    # --- recording -----------------------------------------------------------------------------------------

    def _do(self, cmd: Any, label: str) -> None:
        cmd.redo()
        self.history.record(cmd, label)

    @contextmanager
    def group(self, label: str) -> Iterator[None]:
        """Record every change inside the block as one undo step; on an exception, revert them all."""
        self.history.begin(label)
        try:
            yield
        except BaseException:
            self.history.end(commit=False)
            raise
        self.history.end(commit=True)

    # --- layer structure -----------------------------------------------------------------------------------

    def add_layer(self, layer: Layer, index: int | None = None, parent: GroupLayer | None = None) -> None:
        """Insert `layer` into `parent` (default: top level) at `index` (default: on top)."""
        parent = self._group(parent)
        if self.contains(layer):
            raise LucidError(f"Layer “{layer.name}” is already in the document.")
        self._check_depth(layer)
        index = len(parent.children) if index is None else int(index)
        if not 0 <= index <= len(parent.children):
            raise IndexError(f"layer index {index} is outside 0…{len(parent.children)}")
        self._do(cmds.InsertLayer(self, layer, parent, index), f"Add layer “{layer.name}”")

    def remove_layer(self, layer: Layer) -> None:
        parent = self._parent(layer)
        insert = cmds.InsertLayer(self, layer, parent, parent.children.index(layer))
        self._do(cmds.RemoveLayer(insert), f"Delete layer “{layer.name}”")

    def move_layer(self, layer: Layer, index: int, parent: GroupLayer | None = None) -> None:
        """Move `layer` to `index` of `parent` (default: its current group), counted after removal."""
        old_parent = self._parent(layer)
        new_parent = old_parent if parent is None else self._group(parent)
        into_self = isinstance(layer, GroupLayer) and any(g is new_parent for g in layer.walk())
        if new_parent is layer or into_self:
            raise LucidError("A group cannot be moved into itself.")
        old_index = old_parent.children.index(layer)
        limit = len(new_parent.children) - (1 if new_parent is old_parent else 0)
        index = int(index)
        if not 0 <= index <= limit:
            raise IndexError(f"layer index {index} is outside 0…{limit}")
        if new_parent is old_parent and index == old_index:
            return
        move = cmds.MoveLayer(self, layer, old_parent, old_index, new_parent, index)
        self._do(move, f"Move layer “{layer.name}”")

    def duplicate_layer(self, layer: Layer) -> Layer:
        """A deep copy with new ids, placed just above `layer`."""
        parent = self._parent(layer)
        dup = _clone(layer)
        dup.name = f"{layer.name} copy"
        self._do(cmds.InsertLayer(self, dup, parent, parent.children.index(layer) + 1),
                 f"Duplicate layer “{layer.name}”")
        return dup

    def merge_down(self, layer: Layer) -> PixelLayer:
        """Merge `layer` into the pixel layer just below it; returns the merged layer that replaces both.

        The lower layer is drawn with its mask at full opacity; `layer` with its own mode, opacity and mask.
        The result keeps the lower layer's name, mode, opacity and visibility.
        """
        from editor.core.compositor import planar_to_straight, render
        from editor.core.pixels import from_float

        parent = self._parent(layer)
        i = parent.children.index(layer)
        if i == 0:
            raise LucidError(f"There is no layer below “{layer.name}” to merge into.")
        lower = parent.children[i - 1]
        if not isinstance(lower, PixelLayer):
            raise LucidError(f"“{lower.name}” is not a pixel layer; only a pixel layer can be merged into.")
        if not (layer.visible and lower.visible):
            raise LucidError("Hidden layers cannot be merged; show them first.")
        base = PixelLayer(lower.name, lower.pixels, mask=lower.mask, offset=lower.offset)
        area = lower.bounds.union(layer.bounds)
        if area.empty:
            area = lower.bounds
        pixels = from_float(planar_to_straight(render([base, layer], area)), self.dtype)
        merged = PixelLayer(lower.name, pixels, offset=(area.x, area.y), visible=lower.visible,
                            opacity=lower.opacity, blend_mode=lower.blend_mode)
        with self.group(f"Merge down “{layer.name}”"):
            self.remove_layer(layer)
            index = parent.children.index(lower)
            self.remove_layer(lower)
            self._do(cmds.InsertLayer(self, merged, parent, index), "")
        return merged

    def flatten(self) -> PixelLayer:
        """Replace every layer with one opaque-where-painted pixel layer holding the composite."""
        from editor.core.compositor import composite
        from editor.core.pixels import from_float

        flat = PixelLayer("Background", from_float(composite(self), self.dtype))
        with self.group("Flatten image"):
            for layer in reversed(list(self.layers)):
                self.remove_layer(layer)
            self._do(cmds.InsertLayer(self, flat, self.root, 0), "")
        return flat

    # --- properties ----------------------------------------------------------------------------------------

    def set_property(self, layer: Layer, name: str, value: Any) -> None:
        """Undoably set one of name, visible, opacity, blend_mode, locked, offset."""
        if name not in cmds.LAYER_PROPERTIES:
            raise ValueError(f"{name!r} is not a layer property (one of {sorted(cmds.LAYER_PROPERTIES)})")
        self._parent(layer)
        value = _normalise(name, value)
        old = getattr(layer, name)
        if old == value:
            return
        label = {"name": "Rename layer", "visible": "Show layer" if value else "Hide layer",
                 "opacity": "Layer opacity", "blend_mode": "Blend mode", "locked": "Lock layer" if value
                 else "Unlock layer", "offset": "Move layer"}[name]
        self._do(cmds.SetProperty(self, layer, name, old, value), label)

    def set_recipe(self, layer: Layer, recipe: Recipe | None) -> None:
        self._parent(layer)
        self._do(cmds.SetRecipe(layer, getattr(layer, "recipe", None), recipe), "Change recipe")

    # --- pixels, masks and the selection -------------------------------------------------------------------

    @contextmanager
    def pixel_edit(self, layer: Layer | None, target: Target, label: str) -> Iterator[PixelEdit]:
        """Edit a layer's pixels or mask, or the selection, in place as one undo step.

        Call `edit.touch(rect)` before writing into `edit.array[rect]` (array coordinates: layer
        coordinates for pixels/mask, canvas for the selection). If the block raises, the touched tiles are
        restored and nothing is recorded.
        """
        get_array, notify = self._edit_target(layer, target)
        with self.group(label):
            if target == "mask" and layer.mask is None:  # type: ignore[union-attr]
                self._do(cmds.CreateMask(layer), label)  # type: ignore[arg-type]
            edit = PixelEdit(get_array, notify)
            try:
                yield edit
            except BaseException:
                edit.restore()
                raise
            delta = edit.finish()
            if delta is not None:
                self.history.record(delta, label)

    def paste(self, layer: Layer | None, target: Target, rect: Rect, array: np.ndarray, label: str) -> None:
        """Write `array` into `rect` of the target (clipped to it) as one undo step.

        Pixels accept the layer's dtype or float in [0, 1]; masks and the selection take float [0, 1].
        """
        from editor.core.pixels import from_float

        array = np.asarray(array)
        if array.shape[:2] != (rect.h, rect.w):
            raise ValueError(f"array of shape {array.shape} does not fit a {rect.w}×{rect.h} rectangle")
        with self.pixel_edit(layer, target, label) as edit:
            clipped = edit.touch(rect)
            if clipped.empty:
                return
            part = array[clipped.translated(-rect.x, -rect.y).slices()]
            dest = edit.array
            if target == "pixels" and part.dtype != dest.dtype:
                if part.dtype.kind != "f":
                    raise LucidError(f"Cannot paste {part.dtype} pixels into a {dest.dtype} layer.")
                part = from_float(part, dest.dtype)
            dest[clipped.slices()] = part

    def _edit_target(self, layer: Layer | None, target: str):
        if target == "selection":
            def notify_selection(rect: Rect) -> None:
                self.events.selection.emit(rect)
            return self._own_selection, notify_selection
        if target not in ("pixels", "mask"):
            raise ValueError(f"target must be 'pixels', 'mask' or 'selection', not {target!r}")
        if not (isinstance(layer, PixelLayer) or (target == "mask" and isinstance(layer, AdjustmentLayer))):
            raise LucidError("Only pixel layers can be painted on." if layer is not None
                             else f"Editing the {target} needs a layer.")
        self._parent(layer)
        if layer.locked:
            raise LucidError(f"Layer “{layer.name}” is locked.")
        signal = layer.events.pixels if target == "pixels" else layer.events.mask

        def notify_layer(rect: Rect) -> None:
            signal.emit(rect)
            cmds.emit_layer_dirty(self, layer, rect.translated(*layer.offset))

        if target == "pixels":
            return layer.own_pixels, notify_layer
        return layer.own_mask, notify_layer

    def _own_selection(self) -> np.ndarray:
        """The selection, copied first if a snapshot shares it (copy-on-write)."""
        if not self.selection.flags.writeable:
            self.selection = writable(self.selection)
        return self.selection

    # --- selection helpers (each one undo step) ------------------------------------------------------------

    def select_rect(self, rect: Rect, mode: str = "replace") -> None:
        shape = np.zeros((self.height, self.width), np.float32)
        shape[rect.intersect(self.rect).slices()] = 1.0
        self._set_selection(shape, mode, "Select rectangle", None if mode == "replace" else rect)

    def select_polygon(self, points: Sequence[tuple[float, float]], mode: str = "replace") -> None:
        area = sel.polygon_bounds(points, self.rect)
        shape = np.zeros((self.height, self.width), np.float32)
        if not area.empty:
            shape[area.slices()] = sel.polygon_mask((area.h, area.w), points, (area.x, area.y))
        self._set_selection(shape, mode, "Select polygon", None if mode == "replace" else area)

    def select_mask(self, shape: np.ndarray, mode: str = "replace", label: str = "Select subject") -> None:
        """Combine a whole-canvas mask (float32 H×W in [0, 1], e.g. a model's subject mask) with the
        selection: replace, add, subtract or intersect, as one undo step."""
        if shape.shape != self.selection.shape:
            raise LucidError("The mask is not the size of the image.")
        self._set_selection(np.clip(shape, 0.0, 1.0).astype(np.float32), mode, label, None)

    def select_all(self) -> None:
        self._replace_selection(np.ones_like(self.selection), "Select all")

    def clear_selection(self, within: Rect | None = None) -> None:
        """Deselect, writing (and recording for undo) only the tiles that held a selection: on a 24 MP
        canvas a whole-canvas replace allocated, copied and compared 96 MB several times over.

        `within`: the caller knows nothing is selected outside this box (a fill planned its crops
        around the whole selection), so only it is scanned."""
        area = self.rect if within is None else within.intersect(self.rect)
        with self.pixel_edit(None, "selection", "Select none") as edit:
            for rect in _tiles_with_content(self.selection, area):
                edit.touch(rect)
                edit.array[rect.slices()] = 0.0

    def invert_selection(self) -> None:
        self._replace_selection(1.0 - self.selection, "Invert selection")

    def grow_selection(self, px: float) -> None:
        """Grow the selection by `px` pixels (negative shrinks)."""
        label = "Grow selection" if px >= 0 else "Shrink selection"
        self._replace_selection(sel.grow(self.selection, px), label)

    def feather_selection(self, radius: float) -> None:
        self._replace_selection(sel.feather(self.selection, radius), "Feather selection")

    def _set_selection(self, shape: np.ndarray, mode: str, label: str, area: Rect | None) -> None:
        sel.SelectMode(mode)  # validate before touching anything
        if area is None:
            self._replace_selection(sel.combine(self.selection, shape, mode), label)
            return
        with self.pixel_edit(None, "selection", label) as edit:
            area = edit.touch(area)
            if not area.empty:
                idx = area.slices()
                edit.array[idx] = sel.combine(edit.array[idx], shape[idx], mode)

    def _replace_selection(self, new: np.ndarray, label: str) -> None:
        with self.pixel_edit(None, "selection", label) as edit:
            edit.touch(self.rect)
            np.copyto(edit.array, new.astype(np.float32, copy=False))

    # --- helpers -------------------------------------------------------------------------------------------

    def _parent(self, layer: Layer) -> GroupLayer:
        try:
            return self.parent_of(layer)
        except KeyError:
            raise LucidError(f"Layer “{layer.name}” is not in this document.") from None

    def _group(self, parent: GroupLayer | None) -> GroupLayer:
        if parent is None or parent is self.root:
            return self.root
        if not isinstance(parent, GroupLayer) or not self.contains(parent):
            raise LucidError("Layers can only be placed in a group of this document.")
        return parent

    def _check_depth(self, layer: Layer) -> None:
        items = [layer, *layer.walk()] if isinstance(layer, GroupLayer) else [layer]
        for item in items:
            if isinstance(item, PixelLayer) and item.pixels.dtype != self.dtype:
                raise LucidError(f"Layer “{item.name}” is {item.pixels.dtype}, but the document is "
                                 f"{self.depth}-bit; "
                                 f"document; convert it first.")


def _normalise(name: str, value: Any) -> Any:
    if name == "name":
        return str(value)
    if name in ("visible", "locked"):
        return bool(value)
    if name == "opacity":
        return float(min(1.0, max(0.0, float(value))))
    if name == "blend_mode":
        return BlendMode(value)
    return (int(value[0]), int(value[1]))


def _clone(layer: Layer) -> Layer:
    """Deep copy with fresh ids (and fresh event groups)."""
    common = dict(visible=layer.visible, opacity=layer.opacity, blend_mode=layer.blend_mode,
                  locked=layer.locked, offset=layer.offset)
    if isinstance(layer, GroupLayer):
        return GroupLayer(layer.name, [_clone(c) for c in layer.children], isolated=layer.isolated, **common)
    if isinstance(layer, AdjustmentLayer):
        mask = None if layer.mask is None else layer.mask.copy()
        return AdjustmentLayer(layer.name, layer.adjustment, copy.deepcopy(layer.params), size=layer.size,
                               mask=mask, clipped=layer.clipped, **common)
    if isinstance(layer, PixelLayer):
        mask = None if layer.mask is None else layer.mask.copy()
        if isinstance(layer, ResultLayer):
            return ResultLayer(layer.name, layer.pixels.copy(), mask, copy.deepcopy(layer.recipe), **common)
        dup = PixelLayer(layer.name, layer.pixels.copy(), mask=mask, **common)
        if hasattr(layer, "recipe"):
            dup.recipe = copy.deepcopy(layer.recipe)  # type: ignore[attr-defined]
        return dup
    return copy.copy(layer)


def _tiles_with_content(array: np.ndarray, area: Rect) -> Iterator[Rect]:
    """Tiles of the canvas grid, clipped to `area`, where `array` (H×W) is non-zero: one pass over
    `area`, no full-size temporaries."""
    if area.empty:
        return
    x0, x1 = area.x - area.x % TILE, area.right
    for y in range(area.y - area.y % TILE, area.bottom, TILE):
        band = Rect(x0, y, x1 - x0, TILE).intersect(area)
        columns = array[band.slices()].max(axis=0)
        for x in range(x0, x1, TILE):
            part = Rect(x, y, TILE, TILE).intersect(band)
            if not part.empty and columns[part.x - band.x : part.right - band.x].max() > 0:
                yield part
