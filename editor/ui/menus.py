"""Menus, the tool bar and shortcuts of the main window, as named QActions (tests trigger them by name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar

from editor.ui.icons import icon
from editor.ui.tool_state import ToolKind

if TYPE_CHECKING:
    from editor.ui.main_window import MainWindow

Keys = QKeySequence.StandardKey

TOOLS = (
    (ToolKind.BRUSH, "brush", "B"),
    (ToolKind.ERASER, "eraser", "E"),
    (ToolKind.RECT, "rect_select", "M"),
    (ToolKind.LASSO, "lasso", "L"),
    (ToolKind.HAND, "hand", "H"),
    (ToolKind.CROP, "crop", "C"),
)


def on_view_toggle(win: MainWindow):
    def toggle(on: bool) -> None:
        tab = win.current_tab()
        if tab is not None:
            tab.view.show_before(on)

    return toggle


def build_menus(win: MainWindow) -> dict[str, QAction]:
    acts: dict[str, QAction] = {}

    def act(name: str, text: str, slot, shortcut=None, *, checkable: bool = False) -> QAction:
        a = QAction(text, win)
        if shortcut is not None:
            if isinstance(shortcut, list):
                a.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                a.setShortcut(QKeySequence(shortcut))
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        acts[name] = a
        return a

    bar = win.menuBar()
    m = bar.addMenu("&File")
    m.addAction(act("new", "&New…", lambda: win.new_document(), Keys.New))
    m.addAction(act("open", "&Open…", lambda: win.open_dialog(), Keys.Open))
    win.recent_menu = m.addMenu("Open &Recent")
    win.rebuild_recent_menu()
    m.addSeparator()
    m.addAction(act("save", "&Save", lambda: win.save(), Keys.Save))
    m.addAction(act("save_as", "Save &As…", lambda: win.save_as(), "Ctrl+Shift+S"))
    m.addAction(act("export", "&Export…", lambda: win.export(), "Ctrl+E"))
    m.addAction(act("batch", "&Batch…", lambda: win.batch()))
    m.addSeparator()
    m.addAction(act("close", "&Close", lambda: win.close_tab(), Keys.Close))
    m.addAction(act("quit", "&Quit", lambda: win.close(), Keys.Quit))

    m = bar.addMenu("&Edit")
    m.addAction(act("undo", "&Undo", win.undo, Keys.Undo))
    m.addAction(act("redo", "&Redo", win.redo, ["Ctrl+Shift+Z", "Ctrl+Y"]))
    m.addSeparator()
    m.addAction(act("preferences", "&Preferences…", win.preferences, "Ctrl+,"))

    def on_view(fn):
        return lambda *_: (tab := win.current_tab()) is not None and fn(tab.view)

    m = bar.addMenu("&View")
    m.addAction(act("zoom_in", "Zoom &In", on_view(lambda v: v.zoom_in()), ["Ctrl++", "Ctrl+="]))
    m.addAction(act("zoom_out", "Zoom &Out", on_view(lambda v: v.zoom_out()), "Ctrl+-"))
    m.addAction(act("fit", "&Fit in Window", on_view(lambda v: v.fit()), "Ctrl+0"))
    m.addAction(act("actual", "&100 %", on_view(lambda v: v.actual_size()), "Ctrl+1"))
    m.addSeparator()
    show_mask = act("show_mask", "Show &Mask", lambda on: setattr(win.tool_state, "show_mask", on), "Ctrl+H",
                    checkable=True)
    show_mask.setChecked(win.tool_state.show_mask)
    win.tool_state.events.show_mask.connect(lambda on: show_mask.setChecked(bool(on)))
    m.addAction(show_mask)
    before = act("before_after", "&Before / After (hold \\)", on_view_toggle(win), checkable=True)
    m.addAction(before)
    m.addSeparator()
    win.panels_menu = m.addMenu("&Panels")
    for dock in win.docks.values():
        win.panels_menu.addAction(dock.toggleViewAction())

    m = bar.addMenu("&Select")
    win.select_menu = m
    m.addAction(act("select_all", "&All", lambda: win.mask_command("all"), Keys.SelectAll))
    m.addAction(act("select_none", "&None", lambda: win.mask_command("clear"), "Ctrl+Shift+A"))
    m.addAction(act("invert", "&Invert", lambda: win.mask_command("invert"), "Ctrl+I"))
    m.addSeparator()
    amount = win.tool_options.amount
    m.addAction(act("grow", "&Grow", lambda: win.mask_command("grow", amount.value())))
    m.addAction(act("shrink", "S&hrink", lambda: win.mask_command("shrink", amount.value())))
    m.addAction(act("feather", "&Feather", lambda: win.mask_command("feather", amount.value())))

    m = bar.addMenu("&Layer")
    m.addAction(act("new_layer", "&New Layer", win.new_layer, "Ctrl+Shift+N"))
    m.addAction(act("duplicate", "&Duplicate", lambda: win.layer_command("duplicate"), "Ctrl+J"))
    m.addAction(act("delete", "De&lete", lambda: win.layer_command("delete")))
    m.addAction(act("merge_down", "&Merge Down", lambda: win.layer_command("merge_down"), "Ctrl+Shift+E"))
    m.addAction(act("flatten", "&Flatten Image", lambda: win.layer_command("flatten")))
    panel = win.layers_panel
    for key, name in (("new", "new_layer"), ("duplicate", "duplicate"), ("delete", "delete"),
                      ("merge_down", "merge_down"), ("flatten", "flatten")):
        panel.buttons[key].setDefaultAction(acts[name])

    m = bar.addMenu("&Image")
    upscale = act("upscale", "&Upscale…", lambda: win.upscale(), "Ctrl+Alt+U")
    upscale.setEnabled(False)  # needs a document and the inference service (see MainWindow._refresh_actions)
    m.addAction(upscale)
    win.image_menu = m

    # AI: Models… (enabled by the inference wiring, editor.ui.ai.wiring), then one entry per tool panel
    m = bar.addMenu("&AI")
    models = act("models", "&Models…", lambda: win.show_models())
    models.setEnabled(False)
    models.setToolTip("Available once the inference service is running")
    m.addAction(models)
    m.addSeparator()
    win.ai_menu = m

    m = bar.addMenu("&Help")
    m.addAction(act("about", "&About Lucid", win.about))

    # tools: one exclusive group, keyboard letters, mirrored from ToolState both ways
    tb = QToolBar("Tools", win)
    tb.setObjectName("toolbar-tools")
    tb.setIconSize(QSize(22, 22))
    group = QActionGroup(win)
    state = win.tool_state
    for kind, icon_name, key in TOOLS:
        a = act(f"tool_{kind.value}", f"{kind.label} ({key})",
                lambda _=False, k=kind: setattr(state, "tool", k), key, checkable=True)
        a.setIcon(icon(icon_name))
        a.setChecked(state.tool == kind)
        group.addAction(a)
        tb.addAction(a)
    state.events.tool.connect(lambda k: acts[f"tool_{ToolKind(k).value}"].setChecked(True))
    win.addToolBar(tb)
    win.tools_toolbar = tb

    # brush size and hardness: [ ] and Shift+[ ] (which most layouts deliver as { })
    for name, keys, fn in (
        ("brush_smaller", ["["], lambda: state.grow_brush(1 / 1.15)),
        ("brush_bigger", ["]"], lambda: state.grow_brush(1.15)),
        ("softer", ["{", "Shift+["], lambda: state.step_hardness(-0.1)),
        ("harder", ["}", "Shift+]"], lambda: state.step_hardness(0.1)),
    ):
        win.addAction(act(name, name, fn, keys))
    return acts
