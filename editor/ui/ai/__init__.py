"""AI tools in the window: the controller every tool panel uses, and the panels themselves.

Panels are listed by dotted path and imported on demand, so a tool whose module is not there yet (or
not in this build) is simply skipped; each panel class is `Panel(controller, window)` and adds itself
with `controller.add_panel(title, widget)` (or is added under its `TITLE` by `load_panels`).
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from editor.ui.ai.controller import AiController

PANELS = [
    "editor.ui.ai.inpaint_panel:InpaintPanel",
    "editor.ui.ai.matte_panel:MattePanel",
    "editor.ui.ai.obstruction_panel:ObstructionPanel",
    "editor.ui.ai.latent_panel:LatentPanel",
]

log = logging.getLogger(__name__)


def load_panels(controller: AiController, window: Any, specs: list[str] | None = None) -> dict[str, Any]:
    """Build every available panel; returns {spec: panel}. A module that does not exist is skipped.

    A panel that did not add itself to the AI dock (no `controller.add_panel` call in its constructor)
    is added under its class attribute `TITLE` (default: the class name without "Panel").
    """
    built: dict[str, Any] = {}
    for spec in PANELS if specs is None else specs:
        module_name, _, cls_name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # not written yet / not in this build
            raise
        panel = getattr(module, cls_name)(controller, window)
        if panel not in controller.panels.values():
            title = getattr(panel, "TITLE", cls_name.removesuffix("Panel"))
            controller.add_panel(title, panel)
        built[spec] = panel
    return built
