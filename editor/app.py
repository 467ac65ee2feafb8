"""Composition root of the desktop app: QApplication, the qasync loop, settings, the main window.

Nothing here imports torch: `build_services` builds the model store, the inference service (which
imports torch lazily, on its worker thread) and the job runner, and hands them to
`MainWindow(services=...)`. Keep this path fast (startup target ≤ 2 s): warm-ups (torch on the worker,
numba kernels for matting) start only after the window is shown, and never under pytest unless
`LUCID_WARMUP=1` asks for them (`LUCID_WARMUP=0` turns them off anywhere).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from editor import __version__


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lucid", description="Lucid photo editor.")
    parser.add_argument("files", nargs="*", type=Path, help="images or .ora projects to open")
    parser.add_argument("--self-test", action="store_true", help="check the installation and exit")
    parser.add_argument("--no-sample", action="store_true", help="start with an empty window")
    return parser.parse_args(list(argv))


WARMUP_IDLE_MS = 1500  # after the window is shown and this long without user input (see WhenIdle)


def _warm_up_task(request: Any, progress: Any, cancel: Any) -> Any:
    from editor.infer.api import Result

    return Result(info={"warm_up": True})


def resolve_task(name: str) -> Any:
    """The registry's tasks, plus the built-in warm-up."""
    from editor.ui.ai.services import WARMUP_TASK

    if name == WARMUP_TASK:
        return _warm_up_task
    from editor.infer.registry import get_task

    return get_task(name)


def models_dir_for(settings: Any) -> Path:
    """Where weights live: `LUCID_MODELS_DIR` (a session override) > Preferences > the platform default."""
    from editor.infer.store import ENV_MODELS_DIR, default_models_dir

    if os.environ.get(ENV_MODELS_DIR):
        return default_models_dir()
    if settings.models_dir:
        return Path(settings.models_dir).expanduser()
    return default_models_dir()


def build_services(settings: Any) -> Any:
    """The model store, the inference service and the job runner as one `Services` bundle.

    Does not import torch: the service imports it lazily on its worker thread at the first job.
    """
    from editor.infer.service import InferenceService
    from editor.infer.store import ModelStore
    from editor.ui.ai.services import Services
    from editor.ui.jobs import JobRunner

    store = ModelStore(models_dir_for(settings))
    service = InferenceService(store, device=settings.compute_device, task_resolver=resolve_task)
    return Services(service=service, runner=JobRunner(service), store=store, models_dir_for=models_dir_for,
                    defer_panels=True)


def warm_ups_wanted() -> set[str]:
    """Which warm-ups to run: `LUCID_WARMUP` = 1 (all), 0, or a comma list of "torch", "matting";
    none under pytest unless asked."""
    flag = os.environ.get("LUCID_WARMUP", "").strip().lower()
    if not flag:
        flag = "0" if "PYTEST_CURRENT_TEST" in os.environ else "1"
    if flag in ("0", "false", "no", "off"):
        return set()
    if flag in ("1", "true", "yes", "on"):
        return {"torch", "matting"}
    return {part.strip() for part in flag.split(",")} & {"torch", "matting"}


def start_warm_ups(services: Any, *, torch: bool = True, matting: bool = True) -> None:
    """Pay the one-off costs while the user looks at the window, not at their first AI job.

    torch: a tiny job makes the worker import it and set its threads (otherwise the first real job
    waits for that). Matting: `start_warm_up()` compiles pymatting's numba kernels into the per-user
    cache in a child process (no GIL contention with the UI); a thread here only starts it.
    """
    from editor.infer.api import Request
    from editor.ui.ai.services import WARMUP_TASK

    if torch:
        services.warm_up_job = services.runner.submit(Request(task=WARMUP_TASK, background=True))
    if matting:
        threading.Thread(target=_warm_up_matting, name="matting-warm-up", daemon=True).start()


def _warm_up_matting() -> None:
    try:
        from editor.infer.matting import start_warm_up

        start_warm_up()
    except Exception as exc:  # a warm-up must never take the app down; the tool then compiles on first use
        print(f"lucid: matting warm-up skipped: {exc}", file=sys.stderr)


def run_self_test() -> int:
    """`lucid --self-test`: the installation check (also reachable through `editor.cli`)."""
    from editor.selftest import main as self_test

    return self_test([])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        return run_self_test()

    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from editor.core.errors import LucidError
    from editor.core.settings import Settings, load_settings
    from editor.ui.icons import APP_ICON, SAMPLE_PHOTO
    from editor.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(["lucid"])
    app.setApplicationName("Lucid")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(str(APP_ICON)))

    settings_error: LucidError | None = None
    try:
        settings = load_settings()
    except LucidError as exc:  # a broken settings file must not stop the editor from starting
        settings, settings_error = Settings(), exc

    from editor.ui import autosave_wiring

    services = build_services(settings)
    window = MainWindow(settings, services=services,
                        on_settings_changed=lambda s: autosave_wiring.apply_settings(autosaver, s))
    autosaver = autosave_wiring.install(window, settings)
    window.show()
    warm = warm_ups_wanted()
    if warm:
        from editor.ui.ai.idle import WhenIdle

        window.warm_up_trigger = WhenIdle(
            lambda: start_warm_ups(services, torch="torch" in warm, matting="matting" in warm),
            WARMUP_IDLE_MS, window)
    if settings_error is not None:
        window.prompts.error(settings_error.message + " Using the defaults.", settings_error.detail)

    recovered = autosave_wiring.offer_recovery(window, autosaver)
    files = list(args.files)
    if not files and not recovered and not args.no_sample and SAMPLE_PHOTO.is_file():
        files = [SAMPLE_PHOTO]
    if files:
        QTimer.singleShot(0, lambda: window.open_paths(files))

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    app.aboutToQuit.connect(autosaver.shutdown)  # a clean quit: this session's recovery files go
    app.lastWindowClosed.connect(app.quit)
    try:
        with loop:
            loop.run_until_complete(closed.wait())
    finally:  # leave the QApplication as we found it (tests run main() more than once)
        app.aboutToQuit.disconnect(closed.set)
        app.aboutToQuit.disconnect(autosaver.shutdown)
        autosaver.shutdown(clean=False)  # (no-op after a clean quit) an exception keeps the files
        app.lastWindowClosed.disconnect(app.quit)
        asyncio.set_event_loop(None)
        services.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
