"""Run a one-off job when the user is not doing anything (warm-ups that briefly hold the GIL).

Importing torch on the worker thread holds Python's GIL for a few hundred milliseconds at a time
(measured: up to ~0.5 s main-loop stalls), so the UI cannot repaint meanwhile. It cannot be avoided
in-process, only placed: after the first paint, and at a moment without mouse, tablet or key input.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

_INPUT = {
    QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseMove, QEvent.Type.Wheel,
    QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.TabletMove, QEvent.Type.TabletPress,
    QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
}


class WhenIdle(QObject):
    """Call `fn` once, `idle_ms` after the last user input (and not before `idle_ms` from now)."""

    def __init__(self, fn: Callable[[], None], idle_ms: int = 1500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(idle_ms)
        self._timer.timeout.connect(self._fire)
        self._app = QApplication.instance()
        self._app.installEventFilter(self)
        self._timer.start()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT:
            self._timer.start()  # restart: wait for a quiet moment
        return False

    def _fire(self) -> None:
        self.cancel()
        self._fn()

    def cancel(self) -> None:
        self._timer.stop()
        self._app.removeEventFilter(self)

    @property
    def pending(self) -> bool:
        return self._timer.isActive()
