"""The document: canvas size, bit depth, the layer tree, the selection mask and file metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from psygnal import Signal, SignalGroup

from editor.core.geometry import Rect
from editor.core.layers import GroupLayer, Layer


class DocumentEvents(SignalGroup):
    dirty = Signal(object)  # Rect in canvas pixels that must be recomposited and repainted
    layers_changed = Signal()  # structure changed: add, remove, reorder
    active_layer = Signal(object)  # Layer | None
    selection = Signal(object)  # Rect of the selection mask that changed
    modified = Signal(bool)  # unsaved-changes flag
    path = Signal(object)  # Path | None


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

    @property
    def active_layer(self) -> Layer | None:
        return self._active

    @active_layer.setter
    def active_layer(self, layer: Layer | None) -> None:
        if layer is self._active:
            return
        self._active = layer
        self.events.active_layer.emit(layer)

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
