"""Layers as plain evented Python objects (napari-style); views subscribe to `layer.events`.

Setters change the value and emit; they do not record history. Undoable changes go through
`Document` methods, which record a command and then use these setters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
from psygnal import Signal, SignalGroup

from editor.core.blend import BlendMode
from editor.core.cow import writable
from editor.core.geometry import Rect
from editor.core.recipe import Recipe


class LayerEvents(SignalGroup):
    name = Signal(str)
    visible = Signal(bool)
    opacity = Signal(float)
    blend_mode = Signal(object)
    locked = Signal(bool)
    offset = Signal(object)
    pixels = Signal(object)  # Rect in layer coordinates whose pixels changed
    mask = Signal(object)  # Rect in layer coordinates whose mask changed
    recipe = Signal(object)


def new_layer_id() -> str:
    return uuid.uuid4().hex[:12]


class Layer:
    """Properties common to every layer. `offset` places the layer's (0, 0) on the canvas."""

    kind = "layer"

    def __init__(
        self,
        name: str,
        *,
        visible: bool = True,
        opacity: float = 1.0,
        blend_mode: BlendMode = BlendMode.NORMAL,
        locked: bool = False,
        offset: tuple[int, int] = (0, 0),
        layer_id: str | None = None,
    ) -> None:
        self.events = LayerEvents()
        self.id = layer_id or new_layer_id()
        self._name = name
        self._visible = visible
        self._opacity = float(opacity)
        self._blend_mode = BlendMode(blend_mode)
        self._locked = locked
        self._offset = (int(offset[0]), int(offset[1]))

    def _set(self, attr: str, value: object) -> None:
        if getattr(self, "_" + attr) == value:
            return
        setattr(self, "_" + attr, value)
        getattr(self.events, attr).emit(value)

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._set("name", str(value))

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._set("visible", bool(value))

    @property
    def opacity(self) -> float:
        return self._opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        self._set("opacity", float(min(1.0, max(0.0, value))))

    @property
    def blend_mode(self) -> BlendMode:
        return self._blend_mode

    @blend_mode.setter
    def blend_mode(self, value: BlendMode) -> None:
        self._set("blend_mode", BlendMode(value))

    @property
    def locked(self) -> bool:
        return self._locked

    @locked.setter
    def locked(self, value: bool) -> None:
        self._set("locked", bool(value))

    @property
    def offset(self) -> tuple[int, int]:
        return self._offset

    @offset.setter
    def offset(self, value: tuple[int, int]) -> None:
        self._set("offset", (int(value[0]), int(value[1])))

    @property
    def bounds(self) -> Rect:
        """Canvas rectangle this layer covers."""
        return Rect(self._offset[0], self._offset[1], 0, 0)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} id={self.id}>"


class PixelLayer(Layer):
    """A raster layer: H×W×4 RGBA, straight alpha, uint8 or uint16 (the document's depth).

    `mask` is an optional layer mask, float32 H×W in [0, 1], 1 = the layer shows. `shared=True` keeps
    read-only buffers that others also use (an .ora whose layers name one PNG decodes it once; an
    autosave snapshot reads them while the user edits on); the first edit copies them (`own_pixels`,
    `own_mask`).
    """

    kind = "pixel"

    def __init__(self, name: str, pixels: np.ndarray, *, mask: np.ndarray | None = None,
                 shared: bool = False, **kw) -> None:
        super().__init__(name, **kw)
        if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"layer pixels must be H×W×4 uint8/uint16, got {pixels.shape} {pixels.dtype}")
        # Layers own their buffers: edits write in place, so a read-only view (np.asarray of a
        # decoded PIL image, a memory-mapped file) is copied once here rather than failing later.
        self.pixels = np.ascontiguousarray(pixels) if shared else _writable(pixels)
        if mask is not None:
            mask = _check_mask(mask, pixels.shape[:2], shared)
        self.mask = mask

    def own_pixels(self) -> np.ndarray:
        """The pixel buffer, made this layer's own and writable first (copy-on-write of a shared one)."""
        if not self.pixels.flags.writeable:
            self.pixels = writable(self.pixels)
        return self.pixels

    def own_mask(self) -> np.ndarray | None:
        """The mask, made this layer's own and writable first (copy-on-write of a shared one)."""
        if self.mask is not None and not self.mask.flags.writeable:
            self.mask = writable(self.mask)
        return self.mask

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def bounds(self) -> Rect:
        return Rect(self.offset[0], self.offset[1], self.width, self.height)


class ResultLayer(PixelLayer):
    """The output of an AI tool: its pixels, the editable mask it applies through, and its recipe."""

    kind = "result"

    def __init__(self, name: str, pixels: np.ndarray, mask: np.ndarray, recipe: Recipe, **kw) -> None:
        super().__init__(name, pixels, mask=mask, **kw)
        self.recipe = recipe


class GroupLayer(Layer):
    """An ordered stack of layers, bottom first. Isolated groups composite on their own first."""

    kind = "group"

    def __init__(self, name: str, children: list[Layer] | None = None, *, isolated: bool = True,
                 **kw) -> None:
        super().__init__(name, **kw)
        self.children: list[Layer] = list(children or [])
        self.isolated = isolated

    def walk(self) -> Iterator[Layer]:
        """Every descendant, depth first, bottom first."""
        for child in self.children:
            yield child
            if isinstance(child, GroupLayer):
                yield from child.walk()

    @property
    def bounds(self) -> Rect:
        out = Rect(0, 0, 0, 0)
        for child in self.children:
            out = out.union(child.bounds)
        return out


def _writable(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    return array if array.flags.writeable else array.copy()


def _check_mask(mask: np.ndarray, shape: tuple[int, ...], shared: bool = False) -> np.ndarray:
    if mask.shape != tuple(shape):
        raise ValueError(f"mask shape {mask.shape} does not match layer shape {tuple(shape)}")
    mask = np.asarray(mask, dtype=np.float32)
    return np.ascontiguousarray(mask) if shared else _writable(mask)
