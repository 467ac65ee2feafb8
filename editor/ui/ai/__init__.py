"""AI tools in the window: the controller every tool panel uses, and the panels themselves.

The panels are the ones registered in `editor.modules.PANELS` (shared with the installer's spec and the
self-test). Each panel class is `Panel(controller, window)` and adds itself with
`controller.add_panel(title, widget)`, or is added under its registered title by `load_panels`. A
registered panel that cannot be imported is an error (a broken installation), never a missing tab.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from editor.core.errors import LucidError
from editor.modules import PANELS, PanelEntry

if TYPE_CHECKING:
    from editor.ui.ai.controller import AiController

__all__ = ["PANELS", "MissingPanels", "load_panels"]


class MissingPanels(LucidError):
    """Registered panels that could not be built; the others were."""

    def __init__(self, failures: dict[str, BaseException]) -> None:
        titles = ", ".join(failures)
        detail = "\n".join(f"{title}: {type(exc).__name__}: {exc}" for title, exc in failures.items())
        super().__init__(f"This installation of Lucid is incomplete: the {titles} tool could not be loaded. "
                         "Reinstall Lucid.", detail)
        self.failures = failures


def load_panels(controller: AiController, window: Any, entries: Sequence[PanelEntry] | None = None
                ) -> dict[str, Any]:
    """Build the given registered panels (default: all); returns {title: panel}.

    Every panel that can be built is; then MissingPanels names those that could not (an import or
    construction error), so one broken tool never takes the others with it, nor goes unnoticed.
    """
    built: dict[str, Any] = {}
    failures: dict[str, BaseException] = {}
    for entry in PANELS if entries is None else entries:
        try:
            module = importlib.import_module(entry.module)
            panel = getattr(module, entry.class_name)(controller, window)
        except Exception as exc:
            failures[entry.title] = exc
            continue
        if panel not in controller.panels.values():
            controller.add_panel(entry.title, panel)
        built[entry.title] = panel
    if failures:
        raise MissingPanels(failures)
    return built
