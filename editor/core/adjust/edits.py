"""Undoable document operations on adjustment layers: add one, change its parameters, clip it.

A slider drag previews without history (`preview_params`) and records one step on release
(`commit_params`), so undo takes back the whole drag, as in other editors.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from editor.core import commands as cmds
from editor.core.adjust.kinds import kind, normalise
from editor.core.adjust.layer import AdjustmentLayer
from editor.core.errors import LucidError

if TYPE_CHECKING:
    from editor.core.document import Document


def _record(doc: Document, cmd: Any, label: str) -> None:
    cmd.redo()
    doc.history.record(cmd, label)


def _check(doc: Document, layer: AdjustmentLayer) -> None:
    if not isinstance(layer, AdjustmentLayer) or not doc.contains(layer):
        raise LucidError("That is not an adjustment layer of this document.")


def add_adjustment(doc: Document, adjustment: str, params: dict[str, Any] | None = None, *,
                   clipped: bool = False, name: str | None = None) -> AdjustmentLayer:
    """A new adjustment layer over the whole canvas, just above the active layer (or on top)."""
    layer = AdjustmentLayer(name or kind(adjustment).label, adjustment, params, size=(doc.width, doc.height),
                            clipped=clipped)
    active = doc.active_layer
    if active is not None and doc.contains(active):
        parent = doc.parent_of(active)
        doc.add_layer(layer, parent.children.index(active) + 1, parent)
    else:
        doc.add_layer(layer)
    doc.active_layer = layer
    return layer


@dataclass(eq=False)
class SetParams:
    doc: Document
    layer: AdjustmentLayer
    old: dict[str, Any]
    new: dict[str, Any]
    nbytes: int = 0

    def _apply(self, value: dict[str, Any]) -> None:
        self.layer.params = value
        cmds.emit_layer_dirty(self.doc, self.layer)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


def preview_params(doc: Document, layer: AdjustmentLayer, params: dict[str, Any]) -> None:
    """Show `params` now without recording history (a slider being dragged)."""
    _check(doc, layer)
    before = layer.params
    layer.params = params
    if layer.params != before:
        cmds.emit_layer_dirty(doc, layer)


def commit_params(doc: Document, layer: AdjustmentLayer, before: dict[str, Any],
                  label: str | None = None) -> None:
    """Record the change from `before` to the layer's current parameters as one undo step."""
    _check(doc, layer)
    before = normalise(layer.adjustment, before)
    if before == layer.params:
        return
    doc.history.record(SetParams(doc, layer, copy.deepcopy(before), copy.deepcopy(layer.params)),
                       label or f"Adjust “{layer.name}”")


def set_params(doc: Document, layer: AdjustmentLayer, params: dict[str, Any],
               label: str | None = None) -> None:
    """Change the parameters as one undo step."""
    _check(doc, layer)
    new = normalise(layer.adjustment, params)
    if new != layer.params:
        cmd = SetParams(doc, layer, copy.deepcopy(layer.params), new)
        _record(doc, cmd, label or f"Adjust “{layer.name}”")


@dataclass(eq=False)
class SetClipped:
    doc: Document
    layer: AdjustmentLayer
    value: bool
    nbytes: int = 0

    def _apply(self, value: bool) -> None:
        self.layer.clipped = value
        cmds.emit_layer_dirty(self.doc, self.layer)

    def redo(self) -> None:
        self._apply(self.value)

    def undo(self) -> None:
        self._apply(not self.value)


def set_clipped(doc: Document, layer: AdjustmentLayer, clipped: bool) -> None:
    """Clip the adjustment to the one layer below it (True) or let it apply to everything below."""
    _check(doc, layer)
    if bool(clipped) != layer.clipped:
        _record(doc, SetClipped(doc, layer, bool(clipped)),
                "Clip adjustment" if clipped else "Release clipping")
