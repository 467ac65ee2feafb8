"""Build the less-used tool panels after the window is up, importing their modules off the main thread.

Why: a panel module may pull in heavy libraries (the Obstruction panel reaches scipy.sparse: ~0.4 s of
import measured on the development machine); importing them on the main thread before the first paint
pushed time-to-window past the 2 s target. A thread imports them (the GIL is shared, but the main loop
gets its turns between bytecodes instead of one long block); the panels are then built on the main
thread, where widgets belong, and a panel that fails there is reported like any other.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from editor.modules import PanelEntry
from editor.ui.ai import MissingPanels, load_panels

if TYPE_CHECKING:
    from editor.ui.ai.controller import AiController


class DeferredPanels(QObject):
    """Import the entries' modules in a daemon thread, then `load_panels` them on the main thread.

    An import that fails in the thread is not swallowed: `load_panels` imports the module again on the
    main thread, where the same error becomes `MissingPanels`, handed to `on_error`.
    """

    _imported = Signal()  # from the import thread, queued to the main thread
    done = Signal()

    def __init__(self, controller: AiController, window: Any, entries: Sequence[PanelEntry],
                 on_error: Callable[[MissingPanels], None]) -> None:
        super().__init__(window)
        self.controller = controller
        self.window = window
        self.entries = list(entries)
        self.on_error = on_error
        self.loaded = False
        self._imported.connect(self._build, Qt.ConnectionType.QueuedConnection)
        self._thread = threading.Thread(target=self._import, name="panel-imports", daemon=True)

    def start(self) -> None:
        """Begin the imports (once: the idle trigger and an eager caller may both ask)."""
        if not self._thread.is_alive() and not self.loaded and self._thread.ident is None:
            self._thread.start()

    def _import(self) -> None:  # import thread: no widgets here
        try:
            for entry in self.entries:
                try:
                    importlib.import_module(entry.module)
                except ImportError:
                    continue  # re-raised where it is reported: load_panels on the main thread
        finally:
            self._imported.emit()

    @Slot()
    def _build(self) -> None:
        try:
            load_panels(self.controller, self.window, self.entries)
        except MissingPanels as exc:
            self.on_error(exc)
        self.loaded = True
        self.done.emit()
