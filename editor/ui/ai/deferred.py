"""Build the less-used tool panels after the window is up, importing their modules off the main thread.

Why: a panel module may pull in heavy libraries (the Obstruction panel reaches scipy.sparse: ~0.4 s of
import measured on the development machine); importing them on the main thread before the first paint
pushed time-to-window past the 2 s target. A thread imports them (the GIL is shared, but the main loop
gets its turns between bytecodes instead of one long block); the panels are then built on the main
thread, where widgets belong.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from editor.ui.ai import load_panels

if TYPE_CHECKING:
    from editor.ui.ai.controller import AiController


class DeferredPanels(QObject):
    """Import `specs`' modules in a daemon thread, then `load_panels` them on the main thread."""

    _imported = Signal()  # from the import thread, queued to the main thread
    done = Signal()

    def __init__(self, controller: AiController, window: Any, specs: list[str]) -> None:
        super().__init__(window)
        self.controller = controller
        self.window = window
        self.specs = list(specs)
        self.loaded = False
        self._imported.connect(self._build, Qt.ConnectionType.QueuedConnection)
        self._thread = threading.Thread(target=self._import, name="panel-imports", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _import(self) -> None:  # import thread: no widgets here
        for spec in self.specs:
            module = spec.partition(":")[0]
            with contextlib.suppress(Exception):  # load_panels, on the main thread, skips or reports it
                importlib.import_module(module)
        self._imported.emit()

    @Slot()
    def _build(self) -> None:
        load_panels(self.controller, self.window, self.specs)
        self.loaded = True
        self.done.emit()
