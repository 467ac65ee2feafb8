"""AdjustmentLayer: a layer with no pixels of its own. Its effect is a pure function of its parameters
applied to what lies below it (or, clipped, to the one layer below), weighted by opacity and its mask."""

from __future__ import annotations

from typing import Any

import numpy as np
from psygnal import Signal

from editor.core.adjust.kinds import AdjustFn, build, kind, normalise
from editor.core.cow import writable
from editor.core.geometry import Rect
from editor.core.layers import Layer, LayerEvents


class AdjustmentEvents(LayerEvents):
    params = Signal(object)  # the new parameter dict
    clipped = Signal(bool)


class AdjustmentLayer(Layer):
    """`adjustment` names the kind (see `kinds.KINDS`). The layer covers the canvas rectangle it was made
    for (`size` at `offset`); crops and canvas changes extend it. `mask` (float32 h×w, 1 = the adjustment
    shows) is optional, as on pixel layers, and is painted with the same mask brush."""

    kind = "adjustment"

    def __init__(self, name: str, adjustment: str, params: dict[str, Any] | None = None, *,
                 size: tuple[int, int], mask: np.ndarray | None = None, clipped: bool = False, **kw) -> None:
        super().__init__(name, **kw)
        self.events = AdjustmentEvents()
        kind(adjustment)
        self.adjustment = adjustment
        self._params = normalise(adjustment, params)
        self._fn: AdjustFn | None = build(adjustment, self._params)
        self._clipped = bool(clipped)
        self.size = (int(size[0]), int(size[1]))
        if mask is not None and mask.shape != (self.size[1], self.size[0]):
            raise ValueError(f"mask shape {mask.shape} does not match the layer size {self.size}")
        self.mask = None if mask is None else np.ascontiguousarray(mask, dtype=np.float32)

    def own_mask(self) -> np.ndarray | None:
        """The mask, made this layer's own and writable first (copy-on-write: a snapshot shares it)."""
        if self.mask is not None and not self.mask.flags.writeable:
            self.mask = writable(self.mask)
        return self.mask

    @property
    def params(self) -> dict[str, Any]:
        return self._params

    @params.setter
    def params(self, value: dict[str, Any]) -> None:
        value = normalise(self.adjustment, value)
        if value == self._params:
            return
        self._params = value
        self._fn = build(self.adjustment, value)
        self.events.params.emit(value)

    @property
    def function(self) -> AdjustFn | None:
        """What the compositor applies; None when the parameters are neutral."""
        return self._fn

    @property
    def clipped(self) -> bool:
        return self._clipped

    @clipped.setter
    def clipped(self, value: bool) -> None:
        self._set("clipped", bool(value))

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def bounds(self) -> Rect:
        return Rect(self.offset[0], self.offset[1], self.size[0], self.size[1])
