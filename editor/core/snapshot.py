"""An immutable snapshot of a document, cheap enough to take on the GUI thread.

The snapshot's layers share the live layers' pixel, mask and selection buffers, which are marked
read-only; the live document copies a buffer on its next edit of it (copy-on-write: `own_pixels`,
`own_mask`, `_own_selection`). So taking a snapshot costs no pixel copies, and a worker thread can
encode it while the user keeps painting: the arrays it reads never change.
"""

from __future__ import annotations

import copy

import numpy as np

from editor.core.document import Document, Metadata
from editor.core.layers import GroupLayer, Layer, PixelLayer, ResultLayer


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


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


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
