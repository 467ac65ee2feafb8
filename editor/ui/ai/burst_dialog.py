"""Open Burst: 3–7 photos of one scene taken while moving the camera a little, for obstruction removal.

The dialog decodes the frames (EXIF orientation applied by the loader), shows them as thumbnails,
lets the user pick the reference frame (default: the middle one) and the kind of obstruction, and
refuses a burst the task would refuse (count, sizes) with the task's own message, before any job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor.core.errors import LucidError
from editor.infer.obstruction.burst import MAX_FRAMES, MIN_FRAMES, prepare_burst
from editor.ui.ai.inputs import load_input_image

KINDS = (
    ("auto", "Automatic"),
    ("fence", "Fence, wires, raindrops (opaque)"),
    ("reflection", "Reflection (glass)"),
)
THUMB = 120


@dataclass
class Burst:
    frames: np.ndarray  # N×H×W×3 float32, as the obstruction task takes it
    files: list[dict[str, str]]  # path + sha256 per frame, for the recipe
    reference: int
    kind: str

    @property
    def paths(self) -> list[Path]:
        return [Path(f["path"]) for f in self.files]


def thumbnail(rgba: np.ndarray, size: int = THUMB) -> QPixmap:
    h, w = rgba.shape[:2]
    s = size / max(h, w)
    small = cv2.resize(np.ascontiguousarray(rgba[..., :3]), (max(1, round(w * s)), max(1, round(h * s))),
                       interpolation=cv2.INTER_AREA)
    rgb8 = np.ascontiguousarray(np.clip(small * 255 + 0.5, 0, 255).astype(np.uint8))
    img = QImage(rgb8.data, rgb8.shape[1], rgb8.shape[0], rgb8.shape[1] * 3, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(img.copy())


class BurstDialog(QDialog):
    """`choose_paths()` asks for files (the window's prompts, so tests can answer)."""

    def __init__(self, paths: Sequence[Path], choose_paths: Callable[[], list[Path]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open Burst")
        self._choose = choose_paths
        self.files: list[dict[str, str]] = []
        self.stack: np.ndarray | None = None
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setMinimumSize(4 * (THUMB + 16), THUMB + 48)
        self.list.currentRowChanged.connect(self._on_reference)
        self.reference_label = QLabel()
        self.kind = QComboBox()
        for key, label in KINDS:
            self.kind.addItem(label, key)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #e05555;")
        self.choose_button = QPushButton("Choose frames…")
        self.choose_button.clicked.connect(self._choose_again)
        self.choose_button.setEnabled(choose_paths is not None)
        ok, cancel = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel
        self.buttons = QDialogButtonBox(ok | cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Remove obstruction")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        hint = QLabel(f"{MIN_FRAMES}–{MAX_FRAMES} photos of the same scene, the camera moved a little "
                      "between them. Click the frame to keep (the reference).")
        hint.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Reference", self.reference_label)
        form.addRow("Obstruction", self.kind)
        lay = QVBoxLayout(self)
        lay.addWidget(hint)
        lay.addWidget(self.list)
        lay.addLayout(form)
        lay.addWidget(self.error_label)
        lay.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.buttons)
        self.set_paths(paths)

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _choose_again(self) -> None:
        paths = self._choose() if self._choose else []
        if paths:
            self.set_paths(paths)

    def set_paths(self, paths: Sequence[Path]) -> bool:
        """Load and check the frames (with the task's own checks); on a problem show it and keep OK
        disabled. True when the burst is usable."""
        self.list.clear()
        self.files, self.stack = [], None
        rgb: list[np.ndarray] = []
        try:
            for i, p in enumerate(paths):
                frame = load_input_image(p)
                item = QListWidgetItem(QIcon(thumbnail(frame.pixels)), f"{i + 1}  {frame.path.name}")
                item.setToolTip(f"{frame.path}\n{frame.size[0]}×{frame.size[1]}")
                self.list.addItem(item)
                self.files.append(frame.ref())
                rgb.append(frame.rgb)
            self.stack = prepare_burst(rgb)[0]
        except LucidError as exc:
            self._show_error(exc.message)
            return False
        self.error_label.clear()
        self.ok_button.setEnabled(True)
        self.list.setCurrentRow(len(self.files) // 2)
        return True

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.ok_button.setEnabled(False)
        self.reference_label.clear()

    def _on_reference(self, row: int) -> None:
        if 0 <= row < len(self.files) and self.stack is not None:
            self.reference_label.setText(f"frame {row + 1} ({Path(self.files[row]['path']).name})")

    @property
    def reference(self) -> int:
        return max(0, self.list.currentRow())

    def burst(self) -> Burst | None:
        if self.stack is None:
            return None
        return Burst(self.stack, list(self.files), self.reference, self.kind.currentData())
