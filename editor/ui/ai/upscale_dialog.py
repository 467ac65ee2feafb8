"""Image → Upscale…: model, scale or target size, tile size, estimated time → a job → a new document.

The original is never touched: the upscaled composite opens in its own tab at the source's depth
(16-bit stays 16-bit) with its alpha. The time estimate comes from the seconds per input megapixel
measured on this machine by earlier runs of the same model (kept in `<config>/ai.ini`), or from a
conservative default per architecture until there is one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from editor.core.document import Document, Metadata
from editor.core.settings import config_dir
from editor.infer.api import Request
from editor.ui.ai.controller import AiController

if TYPE_CHECKING:
    from editor.ui.main_window import MainWindow

TASK = "superres"
MIN_SCALE, MAX_SCALE = 1.0, 4.0
TILES = (0, 128, 192, 256, 384, 512, 768, 1024)  # 0 = auto (from free memory)
# Seconds per input megapixel before anything was measured here: generous CPU figures, so the first
# estimate errs long (RRDBNet x4plus is the heaviest network we ship).
DEFAULT_S_PER_MP = {"ESRGAN": 240.0, "RRDBNet": 240.0, "Compact": 25.0, "SRGAN": 60.0}
FALLBACK_S_PER_MP = 240.0


class RateBook:
    """Measured seconds per input megapixel per model, in `<config>/ai.ini` (QSettings, INI)."""

    def __init__(self, path: Path | None = None) -> None:
        self._qs = QSettings(str(path or config_dir() / "ai.ini"), QSettings.Format.IniFormat)

    def get(self, model_id: str) -> float | None:
        value = self._qs.value(f"upscale_s_per_mp/{model_id}")
        try:
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    def record(self, model_id: str, seconds: float, input_mp: float) -> None:
        if input_mp <= 0 or seconds <= 0:
            return
        rate = seconds / input_mp
        old = self.get(model_id)
        self._qs.setValue(f"upscale_s_per_mp/{model_id}", rate if old is None else 0.5 * (old + rate))
        self._qs.sync()


def format_duration(s: float) -> str:
    if s < 1:
        return "under a second"
    if s < 90:
        return f"about {round(s)} s"
    if s < 3600:
        return f"about {round(s / 60)} min"
    return f"about {s / 3600:.1f} h"


def estimate_seconds(rates: RateBook, model_id: str, architecture: str, in_w: int,
                     in_h: int) -> tuple[float, bool]:
    """(seconds, measured?) for an input of in_w×in_h: the network runs on the input at its own scale."""
    mp = in_w * in_h / 1e6
    rate = rates.get(model_id)
    if rate is not None:
        return rate * mp, True
    return DEFAULT_S_PER_MP.get(architecture, FALLBACK_S_PER_MP) * mp, False


async def upscale(controller: AiController, doc: Document, request: Request, name: str,
                  rates: RateBook | None = None) -> Document | None:
    """Run the job on a snapshot; the result opens as a new document (the original is untouched)."""
    h, w = request.image.shape[:2]
    result = await controller.run(request)
    if result is None:
        return None
    seconds = result.info.get("seconds")
    if seconds and request.model_id:
        (rates or RateBook()).record(request.model_id, float(seconds), w * h / 1e6)
    meta = Metadata(icc_profile=doc.metadata.icc_profile, exif=doc.metadata.exif,
                    source_format=doc.metadata.source_format, extra=dict(doc.metadata.extra))
    return controller.open_as_new_document(result.image, depth=doc.depth, name=name, metadata=meta)


class UpscaleDialog(QDialog):
    def __init__(self, controller: AiController, doc: Document, window: MainWindow | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Upscale")
        self.setObjectName("upscale-dialog")
        self.controller = controller
        self.window_ = window
        self.doc = doc
        self.rates = RateBook()
        self.task: Any = None
        self._infos: dict[str, Any] = {}

        self.model = QComboBox()
        self.model.setObjectName("upscale-model")
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)
        self.model_note.setStyleSheet("color: #b9770e")
        models_button = QPushButton("Models…")
        if window is not None:
            models_button.clicked.connect(window.show_models)
        self.by_scale = QRadioButton("Scale")
        self.by_size = QRadioButton("Size")
        group = QButtonGroup(self)
        group.addButton(self.by_scale)
        group.addButton(self.by_size)
        self.by_scale.setChecked(True)
        self.scale = QDoubleSpinBox()
        self.scale.setRange(MIN_SCALE, MAX_SCALE)
        self.scale.setSingleStep(0.5)
        self.scale.setDecimals(2)
        self.scale.setPrefix("×")
        self.scale.setValue(2.0)
        self.width_ = QSpinBox()
        self.height_ = QSpinBox()
        for spin in (self.width_, self.height_):
            spin.setRange(1, 1_000_000)
            spin.setSuffix(" px")
        self.tile = QComboBox()
        for t in TILES:
            self.tile.addItem("Auto (from free memory)" if t == 0 else f"{t} px", t)
        self.tile.setToolTip("Input tile side; smaller tiles use less memory, larger ones run a bit faster")
        self.summary = QLabel()
        self.summary.setWordWrap(True)

        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(models_button)
        size_row = QHBoxLayout()
        size_row.addWidget(self.width_)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_)
        form = QFormLayout()
        form.addRow("Model", model_row)
        form.addRow("", self.model_note)
        form.addRow(self.by_scale, self.scale)
        form.addRow(self.by_size, size_row)
        form.addRow("Tile size", self.tile)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.addButton("Upscale", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("upscale-ok")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Upscale the composite of this {doc.width}×{doc.height} image "
                             f"({doc.depth}-bit) into a new document."))
        lay.addLayout(form)
        lay.addWidget(self.summary)
        lay.addWidget(self.buttons)

        self._syncing = False
        self.model.currentIndexChanged.connect(lambda _i: self._on_model())
        self.scale.valueChanged.connect(lambda _v: self._from_scale())
        self.width_.valueChanged.connect(lambda _v: self._from_size("w"))
        self.height_.valueChanged.connect(lambda _v: self._from_size("h"))
        self.by_scale.toggled.connect(lambda _on: self._update())
        self.tile.currentIndexChanged.connect(lambda _i: self._update())
        self.refresh_models()
        self._from_scale()

    # --- models -----------------------------------------------------------------------------------

    def refresh_models(self) -> None:
        """Installed super-resolution models first; others listed disabled with how to get them."""
        store = self.controller.store
        infos = [i for i in (store.list() if store is not None else []) if i.task == TASK]
        infos.sort(key=lambda i: (not i.installed, not i.manifest.default, i.name.lower()))
        self._infos = {i.id: i for i in infos}
        self.model.blockSignals(True)
        self.model.clear()
        for info in infos:
            text = info.name if info.installed else f"{info.name} — {info.status.value}"
            self.model.addItem(text, info.id)
            if not info.installed:
                item = self.model.model().item(self.model.count() - 1)
                item.setEnabled(False)
                item.setToolTip(info.not_installed_message())
        installed = [i for i in infos if i.installed]
        self.model.setCurrentIndex(self.model.findData(installed[0].id) if installed else -1)
        self.model.blockSignals(False)
        if not installed:
            self.model_note.setText("No upscaling model is installed yet — get one in AI → Models… "
                                    "(Download, or Import file… for a .pth/.safetensors you have).")
        else:
            missing = len(infos) - len(installed)
            self.model_note.setText(f"{missing} more in AI → Models… (not installed)." if missing else "")
        self._on_model()

    def model_id(self) -> str | None:
        data = self.model.currentData()
        return str(data) if data else None

    def model_scale(self) -> int:
        info = self._infos.get(self.model_id() or "")
        return int(info.manifest.scale or 4) if info is not None else 4

    def _on_model(self) -> None:
        self.scale.setMaximum(min(MAX_SCALE, float(self.model_scale())))
        self._from_scale()

    # --- size -------------------------------------------------------------------------------------

    def _from_scale(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        s = self.scale.value()
        self.width_.setValue(max(1, math.floor(self.doc.width * s + 0.5)))
        self.height_.setValue(max(1, math.floor(self.doc.height * s + 0.5)))
        self._syncing = False
        self._update()

    def _from_size(self, which: str) -> None:
        """Typing a width keeps the aspect ratio (the other side follows), as the task scales uniformly."""
        if self._syncing:
            return
        self._syncing = True
        self.by_size.setChecked(True)
        if which == "w":
            s = self.width_.value() / self.doc.width
            self.height_.setValue(max(1, math.floor(self.doc.height * s + 0.5)))
        else:
            s = self.height_.value() / self.doc.height
            self.width_.setValue(max(1, math.floor(self.doc.width * s + 0.5)))
        self.scale.setValue(s)
        self._syncing = False
        self._update()

    def target(self) -> tuple[int, int]:
        return self.width_.value(), self.height_.value()

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.by_size.isChecked():
            params["size"] = list(self.target())
        else:
            params["scale"] = round(self.scale.value(), 4)
        if self.tile.currentData():
            params["tile"] = int(self.tile.currentData())
        return params

    def _problem(self) -> str:
        if self.model_id() is None:
            return "Choose an installed model."
        w, h = self.target()
        ratio = max(w / self.doc.width, h / self.doc.height)
        top = min(MAX_SCALE, float(self.model_scale()))
        if ratio < MIN_SCALE - 1e-6 or ratio > top + 1e-6:
            return f"{w}×{h} is ×{ratio:.2f}; this model goes from ×{MIN_SCALE:g} to ×{top:g}."
        return ""

    def _update(self) -> None:
        problem = self._problem()
        self.ok.setEnabled(not problem and self.controller.available)
        if problem:
            self.summary.setText(problem)
            return
        w, h = self.target()
        info = self._infos[self.model_id()]
        secs, measured = estimate_seconds(self.rates, info.id, info.manifest.architecture,
                                          self.doc.width, self.doc.height)
        basis = "measured on this machine" if measured else "rough, until a first run is measured"
        self.summary.setText(f"Result: {w}×{h} px, {self.doc.depth}-bit, new document.\n"
                             f"Estimated time: {format_duration(secs)} ({basis}).")

    # --- run --------------------------------------------------------------------------------------

    def request(self) -> Request:
        return Request(task=TASK, image=self.controller.snapshot(self.doc, "composite"),
                       model_id=self.model_id(), params=self.params(),
                       output_dtype=np.dtype(self.doc.dtype).name)

    def result_name(self) -> str:
        w, h = self.target()
        base = self.doc.path.stem if self.doc.path is not None else "Untitled"
        return f"{base} {w}×{h} ({self.model.currentText()})"

    def start(self) -> None:
        """Upscale: start the job (progress in the Jobs panel) and close the dialog."""
        if self._problem():
            return
        coro = upscale(self.controller, self.doc, self.request(), self.result_name(), self.rates)
        self.task = self.controller.spawn(coro)
        self.accept()

