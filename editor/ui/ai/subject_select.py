"""Select → Subject / Person / Refine, and the one-click subject cut-out the Matte panel offers.

Each command snapshots the visible image (and the selection), runs a task on the worker as a job
(`segment`, `refine`, `cutout`), and applies the answer as one undo step: the mask becomes the
selection — Shift held when choosing the command adds to it, Alt subtracts — or the cut-out becomes
a result layer whose recipe (selection included, compressed) re-runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QGuiApplication

from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.layers import ResultLayer
from editor.infer.api import Request
from editor.infer.subject import installed_subject_model
from editor.ui.ai.inputs import shown_as_is
from editor.ui.ai.trimap_tool import decode_codes, encode_codes
from editor.ui.tools import selection_mode

if TYPE_CHECKING:
    from editor.ui.ai.controller import AiController
    from editor.ui.main_window import MainWindow

KINDS = {"auto": "Subject", "person": "Person"}


class SubjectSelect(QObject):
    """Owns the Select-menu commands; one per window (built by `ai.wiring.install`)."""

    def __init__(self, controller: AiController, window: MainWindow) -> None:
        super().__init__(window)
        self.controller = controller
        self.window = window
        self.actions: dict[str, QAction] = {}
        menu = getattr(window, "select_menu", None)
        if menu is not None:
            menu.addSeparator()
            for kind, text in KINDS.items():
                self.actions[kind] = self._action(
                    menu, f"{text}", lambda k=kind: self.controller.spawn(self.select(k, self._mode()))
                )
            self.actions["refine"] = self._action(
                menu, "Refine to Subject", lambda: self.controller.spawn(self.refine())
            )
            menu.aboutToShow.connect(self.refresh)
        controller.register_rerun("cutout", self.rebuild)
        self.refresh()

    def _action(self, menu: Any, text: str, slot: Any) -> QAction:
        a = QAction(text, self.window)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    @staticmethod
    def _mode() -> str:
        return selection_mode(QGuiApplication.queryKeyboardModifiers())

    def model_for(self, kind: str) -> str | None:
        """The installed model serving `kind` ("auto" / "person"), else None."""
        return installed_subject_model(self.controller.store, kind)

    def refresh(self) -> None:
        for kind, text in KINDS.items():
            a = self.actions.get(kind)
            if a is not None:
                ok = self.model_for(kind) is not None
                a.setEnabled(ok)
                a.setToolTip(
                    f"Select the {text.lower()} (Shift adds, Alt subtracts)"
                    if ok
                    else "Install the person model (AI → Models…) to select subjects in one click"
                )

    def _doc(self) -> Document | None:
        return self.window.current_doc()

    async def select(self, kind: str, mode: str = "replace") -> bool:
        """Run the subject model and combine its mask with the selection."""
        doc = self._doc()
        model = self.model_for(kind)
        if doc is None:
            return False
        if model is None:
            self.window.show_message(
                "No subject model is installed: AI → Models… → MediaPipe Selfie Segmentation."
            )
            return False
        request = Request(task="segment", image=self.controller.snapshot(doc, channels=3), model_id=model)
        result = await self.controller.run(request)
        if result is None or not self.controller.is_open(doc):
            return False
        doc.select_mask(np.asarray(result.images["mask"], np.float32), mode, f"Select {KINDS[kind].lower()}")
        return True

    async def refine(self) -> bool:
        """Tighten the current (rough) selection to the subject inside it: GrabCut, seeded by the subject
        model when one is installed."""
        doc = self._doc()
        if doc is None:
            return False
        sel = self.controller.selection_mask(doc)
        if sel is None:
            self.window.show_message("Draw a rough selection around the subject first (lasso or rectangle).")
            return False
        request = Request(
            task="refine",
            image=self.controller.snapshot(doc, channels=3),
            inputs={"selection": sel},
            model_id=self.model_for("auto"),
        )
        result = await self.controller.run(request)
        if result is None or not self.controller.is_open(doc):
            return False
        doc.select_mask(np.asarray(result.images["mask"], np.float32), "replace", "Refine selection")
        return True

    def cutout_request(self, doc: Document, band_px: int | None, engine: str = "cf") -> Request:
        """One-click cut-out of the visible image: the selection (if any) refined to the subject, else
        the subject model's mask; then trimap and closed-form matte (task "cutout")."""
        sel = self.controller.selection_mask(doc)
        model = self.model_for("auto")
        if sel is None and model is None:
            raise LucidError(
                "Select the subject roughly (lasso or rectangle), or install the person model "
                "(AI → Models…) to cut out in one click."
            )
        params: dict[str, Any] = {"engine": engine, "band_px": band_px}
        inputs = {}
        if sel is not None:
            inputs["selection"] = sel  # lazy; `cut_out` packs it for the recipe off the GUI thread
        sources = [layer for layer in doc.layers if layer.visible]
        image = self.controller.render_layers(doc, sources)
        return Request(task="cutout", image=image, inputs=inputs, params=params, model_id=model,
                       output_dtype=np.dtype(doc.dtype).name)

    async def cut_out(self, band_px: int | None = None, engine: str = "cf", hide_sources: bool = True):
        doc = self._doc()
        if doc is None:
            return None
        try:
            request = self.cutout_request(doc, band_px, engine)
        except LucidError as exc:
            self.window.prompts.error(exc.message)
            return None
        sources = [layer for layer in doc.layers if layer.visible]
        selection = request.inputs.get("selection")
        # the recipe keeps the selection: packing 24 MP (compare + zlib) took ~0.3 s of the GUI thread
        pack = None if selection is None else lambda: selection_codes(selection.mask)
        result, codes = await self.controller.run_packing(request, pack)
        if result is None or not self.controller.is_open(doc):
            return None
        if codes is not None:
            request.params["selection"] = codes
        recipe = self.controller.recipe_for(request, result, source_ids=[s.id for s in sources])
        with doc.group("Cut out subject"):
            layer = self.controller.add_result_layer(
                doc,
                result.image,
                name="Cut-out (subject)",
                recipe=recipe,
                above=sources[-1] if sources else None,
            )
            if hide_sources:
                for s in sources:
                    doc.set_property(s, "visible", False)
        return layer

    def rebuild(self, doc: Document, layer: ResultLayer) -> Request:
        """Re-run hook: the same cut-out from the recipe (its stored selection, engine and band), on the
        source layers even though the cut-out hid them."""
        recipe = layer.recipe
        params = dict(recipe.params)
        inputs = {}
        stored = params.get("selection")
        if stored is not None:
            sel = decode_codes(stored).astype(np.float32)
            if sel.shape != (doc.height, doc.width):
                raise LucidError("The document was resized since this cut-out was made; cut out again.")
            inputs["selection"] = sel
        image = self.controller.render_layers(doc, shown_as_is(self.controller.source_layers(doc, layer)))
        return Request(task="cutout", image=image, inputs=inputs, params=params, model_id=recipe.model_id)


def selection_codes(selection: np.ndarray) -> dict:
    """The selection (≥ 0.5 = inside) packed for a recipe; runs on a helper thread (zlib releases the GIL)."""
    return encode_codes((selection >= 0.5).astype(np.uint8))
