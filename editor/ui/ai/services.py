"""The bundle of AI services the composition root hands to the main window.

Built in `editor.app.build_services` (the only place that constructs the inference service and the
model store, whose modules reach torch lazily); the UI only holds them, so `editor.ui` imports neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editor.core.settings import Settings
from editor.ui.jobs import JobRunner

WARMUP_TASK = "warm_up"  # a no-op job: the service imports torch and sets threads before any task


@dataclass
class Services:
    """`service` is an `editor.infer.service.InferenceService` (typed loosely: it is not imported here)."""

    service: Any
    runner: JobRunner
    store: Any  # editor.infer.store.ModelStore (its module reaches torch through lazy imports)
    models_dir_for: Callable[[Settings], Path] | None = None  # Preferences → models folder
    defer_panels: bool = False  # build the tool panels after Inpaint once the window is up (the app does)
    warm_up_job: Any = None  # the start-up warm-up Job, if one was submitted (hidden in the Jobs panel)

    def apply_settings(self, settings: Settings) -> None:
        """Preferences changed: the device applies from the next job; a new models folder at once."""
        self.service.set_device(settings.compute_device)
        if self.store is not None and self.models_dir_for is not None:
            self.store.models_dir = self.models_dir_for(settings)

    def shutdown(self) -> None:
        """Cancel what is queued, stop the worker (waits for a running task's next cancel check)."""
        self.service.shutdown(wait=True)
        self.runner.close()
