"""The main window: tabs of documents, docks, menus, status bar; file commands and drag-and-drop.

It owns no pixels and no document logic: commands call Document / editor.io, and views follow core
events. Questions to the user go through `prompts` so tests can answer them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QStackedWidget, QTabWidget, QWidget

from editor import __version__
from editor.core.budget import check_document
from editor.core.document import Document
from editor.core.errors import LucidError
from editor.core.layers import PixelLayer, ResultLayer
from editor.core.settings import Settings
from editor.io.icc import profile_name
from editor.ui.canvas.coords import pixel_index
from editor.ui.canvas.view import zoom_percent
from editor.ui.dnd import accept_file_drag, is_project, layer_from_file, take_dropped_files
from editor.ui.document_tab import DocumentTab
from editor.ui.menus import build_menus
from editor.ui.panels.history_panel import HistoryPanel
from editor.ui.panels.layers_panel import LayersPanel
from editor.ui.panels.tool_options import ToolOptionsPanel
from editor.ui.prompts import Prompts, QtPrompts
from editor.ui.tool_state import ToolState
from editor.ui.window_state import WindowState

EMPTY_HINT = "Drop photos or an .ora project here\n\nor use File → Open… (Ctrl+O)"
MIB = 1024 * 1024
DOCUMENT_ACTIONS = (  # enabled only while a document is open
    "save", "save_as", "export", "close", "zoom_in", "zoom_out", "fit", "actual", "show_mask", "before_after",
    "select_all", "select_none", "invert", "grow", "shrink", "feather",
    "new_layer", "duplicate", "delete", "merge_down", "flatten",
)


class MainWindow(QMainWindow):
    """`services`: the AI bundle (`editor.ui.ai.services.Services`: inference service, job runner, model
    store) built by `editor.app.build_services`; without it the AI menu stays disabled."""

    active_document_changed = Signal(object)  # Document | None
    document_closed = Signal(object)  # Document, after its tab closed (saved or discarded by the user)
    mask_stroke = Signal(object, str)  # (Document, "started" | "finished"): any canvas's mask brush

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        prompts: Prompts | None = None,
        window_state: WindowState | None = None,
        services: Any = None,
        on_settings_changed: Callable[[Settings], None] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.services = services
        self.prompts: Prompts = prompts or QtPrompts(self)
        self.window_state = window_state or WindowState()
        self._on_settings_changed = on_settings_changed
        self.tool_state = ToolState()
        self._told_non_ora: weakref.WeakSet[Document] = weakref.WeakSet()  # asked about Exclusion once
        self.setWindowTitle("Lucid")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(lambda i: self.close_tab(i))
        self.tabs.currentChanged.connect(self._on_current_tab)
        self.empty_page = QLabel(EMPTY_HINT)
        self.empty_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_page.setStyleSheet("color: #8a8f98; font-size: 15px; background: #3a3a3e;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_page)
        self.stack.addWidget(self.tabs)
        self.setCentralWidget(self.stack)

        self.layers_panel = LayersPanel()
        self.tool_options = ToolOptionsPanel(self.tool_state)
        self.history_panel = HistoryPanel()
        self.docks: dict[str, QDockWidget] = {}
        self.add_dock("Layers", self.layers_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.add_dock("History", self.history_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.add_dock("Tool Options", self.tool_options, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.layers_panel.edit_mask_requested.connect(self.edit_layer_mask)
        self.layers_panel.error.connect(self.show_message)
        self.tool_options.mask_command.connect(self.mask_command)

        self.status_zoom = QLabel()
        self.status_pos = QLabel()
        self.status_value = QLabel()
        self.status_size = QLabel()
        for w in (self.status_pos, self.status_value, self.status_zoom, self.status_size):
            w.setMinimumWidth(70)
            self.statusBar().addPermanentWidget(w)

        self.actions = build_menus(self)
        from editor.ui.adjust_wiring import install_finishing

        install_finishing(self)  # Image menu geometry, crop bar, Adjustments and Histogram docks
        self.ai = None  # AiController when services are wired
        if services is not None:
            from editor.ui.ai.wiring import install

            self.ai = install(self, services)
        self._restore_geometry()
        self._refresh()

    # -- docks (the integrator adds "Jobs" here) ---------------------------------------------------
    def add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """Add a dock panel; its toggle appears in View → Panels. Used for Jobs by the inference wiring."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower().replace(' ', '-')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        panels = getattr(self, "panels_menu", None)
        if panels is not None:
            panels.addAction(dock.toggleViewAction())
        return dock

    # -- documents and tabs ------------------------------------------------------------------------
    def documents(self) -> list[Document]:
        return [self.tabs.widget(i).doc for i in range(self.tabs.count())]

    def current_tab(self) -> DocumentTab | None:
        w = self.tabs.currentWidget()
        return w if isinstance(w, DocumentTab) else None

    def current_doc(self) -> Document | None:
        tab = self.current_tab()
        return tab.doc if tab else None

    def tab_for(self, doc: Document) -> DocumentTab | None:
        tabs = (self.tabs.widget(i) for i in range(self.tabs.count()))
        return next((t for t in tabs if t.doc is doc), None)

    def add_document(self, doc: Document) -> DocumentTab:
        doc.history.memory_cap = self.settings.undo_memory_mb * MIB
        tab = DocumentTab(doc, self.tool_state)
        view = tab.view
        view.zoom_changed.connect(lambda z, t=tab: self._on_zoom(t, z))
        view.cursor_moved.connect(lambda p, t=tab: self._on_cursor(t, p))
        view.files_dropped.connect(lambda paths, d=doc: self.drop_on_document(d, paths))
        view.message.connect(self.show_message)
        view.mask_stroke.connect(lambda what, d=doc: self.mask_stroke.emit(d, what))
        doc.events.modified.connect(lambda *_, t=tab: self._retitle(t))
        doc.events.path.connect(lambda *_, t=tab: self._retitle(t))
        doc.events.active_layer.connect(lambda layer, t=tab: self._on_active_layer(t, layer))
        doc.history.events.changed.connect(self._refresh_actions)
        index = self.tabs.addTab(tab, tab.title())
        self.tabs.setCurrentIndex(index)
        self.stack.setCurrentWidget(self.tabs)
        tab.view.fit()
        view.setFocus()
        return tab

    def _retitle(self, tab: DocumentTab) -> None:
        i = self.tabs.indexOf(tab)
        if i >= 0:
            self.tabs.setTabText(i, tab.title())
            self.tabs.setTabToolTip(i, str(tab.doc.path or "Not saved yet"))
        if tab is self.current_tab():
            self._refresh()

    def _on_current_tab(self, _index: int) -> None:
        doc = self.current_doc()
        self.layers_panel.set_document(doc)
        self.history_panel.set_document(doc)
        self.stack.setCurrentWidget(self.tabs if doc is not None else self.empty_page)
        self._refresh()
        self.active_document_changed.emit(doc)

    def _refresh(self) -> None:
        tab = self.current_tab()
        doc = tab.doc if tab else None
        self.setWindowTitle(f"{tab.title()} — Lucid" if tab else "Lucid")
        if doc is None:
            for w in (self.status_zoom, self.status_pos, self.status_value, self.status_size):
                w.clear()
        else:
            self.status_zoom.setText(zoom_percent(tab.view.zoom))
            self.status_size.setText(f"{doc.width}×{doc.height} · {doc.depth}-bit")
        self._refresh_actions()

    def _refresh_actions(self) -> None:
        actions = getattr(self, "actions", None)
        if not actions:
            return
        doc = self.current_doc()
        has = doc is not None
        for name in DOCUMENT_ACTIONS:
            actions[name].setEnabled(has)
        actions["upscale"].setEnabled(has and getattr(self, "ai", None) is not None)
        actions["undo"].setEnabled(has and doc.history.can_undo)
        actions["redo"].setEnabled(has and doc.history.can_redo)
        if has and doc.history.can_undo:
            actions["undo"].setText(f"&Undo {doc.history.labels[doc.history.index - 1]}")
        else:
            actions["undo"].setText("&Undo")

    # -- status bar --------------------------------------------------------------------------------
    def _on_zoom(self, tab: DocumentTab, zoom: float) -> None:
        if tab is self.current_tab():
            self.status_zoom.setText(zoom_percent(zoom))

    def _on_cursor(self, tab: DocumentTab, pos: QPointF | None) -> None:
        if tab is not self.current_tab():
            return
        doc = tab.doc
        if pos is None:
            self.status_pos.clear()
            self.status_value.clear()
            return
        x, y = pixel_index(pos)
        inside = 0 <= x < doc.width and 0 <= y < doc.height
        self.status_pos.setText(f"{x}, {y}" if inside else "")
        self.status_value.setText(self.pixel_value_text(doc, x, y) if inside else "")
        self.status_value.setToolTip(f"Canvas colours: {tab.colour.display.describe()} "
                                     f"(display profile: {tab.display_source})")

    @staticmethod
    def pixel_value_text(doc: Document, x: int, y: int) -> str:
        """The active pixel layer's stored value under the cursor (in its own depth: 0–255 or 0–65535),
        and in which profile those numbers are: not the converted values the screen shows."""
        layer = doc.active_layer
        if not isinstance(layer, PixelLayer):
            return ""
        lx, ly = x - layer.offset[0], y - layer.offset[1]
        if not (0 <= lx < layer.width and 0 <= ly < layer.height):
            return "—"
        r, g, b, a = (int(v) for v in np.asarray(layer.pixels[ly, lx]))
        return f"R {r} G {g} B {b} A {a} · layer values, {profile_name(doc.metadata.icc_profile)}"

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    # -- opening -----------------------------------------------------------------------------------
    def open_paths(self, paths: list[Path]) -> list[Document]:
        """Open each file in its own tab; unreadable files are reported and skipped."""
        return [doc for doc in (self.open_path(Path(p)) for p in paths) if doc is not None]

    def open_path(self, path: Path) -> Document | None:
        from editor.io.ora import open_any

        resolved = path.resolve()
        for doc in self.documents():
            if doc.path is not None and doc.path.resolve() == resolved:
                self.tabs.setCurrentWidget(self.tab_for(doc))
                return doc
        try:
            doc = open_any(path)
        except LucidError as exc:
            self.prompts.error(exc.message, exc.detail)
            return None
        self.add_document(doc)
        self._add_recent(path)
        return doc

    def open_dialog(self) -> None:
        start = self.current_doc().path.parent if self.current_doc() and self.current_doc().path else None
        self.open_paths(self.prompts.open_paths(start))

    def new_document(self) -> Document | None:
        size = self.prompts.new_size()
        if size is None:
            return None
        try:
            check_document(size[0], size[1], 8, "A new image")
        except LucidError as exc:
            self.prompts.error(exc.message, exc.detail)
            return None
        doc = Document(*size)
        white = np.full((size[1], size[0], 4), 255, np.uint8)
        layer = PixelLayer("Background", white)
        doc.root.children.append(layer)  # the starting state, not an undoable step (as when opening a file)
        doc.active_layer = layer
        self.add_document(doc)
        return doc

    def _add_recent(self, path: Path) -> None:
        self.window_state.add_recent(path)
        self.rebuild_recent_menu()

    def rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.window_state.recent_files()
        for p in recent:
            menu.addAction(p.name, lambda p=p: self.open_paths([p])).setToolTip(str(p))
        if recent:
            menu.addSeparator()
            menu.addAction("Clear list", self._clear_recent)
        menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.window_state.clear_recent()
        self.rebuild_recent_menu()

    # -- drag and drop -----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        accept_file_drag(event)

    def dragMoveEvent(self, event) -> None:
        accept_file_drag(event)

    def dropEvent(self, event: QDropEvent) -> None:
        """Dropped outside a canvas (empty window, tab bar, docks): every file opens in its own tab."""
        paths = take_dropped_files(event)
        if paths:
            self.open_paths(paths)

    def drop_on_document(self, doc: Document, paths: list[Path]) -> None:
        """Dropped on a canvas: images become centred layers (one undo step); projects open as tabs.

        All images are decoded first, so a file that cannot be read changes nothing.
        """
        projects = [p for p in paths if is_project(p)]
        images = [p for p in paths if not is_project(p)]
        if images:
            try:
                layers = [layer_from_file(doc, p) for p in images]
            except LucidError as exc:
                self.prompts.error(exc.message, exc.detail)
                layers = []
            if layers:
                label = f"Add layer “{layers[0].name}”" if len(layers) == 1 else f"Add {len(layers)} layers"
                with doc.group(label):
                    for layer in layers:
                        doc.add_layer(layer, self._insert_index(doc))
                        doc.active_layer = layer
        self.open_paths(projects)

    @staticmethod
    def _insert_index(doc: Document) -> int:
        """Just above the active top-level layer, else on top."""
        active = doc.active_layer
        if active is not None and active in doc.layers:
            return doc.layers.index(active) + 1
        return len(doc.layers)

    # -- saving and closing ------------------------------------------------------------------------
    def save(self, doc: Document | None = None) -> bool:
        doc = doc or self.current_doc()
        if doc is None:
            return False
        if doc.path is None or not is_project(doc.path):
            return self.save_as(doc)
        return self._save_to(doc, doc.path)

    def save_as(self, doc: Document | None = None) -> bool:
        doc = doc or self.current_doc()
        if doc is None:
            return False
        base = doc.path or Path.home() / "Untitled"
        path = self.prompts.save_path(base.with_suffix(".ora"))
        return path is not None and self._save_to(doc, path)

    def _save_to(self, doc: Document, path: Path) -> bool:
        from editor.io.ora import save_project

        if not self._settle_non_ora_modes(doc):
            return False
        try:
            save_project(doc, path)
        except LucidError as exc:
            self.prompts.error(exc.message, exc.detail)
            return False
        doc.path = path
        doc.history.mark_saved()
        self._add_recent(path)
        self.show_message(f"Saved {path.name}")
        return True

    def _settle_non_ora_modes(self, doc: Document) -> bool:
        """Tell once per document that other programs show Exclusion layers as Normal; offer to bake them.
        False if the user cancelled the save."""
        from editor.core.ora_compat import bake_non_ora_layers, non_ora_layers

        names = [layer.name for layer in non_ora_layers(doc)]
        if not names or doc in self._told_non_ora:
            return True
        answer = self.prompts.non_ora_layers(names)
        if answer == "cancel":
            return False
        self._told_non_ora.add(doc)
        if answer == "bake":
            bake_non_ora_layers(doc)
        return True

    def export(self, doc: Document | None = None) -> bool:
        from editor.io.export import export_image, format_for

        doc = doc or self.current_doc()
        if doc is None:
            return False
        fmt = self.settings.export_format
        ext = {"jpeg": ".jpg", "tiff": ".tif"}.get(fmt, f".{fmt}")
        base = doc.path or Path.home() / "Untitled"
        path = self.prompts.export_path(base.with_suffix(ext))
        if path is None:
            return False
        try:
            colour = self.prompts.export_colour(format_for(path), doc.metadata.icc_profile)
            if colour is None:
                return False
            notes = export_image(doc, path, quality=self.settings.export_quality, to_srgb=colour[0],
                                 intent=colour[1])
        except LucidError as exc:
            self.prompts.error(exc.message, exc.detail)
            return False
        self.show_message(f"Exported {path.name}" + (f" ({'; '.join(notes)})" if notes else ""))
        return True

    def confirm_close(self, doc: Document) -> bool:
        """Ask Save / Discard / Cancel when `doc` has unsaved changes; True if it may close."""
        if not doc.modified:
            return True
        name = doc.path.name if doc.path else "Untitled"
        self.tabs.setCurrentWidget(self.tab_for(doc))
        choice = self.prompts.unsaved_changes(name)
        if choice == "save":
            return self.save(doc)
        return choice == "discard"

    def close_tab(self, index: int | None = None) -> bool:
        index = self.tabs.currentIndex() if index is None else index
        tab = self.tabs.widget(index)
        if not isinstance(tab, DocumentTab) or not self.confirm_close(tab.doc):
            return False
        tab.doc.history.events.changed.disconnect(self._refresh_actions)
        self.tabs.removeTab(index)
        tab.close_document()
        tab.deleteLater()
        self.document_closed.emit(tab.doc)
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        for doc in self.documents():
            if not self.confirm_close(doc):
                event.ignore()
                return
        self.window_state.save_geometry(self.saveGeometry(), self.saveState())
        while self.tabs.count():
            tab = self.tabs.widget(0)
            tab.doc.history.events.changed.disconnect(self._refresh_actions)
            self.tabs.removeTab(0)
            tab.close_document()
            tab.deleteLater()
            self.document_closed.emit(tab.doc)
        self.layers_panel.set_document(None)
        self.history_panel.set_document(None)
        event.accept()

    def _restore_geometry(self) -> None:
        geometry, state = self.window_state.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        if state is not None:
            self.restoreState(state)
        self._first_layout = state is None

    FIRST_DOCK_WIDTH = 300  # px: on a first start the photo, not the panels, gets the room

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if getattr(self, "_first_layout", False):
            # Docks added after construction (AI, Jobs) size themselves to their widest content;
            # once, on the first start, give them a narrow column so the canvas dominates.
            self._first_layout = False
            QTimer.singleShot(0, self.narrow_docks)

    def narrow_docks(self) -> None:
        docks = [d for d in self.docks.values() if not d.isFloating() and d.isVisible()]
        if docks:
            self.resizeDocks(docks, [self.FIRST_DOCK_WIDTH] * len(docks), Qt.Orientation.Horizontal)

    # -- edit --------------------------------------------------------------------------------------
    def run(self, fn: Callable[[Document], Any]) -> Any:
        """Run a document command on the current document; a LucidError becomes a status message."""
        doc = self.current_doc()
        if doc is None:
            return None
        try:
            return fn(doc)
        except LucidError as exc:
            self.show_message(exc.message)
            return None

    def undo(self) -> None:
        self.run(lambda d: d.history.undo())

    def redo(self) -> None:
        self.run(lambda d: d.history.redo())

    def preferences(self) -> None:
        from editor.ui.preferences import PreferencesDialog

        dlg = PreferencesDialog(self.settings, self)
        if dlg.exec() and dlg.result_settings() is not None:
            self.apply_settings(dlg.result_settings())

    def apply_settings(self, settings: Settings) -> None:
        from editor.core.settings import save_settings

        self.settings = settings
        for doc in self.documents():
            doc.history.memory_cap = settings.undo_memory_mb * MIB
        try:
            save_settings(settings)
        except LucidError as exc:
            self.prompts.error(exc.message, exc.detail)
        if self.services is not None:  # the device and models folder reach the inference service
            self.services.apply_settings(settings)
        if self._on_settings_changed:
            self._on_settings_changed(settings)

    # -- AI (editor.ui.ai) ---------------------------------------------------------------------------
    def show_models(self) -> None:
        """AI → Models…: the model store's dialog (downloads and imports run as jobs)."""
        if self.ai is None or self.ai.store is None or self.ai.runner is None:
            self.show_message("The AI tools are not available in this session.")
            return
        from editor.ui.models_dialog import ModelsDialog

        dlg = ModelsDialog(self.ai.store, self.ai.runner, self)
        dlg.setObjectName("models-dialog")
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        self.models_dialog = dlg

    def upscale(self) -> None:
        """Image → Upscale…: the dialog; the result opens as a new document."""
        doc = self.current_doc()
        if doc is None or self.ai is None:
            return
        from editor.ui.ai.upscale_dialog import UpscaleDialog

        dlg = UpscaleDialog(self.ai, doc, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        self.upscale_dialog = dlg

    def batch(self) -> None:
        """File → Batch…: a task over a folder, run by `lucid batch` in the background (Jobs panel)."""
        from editor.ui.batch_dialog import BatchDialog
        from editor.ui.batch_job import BatchJob

        panel = getattr(self, "jobs_panel", None)
        if panel is None:
            self.prompts.error("Batches run in the Jobs panel, which needs the AI services.")
            return
        dlg = BatchDialog(self)
        self.batch_dialog = dlg
        if dlg.exec() and (spec := dlg.spec()) is not None:
            job = BatchJob(spec, self, resume=dlg.resume.isChecked())
            panel.track(job)
            self.docks["Jobs"].show()
        dlg.deleteLater()

    def about(self) -> None:
        self.prompts.about(
            f"<b>Lucid {__version__}</b><br>An offline photo editor whose AI tools write non-destructive "
            "layers.<br>Projects are OpenRaster (.ora) files.<br><br>Sample photo: “coffee” by Rachel "
            "Michetti, CC0 (via scikit-image)."
        )

    # -- mask / selection --------------------------------------------------------------------------
    def mask_command(self, what: str, amount: float = 4.0) -> None:
        commands: dict[str, Callable[[Document], Any]] = {
            "all": lambda d: d.select_all(),
            "clear": lambda d: d.clear_selection(),
            "invert": lambda d: d.invert_selection(),
            "grow": lambda d: d.grow_selection(amount),
            "shrink": lambda d: d.grow_selection(-amount),
            "feather": lambda d: d.feather_selection(amount),
        }
        self.run(commands[what])

    def edit_layer_mask(self, layer: ResultLayer) -> None:
        """Point the mask brush at a result layer's own mask until another layer becomes active."""
        tab = self.current_tab()
        if tab is None:
            return
        tab.view.set_mask_layer(layer)
        self.tool_state.tool = self.tool_state.tool.BRUSH
        self.show_message(
            f"Painting the mask of “{layer.name}” (B paints, E erases; pick another layer to stop)"
        )

    def _on_active_layer(self, tab: DocumentTab, layer) -> None:
        if tab.view.mask_layer is not None and layer is not tab.view.mask_layer:
            tab.view.set_mask_layer(None)

    # -- layers ------------------------------------------------------------------------------------
    def new_layer(self) -> None:
        def add(doc: Document) -> None:
            empty = np.zeros((doc.height, doc.width, 4), doc.dtype)
            layer = PixelLayer(f"Layer {len(doc.all_layers()) + 1}", empty)
            doc.add_layer(layer, self._insert_index(doc))
            doc.active_layer = layer

        self.run(add)

    def layer_command(self, what: str) -> None:
        def go(doc: Document) -> None:
            layer = doc.active_layer
            if what == "flatten":
                doc.active_layer = doc.flatten()
                return
            if layer is None:
                raise LucidError("Select a layer first.")
            if what == "duplicate":
                doc.active_layer = doc.duplicate_layer(layer)
            elif what == "delete":
                parent = doc.parent_of(layer)
                i = parent.children.index(layer)
                doc.remove_layer(layer)
                rest = parent.children
                doc.active_layer = rest[min(i, len(rest) - 1)] if rest else None
            elif what == "merge_down":
                doc.active_layer = doc.merge_down(layer)

        self.run(go)

    # -- keys the canvas wants even when a dock has focus ------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        tab = self.current_tab()
        if tab is not None and event.key() in (Qt.Key.Key_Backslash, Qt.Key.Key_Space):
            tab.view.keyPressEvent(event)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        tab = self.current_tab()
        if tab is not None and event.key() in (Qt.Key.Key_Backslash, Qt.Key.Key_Space):
            tab.view.keyReleaseEvent(event)
            return
        super().keyReleaseEvent(event)
