"""The bundle of AI services the composition root hands to the main window.

Built in `editor.app.build_services` (the only place that constructs the inference service, which
reaches torch lazily); the UI only holds it, so `editor.ui` never imports `editor.infer.service`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editor.core.settings import Settings
from editor.infer.store import ENV_MODELS_DIR, ModelStore, default_models_dir
from editor.ui.jobs import JobRunner

WARMUP_TASK = "warm_up"  # a no-op job: the service imports torch and sets threads before any task


def models_dir_for(settings: Settings) -> Path:
    """Where weights live: `LUCID_MODELS_DIR` (a session override) > Preferences > the platform default."""
    if os.environ.get(ENV_MODELS_DIR):
        return default_models_dir()
    if settings.models_dir:
        return Path(settings.models_dir).expanduser()
    return default_models_dir()


@dataclass
class Services:
    """`service` is an `editor.infer.service.InferenceService` (typed loosely: it is not imported here)."""

    service: Any
    runner: JobRunner
    store: ModelStore | None
    warm_up_job: Any = None  # the start-up warm-up Job, if one was submitted (hidden in the Jobs panel)

    def apply_settings(self, settings: Settings) -> None:
        """Preferences changed: the device applies from the next job; a new models folder at once."""
        self.service.set_device(settings.compute_device)
        if self.store is not None:
            self.store.models_dir = models_dir_for(settings)

    def shutdown(self) -> None:
        """Cancel what is queued, stop the worker (waits for a running task's next cancel check)."""
        self.service.shutdown(wait=True)
        self.runner.close()
