"""The one place AI tools meet the document: snapshots in, jobs through the runner, result layers out.

Why one controller: every tool (inpaint, matte, obstruction, latent, upscale) needs the same four
things — a copy of the pixels to send, a job that shows in the Jobs panel and can be cancelled, an
error shown as a message, and an undoable result layer with its recipe — and "Re-run" must work the
same for all of them. Panels own their widgets and parameters; this class owns the plumbing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget

from editor import __version__
from editor.core.blend import BlendMode
from editor.core.document import Document, Metadata
from editor.core.errors import LucidError
from editor.core.geometry import Rect
from editor.core.layers import GroupLayer, Layer, PixelLayer, ResultLayer
from editor.core.pixels import layer_pixels
from editor.core.recipe import Recipe
from editor.core.snapshot import (
    LayersRender,
    MaskRender,
    layer_mask_later,
    render_layer_later,
    render_layers_later,
    selection_later,
)
from editor.infer.api import Cancelled, Request, Result
from editor.ui.jobs import JobRunner

if TYPE_CHECKING:
    from editor.infer.store import ModelStore
    from editor.ui.main_window import MainWindow

Rebuild = Callable[[Document, ResultLayer], "Request | None"]
NameFor = Callable[[Request, Result], str]


@dataclass
class _RerunHook:
    rebuild: Rebuild
    name_for: NameFor | None = None


class AiController(QObject):
    """One per MainWindow: runs AI requests as jobs and turns results into undoable result layers."""

    result_added = Signal(object, object)  # (Document, ResultLayer) after a result layer was added
    result_replaced = Signal(object, object)  # (Document, ResultLayer) after a re-run replaced its pixels
    busy_changed = Signal(bool)  # any job of this controller running

    def __init__(self, window: MainWindow, runner: JobRunner | None, store: ModelStore | None) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.store = store
        self._hooks: dict[str, _RerunHook] = {}
        self._running = 0
        self.dock: QDockWidget | None = None
        self.dock_tabs: QTabWidget | None = None
        self.panels: dict[str, QWidget] = {}
        self.panel_failures: dict[str, BaseException] = {}  # registered panels that could not be built
        # choices the Re-run dialog offers per task and parameter: {task: {param: [(value, label)]}}
        self.param_choices: dict[str, dict[str, list[tuple[Any, str]]]] = {}
        self.tasks: set[asyncio.Task] = set()
        # asks which seed/engine/… to re-run with; {} = as before, None = cancelled (tests replace it)
        self.ask_rerun: Callable[[ResultLayer], dict[str, Any] | None] = self._ask_rerun

    # --- pixels out -------------------------------------------------------------------------------

    def snapshot(self, doc: Document, what: str = "composite", channels: int = 4) -> LayersRender:
        """What to send: a frozen, lazy H×W×`channels` float32 (straight alpha) canvas image.

        Taking it copies no pixels (copy-on-write, `editor.core.snapshot`), so it is instant on a 24 MP
        photo; the worker renders it (only the region the task reads), and edits the user makes in the
        meantime never reach it. "composite": what the canvas shows. "active": the active pixel
        layer's own pixels (no mask, opacity or blend mode), placed at its offset on a transparent canvas.
        """
        if what == "composite":
            return self.render_layers(doc, [layer for layer in doc.layers if layer.visible], channels)
        if what == "active":
            layer = doc.active_layer
            if not isinstance(layer, PixelLayer):
                raise LucidError("Select a pixel layer first.")
            return render_layer_later(doc, layer, channels)
        raise ValueError(f"snapshot of {what!r}: use 'composite' or 'active'")

    @staticmethod
    def render_layers(doc: Document, layers: list[Layer], channels: int = 4) -> LayersRender:
        """The composite of `layers` (bottom first) over the canvas, frozen now and rendered on the worker."""
        return render_layers_later(doc, layers, channels)

    @staticmethod
    def has_selection(doc: Document) -> bool:
        """Whether anything is selected; stops at the first selected band (no full pass, no copy)."""
        sel = doc.selection
        return any(float(sel[y : y + 256].max()) > 0 for y in range(0, sel.shape[0], 256))

    def selection_mask(self, doc: Document) -> MaskRender | None:
        """The selection (1 = selected) as a frozen, lazy float32 canvas mask, or None when nothing is
        selected. `.render()` gives an array where one is needed on the GUI thread."""
        return selection_later(doc) if self.has_selection(doc) else None

    @staticmethod
    def source_ids(doc: Document, what: str = "composite") -> list[str]:
        """Ids of the layers a snapshot of `what` was taken from (for the recipe)."""
        if what == "active":
            return [doc.active_layer.id] if doc.active_layer is not None else []
        return [layer.id for layer in doc.layers if layer.visible]

    # --- jobs -------------------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        return self.runner is not None

    @property
    def busy(self) -> bool:
        return self._running > 0

    async def run(self, request: Request) -> Result | None:
        """Submit via the runner and await the result (progress shows in the Jobs panel).

        Cancelled → None (nothing changed). A LucidError is shown with `window.prompts.error` → None.
        """
        if self.runner is None:
            self.window.prompts.error("The AI tools are not available: no inference service is running.")
            return None
        self._set_running(+1)
        try:
            return await self.runner.run(request)
        except Cancelled:
            self.window.show_message("Cancelled — nothing was changed.")
            return None
        except LucidError as exc:
            self.window.prompts.error(exc.message, exc.detail)
            return None
        finally:
            self._set_running(-1)

    async def run_packing(self, request: Request,
                          pack: Callable[[], Any] | None) -> tuple[Result | None, Any]:
        """`run`, with `pack()` (e.g. zlib of a 24 MP selection for the recipe: a third of a second) done
        on a helper thread meanwhile instead of on the GUI thread before submitting. → (result, packed)."""
        if pack is None:
            return await self.run(request), None
        with ThreadPoolExecutor(1, thread_name_prefix="lucid-pack") as pool:
            packing = asyncio.wrap_future(pool.submit(pack))
            result = await self.run(request)
            return result, await packing

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task | None:
        """Start a coroutine from a Qt slot on the app's asyncio loop (qasync); keeps a reference."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        task = loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:  # a bug in a tool's handler: say so instead of losing it in the loop
            import traceback

            detail = "".join(traceback.format_exception(exc))
            message = exc.message if isinstance(exc, LucidError) else f"The AI tool failed: {exc}"
            self.window.prompts.error(message, detail)

    def _set_running(self, delta: int) -> None:
        before = self.busy
        self._running += delta
        if self.busy != before:
            self.busy_changed.emit(self.busy)

    def is_open(self, doc: Document) -> bool:
        """False once the document's tab was closed (a job that finishes later must not touch it)."""
        return any(d is doc for d in self.window.documents())

    # --- results in -------------------------------------------------------------------------------

    def recipe_for(self, request: Request, result: Result | None = None, *,
                   source_ids: list[str] | None = None, params: dict[str, Any] | None = None) -> Recipe:
        """A recipe from the request (and facts the task reported): task, params, seed, model id + sha256."""
        model_id = request.model_id or (result.info.get("model_id") if result is not None else None)
        return Recipe(
            task=request.task,
            params=dict(request.params if params is None else params),
            model_id=model_id,
            model_sha256=self.model_sha256(model_id),
            source_layer_ids=list(source_ids or []),
            seed=request.seed,
            app_version=__version__,
        )

    def model_sha256(self, model_id: str | None) -> str | None:
        """sha256 of the installed model file (cached by the store), or None."""
        if not model_id or self.store is None:
            return None
        try:
            return self.store.sha256(self.store.path(model_id))
        except (LucidError, OSError):
            return None

    def add_result_layer(
        self,
        doc: Document,
        result_image: np.ndarray,
        *,
        name: str,
        recipe: Recipe,
        mask: np.ndarray | None = None,
        blend_mode: BlendMode = BlendMode.NORMAL,
        visible: bool = True,
        above: Layer | None = None,
        offset: tuple[int, int] = (0, 0),
    ) -> ResultLayer:
        """Add the result as a new layer (float → the document's depth) and make it active: one undo step.

        Placed just above `above` (default: the active top-level layer; on top if none). `mask`
        defaults to all ones. Call inside `doc.group(...)` to fold more changes into the same step.
        """
        pixels = self.to_doc_pixels(doc, result_image)
        h, w = pixels.shape[:2]
        if mask is None:
            mask = np.ones((h, w), np.float32)  # (no clip: a second 96 MB pass for a 24 MP result)
        else:
            mask = np.clip(np.asarray(mask, np.float32), 0.0, 1.0)
        if mask.shape != (h, w):
            raise LucidError(f"The result's mask is {mask.shape[1]}×{mask.shape[0]}, its image {w}×{h}.")
        layer = ResultLayer(name, pixels, mask, recipe, blend_mode=blend_mode, visible=visible, offset=offset)
        parent, index = self._place(doc, above)
        with doc.group(f"Add “{name}”"):
            doc.add_layer(layer, index, parent)
            doc.active_layer = layer
        self.result_added.emit(doc, layer)
        return layer

    @staticmethod
    def to_doc_pixels(doc: Document, image: np.ndarray) -> np.ndarray:
        """Float (or integer) gray/RGB/RGBA → H×W×4 in the document's dtype (16-bit stays 16-bit); already
        that (`Request.output_dtype`: converted on the worker) → as it is."""
        return layer_pixels(image, doc.dtype)

    @staticmethod
    def _place(doc: Document, above: Layer | None) -> tuple[GroupLayer | None, int | None]:
        ref = above if above is not None else doc.active_layer
        if ref is None or not doc.contains(ref):
            return None, None
        parent = doc.parent_of(ref)
        return parent, parent.children.index(ref) + 1

    # --- re-run -----------------------------------------------------------------------------------

    def register_rerun(self, task: str, rebuild: Rebuild, *, name_for: NameFor | None = None) -> None:
        """Per-task hook that rebuilds a request from a result layer (None = cannot, already explained).

        `name_for(request, result)`, if given, renames the layer after a re-run (e.g. another engine).
        """
        self._hooks[task] = _RerunHook(rebuild, name_for)

    def default_rebuild(self, doc: Document, layer: ResultLayer) -> Request:
        """Recipe params + the source layers as they are now (composited) + the layer's current mask,
        over the layer's box on the canvas (the result must fit the layer again), rendered on the worker."""
        recipe = layer.recipe
        sources = self.source_layers(doc, layer)
        area = layer.bounds.intersect(doc.rect)
        if area.empty:
            raise LucidError(f"“{layer.name}” lies outside the canvas; there is nothing to re-run.")
        return Request(task=recipe.task, image=self.render_layers(doc, sources),
                       mask=layer_mask_later(doc, layer), region=(area.x, area.y, area.w, area.h),
                       params=dict(recipe.params), model_id=recipe.model_id, seed=recipe.seed)

    @staticmethod
    def source_layers(doc: Document, layer: ResultLayer) -> list[Layer]:
        """The recipe's source layers still in the document, in stacking order; if none remain, the
        visible top-level layers below `layer`."""
        wanted = set(layer.recipe.source_layer_ids)
        found = [item for item in doc.layers if item.id in wanted and item is not layer]
        if found:
            return found
        top = layer
        while top not in doc.layers:
            top = doc.parent_of(top)
        return [item for item in doc.layers[: doc.layers.index(top)] if item.visible]

    def _ask_rerun(self, layer: ResultLayer) -> dict[str, Any] | None:
        from editor.ui.ai.rerun_dialog import RerunDialog

        dlg = RerunDialog(layer, self.param_choices.get(layer.recipe.task, {}), self.window)
        try:
            return dlg.overrides() if dlg.exec() else None
        finally:
            dlg.deleteLater()

    async def rerun(self, doc: Document, layer: ResultLayer, **overrides: Any) -> ResultLayer | None:
        """Resubmit from the recipe (overrides: seed, model_id, or any param such as engine), then replace
        the layer's pixels and recipe in one undo step; its mask is kept."""
        hook = self._hooks.get(layer.recipe.task)
        try:
            request = hook.rebuild(doc, layer) if hook is not None else self.default_rebuild(doc, layer)
        except LucidError as exc:
            self.window.prompts.error(exc.message, exc.detail)
            return None
        if request is None:
            return None
        request.output_dtype = np.dtype(doc.dtype).name  # the new pixels converted on the worker
        for key, value in overrides.items():
            if key == "seed":
                request.seed = None if value is None else int(value)
            elif key == "model_id":
                request.model_id = value
            else:
                request.params[key] = value
        result = await self.run(request)
        if result is None or not self.is_open(doc) or not doc.contains(layer):
            return None
        pixels = self.to_doc_pixels(doc, result.image)
        if pixels.shape != layer.pixels.shape:
            self.window.prompts.error(
                f"The re-run made a {pixels.shape[1]}×{pixels.shape[0]} image, but the layer is "
                f"{layer.width}×{layer.height}; nothing was changed.")
            return None
        recipe = self.recipe_for(request, result, source_ids=list(layer.recipe.source_layer_ids))
        namer = hook.name_for if hook is not None else None
        name = namer(request, result) if namer is not None else layer.name
        with doc.group(f"Re-run “{layer.name}”"):
            doc.paste(layer, "pixels", Rect(0, 0, layer.width, layer.height), pixels, "Re-run pixels")
            doc.set_recipe(layer, recipe)
            if name != layer.name:
                doc.set_property(layer, "name", name)
        self.result_replaced.emit(doc, layer)
        return layer

    # --- new documents ----------------------------------------------------------------------------

    def open_as_new_document(self, image: np.ndarray, *, depth: int, name: str,
                             metadata: Metadata | None = None) -> Document:
        """Open `image` (float or integer, gray/RGB/RGBA) as a new untitled document in its own tab."""
        h, w = np.asarray(image).shape[:2]
        doc = Document(w, h, depth=depth, metadata=metadata)
        layer = PixelLayer(name, self.to_doc_pixels(doc, image))
        doc.root.children.append(layer)  # the starting state, as when opening a file (not undoable)
        doc.active_layer = layer
        doc.modified = True  # never saved: closing it asks
        self.window.add_document(doc)
        return doc

    # --- panels -----------------------------------------------------------------------------------

    def add_panel(self, title: str, widget: QWidget) -> None:
        """Add a tool panel as a tab of the AI dock, and an AI-menu entry that raises it."""
        from PySide6.QtCore import Qt

        if self.dock is None:
            self.dock_tabs = QTabWidget()
            self.dock_tabs.setDocumentMode(True)
            self.dock = self.window.add_dock("AI", self.dock_tabs, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.dock_tabs.addTab(widget, title)
        self.panels[title] = widget
        menu = getattr(self.window, "ai_tools_menu", None) or getattr(self.window, "ai_menu", None)
        if menu is not None:
            action = menu.addAction(title, lambda w=widget: self.show_panel(w))
            action.setObjectName(f"ai-panel-{title.lower().replace(' ', '-')}")

    def show_panel(self, widget: QWidget) -> None:
        if self.dock is None or self.dock_tabs is None:
            return
        self.dock.show()
        self.dock.raise_()
        self.dock_tabs.setCurrentWidget(widget)
