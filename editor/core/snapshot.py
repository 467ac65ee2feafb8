"""An immutable snapshot of a document, cheap enough to take on the GUI thread.

The snapshot's layers share the live layers' pixel, mask and selection buffers, which are marked
read-only; the live document copies a buffer on its next edit of it (copy-on-write: `own_pixels`,
`own_mask`, `_own_selection`). So taking a snapshot costs no pixel copies, and a worker thread can
encode it while the user keeps painting: the arrays it reads never change.

AI jobs use the same idea: `render_layers_later` / `selection_later` (…) take lazy, frozen sources on the
GUI thread, and the inference worker renders only the part of the canvas the task reads.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from editor.core.compositor import planar_to_straight, render
from editor.core.cow import lend
from editor.core.document import Document, Metadata
from editor.core.geometry import TILE, Rect
from editor.core.layers import GroupLayer, Layer, PixelLayer, ResultLayer
from editor.core.pixels import to_float


def freeze_document(doc: Document) -> Document:
    """A read-only copy of `doc` (same ids, properties, pixels, masks, selection, metadata).

    Do not call while an edit is open (`doc.history.editing`): that edit writes into the buffers.
    """
    if doc.history.editing:
        raise RuntimeError("cannot snapshot a document while an edit is open")
    meta = doc.metadata
    snap = Document(doc.width, doc.height, depth=doc.depth,
                    metadata=Metadata(meta.icc_profile, meta.exif, meta.source_format, dict(meta.extra)))
    snap.root.children = [_freeze(layer) for layer in doc.root.children]
    snap.selection = _read_only(doc.selection)
    if doc.active_layer is not None:
        snap.active_layer = snap.find(doc.active_layer.id)
    snap.path = doc.path
    snap.modified = doc.modified
    return snap


def peek_document(doc: Document) -> Document:
    """A structural copy of `doc` whose layers share the live buffers without locking them.

    For readers that tolerate a torn read — a histogram computed while a stroke lands — and that must
    not make the next edit copy a 24 MP buffer, as a lent (copy-on-write) buffer would. Never for jobs,
    saves or autosave, which need exactly one state of the document (`freeze_document`).
    """
    peek = Document(doc.width, doc.height, depth=doc.depth)
    peek.root.children = [_shallow(layer) for layer in doc.root.children]
    return peek


def _shallow(layer: Layer) -> Layer:
    out = copy.copy(layer)  # the same pixels, mask and parameters; the structure is this copy's own
    if isinstance(layer, GroupLayer):
        out.children = [_shallow(child) for child in layer.children]
    return out


def _read_only(array: np.ndarray) -> np.ndarray:
    return lend(array)  # a read-only view; the live buffer is copied on its next edit only if it still lives


def _freeze(layer: Layer) -> Layer:
    common = dict(visible=layer.visible, opacity=layer.opacity, blend_mode=layer.blend_mode,
                  locked=layer.locked, offset=layer.offset, layer_id=layer.id)
    if isinstance(layer, GroupLayer):
        return GroupLayer(layer.name, [_freeze(c) for c in layer.children], isolated=layer.isolated, **common)
    if isinstance(layer, PixelLayer):
        pixels = _read_only(layer.pixels)
        mask = None if layer.mask is None else _read_only(layer.mask)
        if isinstance(layer, ResultLayer):
            return ResultLayer(layer.name, pixels, mask, copy.deepcopy(layer.recipe), shared=True, **common)
        return PixelLayer(layer.name, pixels, mask=mask, shared=True, **common)
    frozen = copy.copy(layer)  # e.g. an adjustment layer: parameters, plus a mask shared read-only
    if isinstance(getattr(layer, "mask", None), np.ndarray):
        frozen.mask = _read_only(layer.mask)
    return frozen


# --- lazy pixels for jobs ---------------------------------------------------------------------------------

def freeze_layers(layers: list[Layer]) -> list[Layer]:
    """Read-only stand-ins for `layers` sharing their buffers (copy-on-write, as `freeze_document`)."""
    return [_freeze(layer) for layer in layers]


def _canvas_part(rect: Rect | None, width: int, height: int) -> Rect:
    canvas = Rect(0, 0, width, height)
    return canvas if rect is None else rect


@dataclass(frozen=True, eq=False)
class LayersRender:
    """The composite of frozen layers over the canvas, rendered when asked (on the worker, not the GUI).

    Taking one costs no pixels (the layers share read-only buffers with the live document, which
    copies a buffer on its next edit), so a job can be submitted from the GUI thread on a 24 MP photo
    without a stall, and later edits never reach what the job sees. `plain` renders the one layer's
    own pixels instead (no mask, opacity or blend mode); `channels` 3 drops alpha.
    """

    layers: tuple[Layer, ...]
    width: int
    height: int
    channels: int = 4
    plain: bool = False

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.height, self.width, self.channels

    def render(self, rect: Rect | None = None) -> np.ndarray:
        """float32 h×w×channels, straight alpha, of canvas `rect` (default the whole canvas); a new array."""
        rect = _canvas_part(rect, self.width, self.height)
        out = np.zeros((rect.h, rect.w, 4), np.float32)
        if self.plain:
            layer = self.layers[0]
            assert isinstance(layer, PixelLayer)
            area = layer.bounds.intersect(rect)
            if not area.empty:
                src = area.translated(-layer.offset[0], -layer.offset[1])
                out[area.translated(-rect.x, -rect.y).slices()] = to_float(layer.pixels[src.slices()])
        elif self.layers:
            canvas = Rect(0, 0, self.width, self.height)
            for tx, ty in rect.tiles():
                # whole tiles of the canvas grid, as the canvas renders them: the compositor may take
                # another (equally right) path for a part of a tile, which need not round the same
                tile = Rect(tx * TILE, ty * TILE, TILE, TILE).intersect(canvas)
                part = tile.intersect(rect)
                block = planar_to_straight(render(self.layers, tile))
                inner = part.translated(-tile.x, -tile.y)
                out[part.translated(-rect.x, -rect.y).slices()] = block[inner.slices()]
        return out if self.channels == 4 else np.ascontiguousarray(out[..., : self.channels])


@dataclass(frozen=True, eq=False)
class MaskRender:
    """A read-only mask (the selection, or a layer's mask at its offset) as float32 on the canvas, later."""

    mask: np.ndarray
    width: int
    height: int
    offset: tuple[int, int] = (0, 0)
    values: np.ndarray | None = None  # float32 lookup for a mask of integer codes (e.g. a trimap)

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def render(self, rect: Rect | None = None) -> np.ndarray:
        """float32 h×w of canvas `rect` (default the whole canvas), 0 outside the mask; a new array."""
        rect = _canvas_part(rect, self.width, self.height)
        out = np.zeros((rect.h, rect.w), np.float32)
        mh, mw = self.mask.shape
        area = Rect(self.offset[0], self.offset[1], mw, mh).intersect(rect)
        if not area.empty:
            src = area.translated(-self.offset[0], -self.offset[1])
            part = self.mask[src.slices()]
            if self.values is not None:
                part = self.values[part]
            out[area.translated(-rect.x, -rect.y).slices()] = part
        return out


def render_layers_later(doc: Document, layers: list[Layer], channels: int = 4) -> LayersRender:
    """A lazy composite of `layers` (bottom first) over `doc`'s canvas; see `LayersRender`."""
    return LayersRender(tuple(freeze_layers(layers)), doc.width, doc.height, channels)


def render_layer_later(doc: Document, layer: PixelLayer, channels: int = 4) -> LayersRender:
    """A lazy render of one pixel layer's own pixels placed at its offset on a transparent canvas."""
    return LayersRender(tuple(freeze_layers([layer])), doc.width, doc.height, channels, plain=True)


def selection_later(doc: Document) -> MaskRender:
    """The selection (1 = selected) as a lazy float32 canvas mask."""
    return MaskRender(_read_only(doc.selection), doc.width, doc.height)


def layer_mask_later(doc: Document, layer: PixelLayer) -> MaskRender:
    """A layer's mask placed at its offset on the canvas (all ones where it has no mask), lazily."""
    mask = np.ones(layer.pixels.shape[:2], np.float32) if layer.mask is None else _read_only(layer.mask)
    return MaskRender(mask, doc.width, doc.height, layer.offset)
