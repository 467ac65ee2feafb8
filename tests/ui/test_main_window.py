"""The main window end to end: drops, tabs, save/reopen, unsaved-changes prompt, recent files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

from editor.core.compositor import composite
from editor.ui.main_window import MainWindow

from .qt_helpers import drag, drop


def write_png(path: Path, w: int, h: int, color=(200, 30, 30, 255)) -> Path:
    Image.fromarray(np.full((h, w, 4), color, np.uint8), "RGBA").save(path)
    return path


def open_at_200(window, path: Path):
    window.open_paths([path])
    tab = window.current_tab()
    tab.view.set_zoom(2.0)
    tab.view.centerOn(60, 40)
    return tab.doc, tab.view


@pytest.fixture
def photo(tmp_path) -> Path:
    return write_png(tmp_path / "photo.png", 120, 80, (10, 120, 200, 255))


def test_drop_on_empty_window_opens_each_file_in_a_tab(window, photo, tmp_path):
    other = write_png(tmp_path / "other.png", 40, 30)
    assert window.tabs.count() == 0
    drop(window, [photo, other])
    assert window.tabs.count() == 2
    docs = window.documents()
    assert [(d.width, d.height) for d in docs] == [(120, 80), (40, 30)]
    assert window.current_doc() is docs[1]
    assert "photo.png" in window.tabs.tabText(0)
    assert window.status_size.text() == "40×30 · 8-bit"


def test_drop_on_canvas_adds_a_centred_layer_as_one_undo_step(window, photo, tmp_path):
    window.open_paths([photo])
    doc = window.current_doc()
    small = write_png(tmp_path / "patch.png", 20, 10, (0, 255, 0, 255))
    drop(window.current_tab().view.viewport(), [small])
    assert window.tabs.count() == 1
    assert [layer.name for layer in doc.layers] == ["photo", "patch"]
    patch = doc.layers[1]
    assert patch.offset == ((120 - 20) // 2, (80 - 10) // 2)
    assert doc.active_layer is patch
    out = composite(doc)
    assert out[40, 60, :3] == pytest.approx([0, 1, 0])  # centre now green
    assert out[0, 0, :3] == pytest.approx([10 / 255, 120 / 255, 200 / 255], abs=1e-6)
    window.actions["undo"].trigger()
    assert [layer.name for layer in doc.layers] == ["photo"]
    window.actions["redo"].trigger()
    assert [layer.name for layer in doc.layers] == ["photo", "patch"]


def test_unreadable_file_shows_a_message_and_changes_nothing(window, photo, prompts, tmp_path):
    window.open_paths([photo])
    doc = window.current_doc()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    drop(window.current_tab().view.viewport(), [bad])
    assert len(prompts.errors) == 1 and "broken.png" in prompts.errors[0]
    assert len(doc.layers) == 1 and not doc.history.can_undo
    drop(window, [bad])  # on the window: no new tab either
    assert len(prompts.errors) == 2
    assert window.tabs.count() == 1


def test_mask_stroke_paints_selection_and_is_one_undo_step(window, photo):
    doc, view = open_at_200(window, photo)
    window.tool_state.brush_size = 10
    a, b = view.to_widget(QPointF(30, 40)), view.to_widget(QPointF(90, 40))
    steps = [a + (b - a) * (i / 10) for i in range(11)]
    drag(view.viewport(), steps)
    sel = doc.selection
    assert sel[40, 30:91].min() > 0.9  # painted along the stroke
    assert sel[10, :].max() == 0 and sel[70, :].max() == 0  # nothing far from it
    assert doc.history.labels == ["Paint mask"]
    before = sel.copy()
    window.actions["undo"].trigger()
    assert doc.selection.max() == 0
    window.actions["redo"].trigger()
    np.testing.assert_array_equal(doc.selection, before)
    # the red overlay shows the painted mask on screen
    shot = view.viewport().grab().toImage()
    p = view.to_widget(QPointF(60, 40)).toPoint()
    c = shot.pixelColor(p)
    off = shot.pixelColor(view.to_widget(QPointF(60, 10)).toPoint())
    assert (off.red(), off.blue()) == (10, 200)
    assert c.red() > off.red() + 80 and c.blue() < off.blue() - 60  # half-transparent red on top


def test_eraser_and_rect_selection_modes(window, photo):
    doc, view = open_at_200(window, photo)
    vp = view.viewport()
    window.actions["tool_rect"].trigger()
    drag(vp, [view.to_widget(QPointF(10, 10)), view.to_widget(QPointF(50, 50))])
    assert doc.selection[10:50, 10:50].min() == 1 and doc.selection.sum() == 40 * 40
    drag(vp, [view.to_widget(QPointF(60, 10)), view.to_widget(QPointF(70, 20))],
         Qt.KeyboardModifier.ShiftModifier)
    assert doc.selection[10:50, 10:50].min() == 1 and doc.selection[10:20, 60:70].min() == 1
    drag(vp, [view.to_widget(QPointF(10, 10)), view.to_widget(QPointF(30, 50))],
         Qt.KeyboardModifier.AltModifier)
    assert doc.selection[10:50, 10:30].max() == 0 and doc.selection[10:50, 30:50].min() == 1
    window.actions["tool_eraser"].trigger()
    window.tool_state.brush_size = 8
    drag(vp, [view.to_widget(QPointF(40, 30)), view.to_widget(QPointF(41, 30))])
    assert doc.selection[30, 40] == 0 and doc.selection[45, 45] == 1
    window.actions["tool_lasso"].trigger()
    tri = [QPointF(80, 60), QPointF(110, 60), QPointF(110, 78), QPointF(80, 78)]
    drag(vp, [view.to_widget(p) for p in tri], Qt.KeyboardModifier.ShiftModifier)
    assert doc.selection[70, 95] > 0.99 and doc.selection[45, 45] == 1
    assert len(doc.history.labels) == 5


def test_bracket_keys_change_brush_size_and_hardness(window, photo, qtbot):
    window.open_paths([photo])
    view = window.current_tab().view
    state = window.tool_state
    size, hard = state.brush_size, state.hardness
    window.actions["brush_bigger"].trigger()
    assert state.brush_size > size
    window.actions["brush_smaller"].trigger()
    window.actions["brush_smaller"].trigger()
    assert state.brush_size < size
    window.actions["softer"].trigger()
    assert state.hardness == pytest.approx(hard - 0.1)
    # the outline circle has the true brush size in image pixels
    qtbot.mouseMove(view.viewport(), QPoint(50, 50))
    assert view.brush_outline.rect().width() == pytest.approx(state.brush_size)
    assert window.tool_options.size.value() == round(state.brush_size)


def test_save_and_reopen_ora(window, photo, prompts, tmp_path):
    window.open_paths([photo])
    doc = window.current_doc()
    window.actions["new_layer"].trigger()
    doc.set_property(doc.layers[1], "name", "notes")
    doc.select_rect(doc.rect.__class__(5, 5, 10, 10))
    assert doc.modified
    target = tmp_path / "project.ora"
    prompts.save_paths.append(target)
    window.actions["save"].trigger()  # an image path: Save asks where to put the project
    assert target.is_file() and not doc.modified
    assert window.tabs.tabText(0) == "project.ora"
    window.close_tab(0)
    assert window.tabs.count() == 0 and window.stack.currentWidget() is window.empty_page
    drop(window, [target])
    again = window.current_doc()
    assert [layer.name for layer in again.layers] == ["photo", "notes"]
    np.testing.assert_array_equal(again.layers[0].pixels, doc.layers[0].pixels)
    assert window.window_state.recent_files()[0] == target.resolve()


def test_close_with_unsaved_changes_asks_and_cancel_keeps_the_window(window, photo, prompts):
    window.open_paths([photo])
    doc = window.current_doc()
    doc.select_all()
    prompts.unsaved_answers.append("cancel")
    assert not window.close()
    assert prompts.asked_unsaved == ["photo.png"]
    assert window.isVisible() and window.tabs.count() == 1
    prompts.unsaved_answers.append("cancel")
    assert not window.close_tab(0)
    assert window.tabs.count() == 1
    prompts.unsaved_answers.append("discard")
    assert window.close()
    assert not window.isVisible()


def test_geometry_is_remembered(qtbot, prompts, window):
    window.resize(810, 620)
    window.close()
    again = MainWindow(prompts=prompts)
    qtbot.addWidget(again)
    # the offscreen platform may shave a frame margin; the default size would be 1400×900
    assert abs(again.width() - 810) <= 20 and abs(again.height() - 620) <= 20


def test_open_recent_menu_lists_opened_files(window, photo):
    window.open_paths([photo])
    titles = [a.text() for a in window.recent_menu.actions()]
    assert titles[0] == "photo.png"


def test_first_start_gives_the_canvas_the_room(qtbot, prompts):
    """With no saved layout, docks that would like to be wide start narrow so the photo has room."""
    from PySide6.QtCore import QSize, Qt
    from PySide6.QtWidgets import QWidget

    from editor.ui.main_window import MainWindow

    class Wide(QWidget):  # like a tool panel: comfortable at 700 px, usable at 150 px
        def sizeHint(self) -> QSize:
            return QSize(700, 200)

        def minimumSizeHint(self) -> QSize:
            return QSize(150, 100)

    win = MainWindow(prompts=prompts)
    win.add_dock("Wide", Wide(), Qt.DockWidgetArea.LeftDockWidgetArea)
    win.resize(1400, 900)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.docks["Wide"].width() <= MainWindow.FIRST_DOCK_WIDTH + 40, timeout=3000)
    assert win.tabs.width() > 1400 // 3
    win.close()
