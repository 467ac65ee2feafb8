"""Obstruction panel: see through fences and reflections from a burst, or fill a brushed obstruction.

Burst mode (File → Open Burst…, the panel's button, or dropping the frames on the panel): the
reference frame opens as the document (or is found among the open ones) and the job adds two result
layers above it — "Background" (clean) and "Obstruction" (an alpha layer for opaque kinds, `svg:plus`
for reflections; hidden by default) — so the user can paint parts back through the Background layer's
mask.

Single-image mode: the selection marks the obstruction; task "obstruction" fills it (the inpainting
engine underneath) into one result layer that applies through the selection.

Re-run: the recipe names every frame by path + sha256 (a changed frame is refused); re-running either
burst layer recomputes both, as one undo step.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor.core.blend import BlendMode
from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.geometry import Rect
from editor.core.layers import ResultLayer
from editor.core.recipe import Recipe
from editor.infer.api import Request, Result
from editor.infer.inpaint.catalog import ENGINE_INFO
from editor.infer.obstruction.burst import prepare_burst
from editor.ui.ai.burst_dialog import Burst, BurstDialog
from editor.ui.ai.inputs import reload_input_image
from editor.ui.ai.panel_layout import scroll_body
from editor.ui.dnd import accept_file_drag, take_dropped_files

if TYPE_CHECKING:
    from editor.ui.ai.controller import AiController
    from editor.ui.main_window import MainWindow

TASK = "obstruction"


class ObstructionPanel(QWidget):
    TITLE = "Obstruction"

    def __init__(self, controller: AiController, window: MainWindow) -> None:
        super().__init__()
        self.controller = controller
        self.window = window
        self.dialog: BurstDialog | None = None

        self.open_button = QPushButton("Open burst…")
        self.open_button.setToolTip("3–7 photos of the scene, the camera moved a little between them")
        self.open_button.clicked.connect(self.open_burst)
        burst = QGroupBox("Burst")
        bl = QVBoxLayout(burst)
        text = QLabel("Background and obstruction move differently when the camera moves: a few frames "
                      "let Lucid see through fences, wires and reflections.")
        text.setWordWrap(True)
        bl.addWidget(text)
        bl.addWidget(self.open_button)

        self.engine = QComboBox()
        for e in ENGINE_INFO:  # the engines that fill the holes the obstruction leaves
            self.engine.addItem(e.description, e.name)
        self.single_button = QPushButton("Remove brushed obstruction")
        self.single_button.setToolTip("Brush the obstruction as the mask (selection) first")
        self.single_button.clicked.connect(lambda: self.controller.spawn(self.remove_brushed()))
        single = QGroupBox("Single photo")
        sl = QFormLayout(single)
        sl.addRow(QLabel("Brush the obstruction as the mask, then fill it."))
        sl.addRow("Fill with", self.engine)
        sl.addRow(self.single_button)

        lay = scroll_body(self)
        lay.addWidget(burst)
        lay.addWidget(single)
        lay.addStretch(1)

        self.menu_action = self._add_file_menu_entry()
        controller.register_rerun(TASK, self.rebuild)
        window.active_document_changed.connect(lambda doc: self.single_button.setEnabled(doc is not None))
        self.single_button.setEnabled(window.current_doc() is not None)
        self.setAcceptDrops(True)  # dropped frames start a burst (the window would open them as tabs)
        controller.add_panel(self.TITLE, self)

    def _add_file_menu_entry(self) -> QAction | None:
        """File → Open Burst…, just below File → Open… (added from here so the tool stays in one place)."""
        opener = self.window.actions.get("open")
        for top in self.window.menuBar().actions():
            menu = top.menu()
            if menu is not None and opener in menu.actions():
                action = QAction("Open &Burst…", self.window)
                action.setObjectName("open-burst")
                action.triggered.connect(self.open_burst)
                items = menu.actions()
                after = items.index(opener) + 1
                menu.insertAction(items[after] if after < len(items) else None, action)
                return action
        return None

    # -- burst -------------------------------------------------------------------------------------
    def open_burst(self) -> None:
        doc = self.window.current_doc()
        start = doc.path.parent if doc is not None and doc.path else None
        self.show_burst_dialog(self.window.prompts.open_paths(start))

    def show_burst_dialog(self, paths: list[Path]) -> None:
        """The Open Burst dialog on `paths` (it checks them and shows any problem before a job)."""
        if not paths:
            return
        doc = self.window.current_doc()
        start = doc.path.parent if doc is not None and doc.path else paths[0].parent
        if self.dialog is not None:  # a second drop replaces the frames of the dialog already open
            self.dialog.set_paths(paths)
            return
        self.dialog = BurstDialog(paths, lambda: self.window.prompts.open_paths(start), self.window)
        self.dialog.finished.connect(self._dialog_finished)
        self.dialog.open()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        accept_file_drag(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        accept_file_drag(event)

    def dropEvent(self, event: QDropEvent) -> None:
        """Frames dropped on the panel open the Open Burst dialog with them (reference: the middle one)."""
        self.show_burst_dialog(take_dropped_files(event))

    def _dialog_finished(self, code: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is None:
            return
        burst = dialog.burst() if code == QDialog.DialogCode.Accepted else None
        dialog.deleteLater()
        if burst is not None:
            self.controller.spawn(self.remove_obstruction(burst))

    def _reference_document(self, burst: Burst) -> Document | None:
        return self.window.open_path(burst.paths[burst.reference])

    async def remove_obstruction(self, burst: Burst, doc: Document | None = None) -> tuple[ResultLayer, ...]:
        """Run the burst job; add "Background" and "Obstruction" above the reference photo."""
        doc = doc or self._reference_document(burst)
        if doc is None:
            return ()
        h, w = burst.frames.shape[1:3]
        if (doc.width, doc.height) != (w, h):
            raise LucidError(f"The burst is {w}×{h} but the document is {doc.width}×{doc.height}.")
        params = {"kind": burst.kind, "reference": burst.reference, "frames": burst.files}
        request = Request(task=TASK, params=params, inputs={"frames": burst.frames})
        result = await self.controller.run(request)
        if result is None or not self.controller.is_open(doc):
            return ()
        params = {**params, "kind_found": result.info.get("kind", burst.kind), "burst": uuid.uuid4().hex[:12]}
        recipe = self.controller.recipe_for(request, result, params=params,
                                            source_ids=[x.id for x in doc.layers if x.visible])
        with doc.group("Remove obstruction"):
            top = doc.layers[-1] if doc.layers else None
            bg = self.controller.add_result_layer(doc, result.image, name="Background",
                                                  recipe=_for_output(recipe, "image"), above=top)
            obs = self.controller.add_result_layer(
                doc, result.images["obstruction"], name="Obstruction",
                recipe=_for_output(recipe, "obstruction"), above=bg,
                blend_mode=obstruction_blend(result), visible=False)
            doc.active_layer = bg
        self.window.show_message(f"Obstruction removed ({params['kind_found']}); "
                                 "the Obstruction layer is hidden — show it to compare or paint parts back.")
        return bg, obs

    # -- single image ------------------------------------------------------------------------------
    async def remove_brushed(self) -> ResultLayer | None:
        doc = self.window.current_doc()
        if doc is None:
            return None
        mask = self.controller.selection_mask(doc)
        if mask is None:
            self.window.prompts.error("Brush the obstruction as the mask first (mask brush or lasso).")
            return None
        sources = [x for x in doc.layers if x.visible]
        request = Request(task=TASK, image=self.controller.render_layers(doc, sources), mask=mask,
                          params={"engine": self.engine.currentData()}, seed=0,
                          output_dtype=np.dtype(doc.dtype).name)
        result = await self.controller.run(request)
        if result is None or not self.controller.is_open(doc):
            return None
        recipe = self.controller.recipe_for(request, result, source_ids=[s.id for s in sources])
        return self.controller.add_result_layer(doc, result.image, name="Obstruction removed", recipe=recipe,
                                                mask=request.mask)  # rendered by the worker

    # -- re-run ------------------------------------------------------------------------------------
    def rebuild(self, doc: Document, layer: ResultLayer) -> Request | None:
        """Brushed: the controller's default re-run. Burst: both layers are re-made here (None tells the
        controller there is nothing more for it to do)."""
        params = layer.recipe.params
        if not params.get("frames"):
            return self.controller.default_rebuild(doc, layer)
        frames = [reload_input_image(f, f"burst frame {i + 1}").rgb for i, f in enumerate(params["frames"])]
        stack, _ = prepare_burst(frames, params.get("reference"))
        kept = {k: params[k] for k in ("kind", "reference", "frames") if k in params}
        request = Request(task=TASK, params=kept, inputs={"frames": stack})
        burst_id = params.get("burst")
        pair = [x for x in doc.all_layers() if isinstance(x, ResultLayer) and x.recipe.task == TASK
                and (x is layer or (burst_id and x.recipe.params.get("burst") == burst_id))]
        self.controller.spawn(self._rerun_burst(doc, request, pair))
        return None

    async def _rerun_burst(self, doc: Document, request: Request, layers: list[ResultLayer]) -> bool:
        result = await self.controller.run(request)
        if result is None or not self.controller.is_open(doc):
            return False
        burst_id = layers[0].recipe.params.get("burst") if layers else None
        params = {**request.params, "kind_found": result.info.get("kind", request.params.get("kind")),
                  "burst": burst_id or uuid.uuid4().hex[:12]}
        sources = list(layers[0].recipe.source_layer_ids) if layers else []
        recipe = self.controller.recipe_for(request, result, params=params, source_ids=sources)
        with doc.group("Re-run obstruction removal"):
            for layer in layers:
                if not doc.contains(layer):
                    continue
                key = layer.recipe.params.get("output", "image")
                pixels = self.controller.to_doc_pixels(doc, result.images[key])
                doc.paste(layer, "pixels", Rect(0, 0, layer.width, layer.height), pixels, "Re-run pixels")
                doc.set_recipe(layer, _for_output(recipe, key))
                if key == "obstruction":
                    doc.set_property(layer, "blend_mode", obstruction_blend(result))
        return True


def _for_output(recipe: Recipe, output: str) -> Recipe:
    """Each burst layer gets its own recipe copy naming which output it holds."""
    out = copy.deepcopy(recipe)
    out.params["output"] = output
    return out


def obstruction_blend(result: Result) -> BlendMode:
    """svg:plus for reflections (additive light), normal for opaque obstructions (as the task reports)."""
    return BlendMode(result.info.get("obstruction_blend", BlendMode.NORMAL.value))
