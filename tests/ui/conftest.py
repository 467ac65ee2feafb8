"""UI test fixtures: a scripted Prompts and napari-style leak checks (settings are private to each
test through tests/conftest.py).

A test fails if it leaves a QThread running, a QTimer active, or a top-level widget alive: those leak
into the next test and hide teardown bugs (the same checks napari runs in its conftest).
"""

from __future__ import annotations

import weakref

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QThread, QTimer
from PySide6.QtWidgets import QApplication

from .qt_helpers import ScriptedPrompts


@pytest.fixture(autouse=True)
def _no_dangling_qt(qapp, monkeypatch):
    before = {id(w) for w in QApplication.topLevelWidgets()}
    threads: list[QThread] = []
    timers: list[weakref.ref[QTimer]] = []  # weak: holding wrappers alive changes Qt object lifetimes
    thread_start, timer_start = QThread.start, QTimer.start

    def start_thread(self, *args):
        threads.append(self)
        return thread_start(self, *args)

    def start_timer(self, *args):
        timers.append(weakref.ref(self))
        return timer_start(self, *args)

    monkeypatch.setattr(QThread, "start", start_thread)
    monkeypatch.setattr(QTimer, "start", start_timer)
    yield
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    problems = []
    running = [t for t in threads if shiboken6.isValid(t) and t.isRunning()]
    if running:
        problems.append(f"{len(running)} QThread(s) still running: {running}")
    alive = [t for t in (ref() for ref in timers) if t is not None]
    active = [t for t in alive if shiboken6.isValid(t) and t.isActive()]
    if active:
        problems.append(f"{len(active)} QTimer(s) still active: {[t.parent() for t in active]}")
    left = [w for w in QApplication.topLevelWidgets() if id(w) not in before and shiboken6.isValid(w)]
    if left:
        for w in left:
            w.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        problems.append(f"{len(left)} top-level widget(s) left alive: {[type(w).__name__ for w in left]}")
    if problems:
        pytest.fail("Qt objects leaked by the test:\n  " + "\n  ".join(problems))


@pytest.fixture
def prompts() -> ScriptedPrompts:
    return ScriptedPrompts()


@pytest.fixture
def window(qtbot, prompts):
    """A shown MainWindow with scripted prompts; closed (discarding changes) after the test."""
    from editor.ui.main_window import MainWindow

    win = MainWindow(prompts=prompts)
    win.resize(1000, 700)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    prompts.unsaved_answers[:] = []
    win.close()
