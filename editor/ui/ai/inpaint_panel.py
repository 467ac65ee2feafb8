"""Inpaint tool: paint the area with the mask brush, press Enter or Fill → a job → a result layer.

"Fill on release" starts the fill when a mask stroke ends; a new stroke cancels a running fill and
the fill restarts (on the whole mask) when that stroke ends.

The fill is computed from the composite (what the user sees) and lands on top as a result layer named
after the engine, holding the fill, the mask it applies through (the selection plus the engine's
narrow feather) and the recipe; the selection is cleared in the same undo step.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.geometry import Rect
from editor.core.layers import ResultLayer
from editor.core.snapshot import selection_later
from editor.infer.api import Request, Result
from editor.infer.inpaint.catalog import DEFAULT_ENGINE, ENGINE_INFO, LAMA_MODEL_ID
from editor.infer.jobs import FETCH_TASK, IMPORT_TASK, Job
from editor.ui.ai.controller import AiController

if TYPE_CHECKING:
    from editor.ui.main_window import MainWindow

TASK = "inpaint"
# (engine, label in layer names, menu text), from the one engine list in editor.infer.inpaint
ENGINES: list[tuple[str, str, str]] = [(e.name, e.label, e.description) for e in ENGINE_INFO]
LABELS = {name: label for name, label, _ in ENGINES}
MAX_SEED = 2**31 - 1


def layer_name(engine: str) -> str:
    return f"Inpaint ({LABELS.get(engine, engine)})"


class InpaintPanel(QWidget):
    TITLE = "Inpaint"

    def __init__(self, controller: AiController, window: MainWindow) -> None:
        super().__init__()
        self.controller = controller
        self.window = window
        self.doc: Document | None = None
        self.task: asyncio.Task | None = None
        self.has_mask = False
        self._restart = False  # a stroke ended while a fill ran: fill again once it has stopped

        self.engine = QComboBox()
        self.engine.setObjectName("inpaint-engine")
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip("Another seed gives another plausible fill (PatchMatch)")
        self.models_button = QPushButton("Models…")
        self.models_button.setToolTip("LaMa's weights come from the model store")
        self.models_button.clicked.connect(window.show_models)
        self.engine_note = QLabel()
        self.engine_note.setWordWrap(True)
        self.engine_note.setStyleSheet("color: #b9770e")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.fill_button = QPushButton("Fill")
        self.fill_button.setObjectName("inpaint-fill")
        self.fill_button.setToolTip("Fill the painted area (Enter on the canvas)")
        self.fill_button.clicked.connect(self.start_fill)
        self.on_release = QCheckBox("Fill on release")
        self.on_release.setObjectName("inpaint-on-release")
        self.on_release.setToolTip("Fill as soon as a mask stroke ends; a new stroke restarts the fill")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)

        engine_row = QHBoxLayout()
        engine_row.addWidget(self.engine, 1)
        engine_row.addWidget(self.models_button)
        form = QFormLayout()
        form.addRow("Engine", engine_row)
        form.addRow("", self.engine_note)
        form.addRow("Seed", self.seed)
        form.addRow("", self.on_release)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.fill_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(form)
        lay.addWidget(self.hint)
        lay.addLayout(buttons)
        lay.addStretch(1)

        # Enter fills while a canvas (any tab) has the focus; the Fill button is the panel's own way
        self.fill_action = QAction("Fill", window.tabs)
        self.fill_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        self.fill_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.fill_action.triggered.connect(self.start_fill)
        window.tabs.addAction(self.fill_action)

        controller.add_panel(self.TITLE, self)
        controller.param_choices[TASK] = {"engine": [(name, label) for name, label, _ in ENGINES]}
        controller.register_rerun(TASK, controller.default_rebuild,
                                  name_for=lambda req, _res: layer_name(str(req.params.get("engine"))))
        controller.busy_changed.connect(lambda _b: self._refresh())
        self.engine.currentIndexChanged.connect(lambda _i: self._refresh())
        window.active_document_changed.connect(self.set_document)
        window.mask_stroke.connect(self._on_mask_stroke)
        if controller.runner is not None:
            controller.runner.jobChanged.connect(self._on_job)
        self.refresh_engines()
        self.set_document(window.current_doc())

    # --- state ------------------------------------------------------------------------------------

    def refresh_engines(self) -> None:
        """List the engines; LaMa is offered only when its weights are installed."""
        current = self.engine.currentData() or DEFAULT_ENGINE
        lama = self._lama_status()
        self.engine.blockSignals(True)
        self.engine.clear()
        for name, _label, text in ENGINES:
            if name == "lama" and lama:
                text = f"LaMa — {lama}"
            self.engine.addItem(text, name)
            if name == "lama" and lama:
                item = self.engine.model().item(self.engine.count() - 1)
                item.setEnabled(False)
                item.setToolTip(f"LaMa is {lama}: get it in AI → Models…")
        self.engine.setCurrentIndex(max(0, self.engine.findData(current)) if current != "lama" or not lama
                                    else 0)
        self.engine.blockSignals(False)
        self.engine_note.setText(f"LaMa: {lama} — Models…" if lama else "")
        self.engine_note.setVisible(bool(lama))
        self._refresh()

    def _lama_status(self) -> str:
        """'' when LaMa is installed, else the short reason ('not installed', 'damaged', …)."""
        store = self.controller.store
        if store is None:
            return "not available"
        try:
            info = store.get(LAMA_MODEL_ID)
        except LucidError:
            return "not available"
        if info.installed:
            return ""
        return "damaged" if info.status.value == "corrupt" else "not installed"

    def _on_job(self, job: Job) -> None:
        if job.request.task in (FETCH_TASK, IMPORT_TASK) and job.state.finished:
            self.refresh_engines()

    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            self.doc.events.selection.disconnect(self._on_selection)
        self.doc = doc
        if doc is not None:
            doc.events.selection.connect(self._on_selection)
        self.has_mask = doc is not None and bool(doc.selection.any())
        self._refresh()

    def _on_selection(self, rect: Rect) -> None:
        doc = self.doc
        if doc is None:
            return
        if bool(doc.selection[rect.intersect(doc.rect).slices()].any()):
            has = True
        else:  # erased or cleared: only then look at the whole mask
            has = bool(doc.selection.any()) if self.has_mask else False
        if has != self.has_mask:
            self.has_mask = has
            self._refresh()

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def _refresh(self) -> None:
        ready = self.doc is not None and self.has_mask and self.controller.available and not self.running
        self.fill_button.setEnabled(ready)
        self.fill_action.setEnabled(ready)
        self.cancel_button.setVisible(self.running)
        if not self.controller.available:
            text = "The AI tools are not available in this session."
        elif self.doc is None:
            text = "Open a photo first."
        elif self.running:
            text = "Filling… (progress in the Jobs panel)"
        elif not self.has_mask:
            text = "Paint over what to remove with the mask brush (B), then press Enter or Fill."
        else:
            text = "Press Enter or Fill. The fill becomes a new layer; its mask stays editable."
        self.hint.setText(text)

    # --- filling ----------------------------------------------------------------------------------

    def start_fill(self) -> asyncio.Task | None:
        """Fill button / Enter: start the job (returns the asyncio task, None if nothing to do)."""
        if self.running:
            return None
        doc = self.window.current_doc()
        if doc is None:
            return None
        if not self._has_mask(doc):
            self.window.show_message("Paint the area to fill with the mask brush (B) first.")
            return None
        self.task = self.controller.spawn(self.fill(doc, str(self.engine.currentData()), self.seed.value()))
        self.task.add_done_callback(lambda _t: self._fill_done())
        self._refresh()
        return self.task

    def cancel(self) -> None:
        if self.running:
            self.task.cancel()

    def _on_mask_stroke(self, doc: Document, what: str) -> None:
        """Fill on release: a stroke's start cancels a running fill, its end (re)starts the fill."""
        if not self.on_release.isChecked() or doc is not self.window.current_doc():
            return
        if what == "started":
            self._restart = False
            self.cancel()
        elif what == "finished" and self.has_mask:
            if self.running:  # the stroke began before this fill did: restart once it has stopped
                self._restart = True
                self.cancel()
            else:
                self.start_fill()

    def _fill_done(self) -> None:
        self._refresh()
        if self._restart:
            self._restart = False
            if self.has_mask:
                self.start_fill()

    def _has_mask(self, doc: Document) -> bool:
        """Whether `doc` has a selection: kept up to date for the panel's document (a 24 MP scan, even
        one that stops early, costs the GUI tens of milliseconds)."""
        return self.has_mask if doc is self.doc else self.controller.has_selection(doc)

    def build_request(self, doc: Document, engine: str, seed: int) -> Request:
        """Frozen, lazy sources (no pixels rendered here): the worker renders only the box around the
        mask that the fill reads (the task's `plan_region`)."""
        if not self._has_mask(doc):
            raise LucidError("Paint the area to fill with the mask brush (B) first.")
        mask = selection_later(doc)
        return Request(task=TASK, image=self.controller.snapshot(doc, "composite"), mask=mask,
                       params={"engine": engine}, model_id=LAMA_MODEL_ID if engine == "lama" else None,
                       seed=int(seed), output_dtype=np.dtype(doc.dtype).name)

    async def fill(self, doc: Document, engine: str = DEFAULT_ENGINE, seed: int = 0, *,
                   request: Request | None = None) -> ResultLayer | None:
        """Run the fill on a snapshot of `doc`; on success add the result layer and clear the selection
        (one undo step). Cancelled or failed: the document is unchanged. `request` replaces the one
        built from engine and seed (tests, automation)."""
        request = request or self.build_request(doc, engine, seed)
        sources = self.controller.source_ids(doc, "composite")
        edits: list[Rect] = []  # selection changes while the job runs
        doc.events.selection.connect(edits.append)
        try:
            result = await self.controller.run(request)
        except asyncio.CancelledError:
            self.window.show_message("Fill cancelled — nothing was changed.")
            return None
        finally:
            doc.events.selection.disconnect(edits.append)
        if result is None or not self.controller.is_open(doc):
            return None
        return self.apply(doc, request, result, sources, selection_kept=not edits)

    def apply(self, doc: Document, request: Request, result: Result, sources: list[str], *,
              selection_kept: bool = False) -> ResultLayer:
        """Add the result layer and clear the selection (one step). `selection_kept`: the selection is
        the one the job read, which lies inside the job's region, so only that box is cleared."""
        engine = str(request.params.get("engine"))
        recipe = self.controller.recipe_for(request, result, source_ids=sources)
        name = layer_name(engine)
        top = doc.layers[-1] if doc.layers else None
        mask: Any = result.mask if result.mask is not None else request.mask
        x, y = request.region[:2] if request.region is not None else (0, 0)
        with doc.group(name):  # the result covers request.region: the fill's box, not the canvas
            layer = self.controller.add_result_layer(doc, result.image, name=name, recipe=recipe,
                                                     mask=np.asarray(mask, np.float32), above=top,
                                                     offset=(x, y))
            region = Rect(*request.region) if selection_kept and request.region is not None else None
            doc.clear_selection(within=region)
        self.window.show_message(f"{name}: done. Re-run from the Layers panel for another seed or engine.")
        return layer
