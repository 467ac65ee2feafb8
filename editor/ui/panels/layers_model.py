"""A Qt item model over the core layer tree (napari's adapter pattern): the tree stays the truth.

Rows are shown top layer first (the core stores bottom first). Every edit goes through an undoable
Document method; the model only re-reads the tree when the core says it changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractItemModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QImage, QPainter

from editor.core.adjust.layer import AdjustmentLayer
from editor.core.document import Document
from editor.core.layers import GroupLayer, Layer, PixelLayer, ResultLayer

MIME_LAYER = "application/x-lucid-layer-id"
COL_VISIBLE, COL_LOCK, COL_NAME = 0, 1, 2
THUMB_PX = 36
LayerRole = Qt.ItemDataRole.UserRole + 1
_WATCHED = ("name", "visible", "locked", "opacity", "blend_mode", "recipe")

Index = QModelIndex | QPersistentModelIndex


def thumbnail_rgba8(layer: PixelLayer | AdjustmentLayer, size: int = THUMB_PX) -> np.ndarray:
    """A small straight-alpha RGBA8 preview by striding (cheap enough to redo after every stroke);
    an adjustment layer shows its mask (white where it applies)."""
    step = max(1, int(np.ceil(max(layer.width, layer.height) / size)))
    if isinstance(layer, AdjustmentLayer):
        h, w = -(-layer.height // step), -(-layer.width // step)
        grey = np.full((h, w), 255, np.uint8) if layer.mask is None else \
            np.rint(layer.mask[::step, ::step] * 255).astype(np.uint8)
        out = np.empty((*grey.shape, 4), np.uint8)
        out[..., :3] = grey[..., None]
        out[..., 3] = 255
        for edge in (out[0], out[-1], out[:, 0], out[:, -1]):  # a frame, so an all-white mask still shows
            edge[..., :3] = 128
        return out
    small = layer.pixels[::step, ::step]
    if small.dtype == np.uint16:
        small = (small >> 8).astype(np.uint8)
    return np.ascontiguousarray(small)


def layer_caption(layer: Layer) -> str:
    """Name shown in the panel; result layers name the tool that made them."""
    if isinstance(layer, ResultLayer):
        return f"{layer.name}  [{layer.recipe.task}]"
    if isinstance(layer, AdjustmentLayer):
        return f"{'↳ ' if layer.clipped else ''}{layer.name}  [adjustment]"
    return layer.name


class LayersModel(QAbstractItemModel):
    """Three columns: visibility, lock, thumbnail + name. Drag rows to reorder (also into groups)."""

    def __init__(self, doc: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self._thumbs: dict[str, QImage] = {}
        self._stale_thumbs: set[str] = set()
        self._thumb_timer = QTimer(self)
        self._thumb_timer.setSingleShot(True)
        self._thumb_timer.setInterval(250)
        self._thumb_timer.timeout.connect(self._refresh_thumbs)
        self._watched: list[Layer] = []
        self._connections: list[tuple[Any, Any]] = []
        doc.events.layers_changed.connect(self._on_structure)
        self._watch_layers()

    def close(self) -> None:
        """Disconnect from the document (the panel calls this before switching documents)."""
        self._thumb_timer.stop()
        self.doc.events.layers_changed.disconnect(self._on_structure)
        self._unwatch_layers()

    # -- core events -------------------------------------------------------------------------------
    def _on_structure(self) -> None:
        self.beginResetModel()
        self._unwatch_layers()
        self._watch_layers()
        self.endResetModel()

    def _watch_layers(self) -> None:
        self._watched = self.doc.all_layers()
        for layer in self._watched:
            def changed(*_: Any, lay: Layer = layer) -> None:
                self._changed(lay)

            def pixels(*_: Any, lay: Layer = layer) -> None:
                self._on_layer_pixels(lay)

            for name in _WATCHED:
                getattr(layer.events, name).connect(changed)
                self._connections.append((getattr(layer.events, name), changed))
            layer.events.pixels.connect(pixels)
            self._connections.append((layer.events.pixels, pixels))
            if isinstance(layer, AdjustmentLayer):  # its thumbnail is its mask
                layer.events.mask.connect(pixels)
                self._connections.append((layer.events.mask, pixels))

    def _unwatch_layers(self) -> None:
        for signal, cb in self._connections:
            signal.disconnect(cb)
        self._connections = []
        self._watched = []

    def _on_layer_pixels(self, layer: Layer) -> None:
        self._stale_thumbs.add(layer.id)
        self._thumb_timer.start()

    def _refresh_thumbs(self) -> None:
        for layer_id in list(self._stale_thumbs):
            self._thumbs.pop(layer_id, None)
            layer = self.doc.find(layer_id)
            if layer is not None:
                self._changed(layer)
        self._stale_thumbs.clear()

    def _changed(self, layer: Layer) -> None:
        left = self.index_of(layer, COL_VISIBLE)
        right = self.index_of(layer, COL_NAME)
        if left.isValid():
            self.dataChanged.emit(left, right)

    # -- tree mapping ------------------------------------------------------------------------------
    def _group(self, parent: Index) -> GroupLayer:
        if not parent.isValid():
            return self.doc.root
        layer = parent.internalPointer()
        return layer if isinstance(layer, GroupLayer) else self.doc.root

    def layer_at(self, index: Index) -> Layer | None:
        return index.internalPointer() if index.isValid() else None

    def index_of(self, layer: Layer, column: int = COL_NAME) -> QModelIndex:
        try:
            group = self.doc.parent_of(layer)
        except KeyError:
            return QModelIndex()
        row = len(group.children) - 1 - group.children.index(layer)
        return self.createIndex(row, column, layer)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        group = self._group(parent)
        if parent.isValid() and not isinstance(parent.internalPointer(), GroupLayer):
            return QModelIndex()
        n = len(group.children)
        if not (0 <= row < n and 0 <= column < 3):
            return QModelIndex()
        return self.createIndex(row, column, group.children[n - 1 - row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        layer = self.layer_at(index)
        if layer is None:
            return QModelIndex()
        group = self.doc.parent_of(layer)
        if group is self.doc.root:
            return QModelIndex()
        return self.index_of(group, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            layer = parent.internalPointer()
            return len(layer.children) if isinstance(layer, GroupLayer) and parent.column() == 0 else 0
        return len(self.doc.root.children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 3

    # -- data --------------------------------------------------------------------------------------
    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        if index.column() in (COL_VISIBLE, COL_LOCK):
            f |= Qt.ItemFlag.ItemIsUserCheckable
        if index.column() == COL_NAME:
            f |= Qt.ItemFlag.ItemIsEditable
        if isinstance(index.internalPointer(), GroupLayer):
            f |= Qt.ItemFlag.ItemIsDropEnabled
        return f

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        layer = self.layer_at(index)
        if layer is None:
            return None
        col = index.column()
        if role == LayerRole:
            return layer
        if role == Qt.ItemDataRole.CheckStateRole:
            if col == COL_VISIBLE:
                return Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked
            if col == COL_LOCK:
                return Qt.CheckState.Checked if layer.locked else Qt.CheckState.Unchecked
            return None
        if col != COL_NAME:
            if role == Qt.ItemDataRole.ToolTipRole:
                return "Visible" if col == COL_VISIBLE else "Locked (no painting, no moving)"
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return layer_caption(layer)
        if role == Qt.ItemDataRole.EditRole:
            return layer.name
        if role == Qt.ItemDataRole.DecorationRole and isinstance(layer, PixelLayer | AdjustmentLayer):
            return self._thumbnail(layer)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{layer.name}\nOpacity {layer.opacity:.0%} · {layer.blend_mode.label}"
            if isinstance(layer, ResultLayer):
                r = layer.recipe
                tip += f"\nMade by: {r.task}" + (f" ({r.model_id})" if r.model_id else "")
            return tip
        return None

    def _thumbnail(self, layer: PixelLayer) -> QImage:
        img = self._thumbs.get(layer.id)
        if img is None:
            arr = thumbnail_rgba8(layer)
            h, w = arr.shape[:2]
            pic = QImage(arr.data, w, h, w * 4, QImage.Format.Format_RGBA8888)
            img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
            painter = QPainter(img)  # on a checkerboard, so empty layers read as transparent
            cell = 6
            for y in range(0, h, cell):
                for x in range(0, w, cell):
                    light = (x // cell + y // cell) % 2 == 0
                    grey = 220 if light else 170
                    painter.fillRect(x, y, cell, cell, QColor(grey, grey, grey))
            painter.drawImage(0, 0, pic)
            painter.end()
            self._thumbs[layer.id] = img
        return img

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        layer = self.layer_at(index)
        if layer is None:
            return False
        col = index.column()
        if role == Qt.ItemDataRole.CheckStateRole and col in (COL_VISIBLE, COL_LOCK):
            checked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
            self.doc.set_property(layer, "visible" if col == COL_VISIBLE else "locked", bool(checked))
            return True
        if role == Qt.ItemDataRole.EditRole and col == COL_NAME:
            name = str(value).strip()
            if not name or name == layer.name:
                return False
            self.doc.set_property(layer, "name", name)
            return True
        return False

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Show", "Lock", "Layer")[section]
        return None

    # -- drag to reorder ---------------------------------------------------------------------------
    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_LAYER]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        layers = [self.layer_at(i) for i in indexes if i.isValid() and i.column() == COL_NAME]
        if not layers:
            layers = [self.layer_at(i) for i in indexes if i.isValid()][:1]
        if layers:
            mime.setData(MIME_LAYER, layers[0].id.encode())
        return mime

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        """Move the dragged layer so it lands at display `row` under `parent`.

        Returns False even on success: the core already moved the layer, so the view must not also
        delete the source rows as it would after an accepted MoveAction.
        """
        self.move_to(data, row, parent)
        return False

    def move_to(self, data: QMimeData, row: int, parent: Index) -> bool:
        if not data.hasFormat(MIME_LAYER):
            return False
        layer = self.doc.find(bytes(data.data(MIME_LAYER).data()).decode())
        if layer is None:
            return False
        group = self._group(parent)
        if layer is group or (isinstance(layer, GroupLayer) and group in list(layer.walk())):
            return False  # a group cannot go inside itself
        n = len(group.children)
        row = n if row < 0 else row  # dropped on the group itself: on top
        index = n - row  # display row (top first) → position in the bottom-first list
        if group is self.doc.parent_of(layer) and group.children.index(layer) < index:
            index -= 1  # the layer leaves its old slot first
        self.doc.move_layer(layer, max(0, index), parent=None if group is self.doc.root else group)
        return True
