"""Puts the AI services into a main window: Jobs dock, AI menu, tool panels, Re-run from the layers panel.

Called by `MainWindow` when it is given a `Services` bundle (built by `editor.app.build_services`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from editor.ui.ai import PANELS, MissingPanels, load_panels
from editor.ui.ai.controller import AiController
from editor.ui.ai.services import Services
from editor.ui.jobs_panel import JobsPanel

if TYPE_CHECKING:
    from editor.ui.main_window import MainWindow


def install(window: MainWindow, services: Services) -> AiController:
    controller = AiController(window, services.runner, services.store)
    jobs = JobsPanel(services.runner)
    window.jobs_panel = jobs
    window.add_dock("Jobs", jobs, Qt.DockWidgetArea.RightDockWidgetArea)
    models = window.actions["models"]
    models.setEnabled(services.store is not None)
    models.setToolTip("Download, import or delete AI models")

    def rerun(layer) -> None:
        doc = window.current_doc()
        if doc is None or not doc.contains(layer):
            return
        overrides = controller.ask_rerun(layer)
        if overrides is not None:
            controller.spawn(controller.rerun(doc, layer, **overrides))

    window.layers_panel.rerun_requested.connect(rerun)
    from editor.ui.ai.subject_select import SubjectSelect

    controller.subject_select = SubjectSelect(controller, window)

    def report(exc: MissingPanels) -> None:  # a broken installation: say so, keep the working tools
        controller.panel_failures.update(exc.failures)
        window.prompts.error(exc.message, exc.detail)

    try:
        if services.defer_panels:  # the app: Inpaint now, the rest once the window is up (startup time)
            from editor.ui.ai.deferred import DeferredPanels
            from editor.ui.ai.idle import WhenIdle

            controller.deferred = DeferredPanels(controller, window, PANELS[1:], on_error=report)
            controller.deferred_trigger = WhenIdle(controller.deferred.start, 500, window)
            load_panels(controller, window, PANELS[:1])
        else:
            load_panels(controller, window)
    except MissingPanels as exc:
        report(exc)
    return controller


